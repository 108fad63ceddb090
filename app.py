"""Loyalty Lens: the Streamlit entry point. Pages live in app_pages/, one file each.

Not `pages/`: Streamlit treats a folder named `pages` beside the entry script as a legacy multipage app
until this script has run once in the server's life, so a first visit straight to a page's link (a
bookmark, a shared URL) would skip this file, its navigation and its settings.
"""
import streamlit as st

st.set_page_config(page_title="Loyalty Lens", page_icon=":material/loyalty:", layout="wide")

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("app_pages/data.py", title="Data", icon=":material/upload_file:"),
]

st.navigation(PAGES).run()
