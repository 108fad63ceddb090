"""Loyalty Lens: the Streamlit entry point. Pages live in pages/, one file each."""
import streamlit as st

st.set_page_config(page_title="Loyalty Lens", page_icon=":material/loyalty:", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/upload_file:"),
]

st.navigation(PAGES).run()
