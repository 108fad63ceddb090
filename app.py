"""Loyalty Lens: the Streamlit entry point. Pages live in app_pages/, one file each.

Not `pages/`: Streamlit treats a folder named `pages` beside the entry script as a legacy multipage app
until this script has run once in the server's life, so a first visit straight to a page's link (a
bookmark, a shared URL) would skip this file, its navigation and its settings.

Sign-in comes first: with an `[auth]` section in `.streamlit/secrets.toml` nobody sees any page before
signing in (`loyalty.ui.signed_in_user`); without it the app runs in local single-user mode.

The sidebar filters are drawn here, before the page runs, so they survive page changes and live in the
URL; the page reads the resulting period with `loyalty.ui.view_period()`.
"""
import streamlit as st

from loyalty.ui import end_run, filter_sidebar, signed_in_user, start_run

st.set_page_config(page_title="Loyalty Lens", page_icon=":material/loyalty:", layout="wide")
PAGES = [
    st.Page("app_pages/scorecard.py", title="Executive scorecard", icon=":material/dashboard:", default=True),
    st.Page("app_pages/super_customers.py", title="Super customers", icon=":material/star:"),
    st.Page("app_pages/funnel.py", title="Loyalty funnel", icon=":material/filter_alt:"),
    st.Page("app_pages/responsiveness.py", title="Responsiveness", icon=":material/support_agent:"),
    st.Page("app_pages/at_risk.py", title="At-risk customers", icon=":material/warning:"),
    st.Page("app_pages/customer_360.py", title="Customer 360", icon=":material/person:"),
    st.Page("app_pages/predictions.py", title="Predictions", icon=":material/insights:"),
    st.Page("app_pages/data.py", title="Data", icon=":material/upload_file:"),
    st.Page("app_pages/settings.py", title="Settings", icon=":material/settings:"),
]

start_run()
try:
    signed_in_user()
    navigation = st.navigation(PAGES)
    st.session_state["view_period"] = filter_sidebar()
    navigation.run()
finally:
    end_run()  # the run's reading connection: closed however the run ends (st.stop, a rerun, an error)
