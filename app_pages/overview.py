"""Overview: what the store holds, and the first-start call to action."""
import streamlit as st

from loyalty import store_summary
from loyalty.ui import cached, offer_demo

st.title("Loyalty Lens")
summary = cached(store_summary.summary)

if summary["orders"]["records"] == 0:
    offer_demo(
        "The database holds no orders yet. Upload your orders export on the **Data** page "
        "(customer, date and amount are enough), or explore the product with the demo data set."
    )
    st.page_link("app_pages/data.py", label="Go to the Data page", icon=":material/upload_file:")
    st.stop()

st.caption("What the database holds now. The analytics pages build on these records.")
cols = st.columns(4)
for col, (kind, info) in zip(cols, summary.items()):
    col.metric(kind.capitalize(), f"{info['records']:,}")
    if info["first"]:
        col.caption(f"{info['first']:%d %b %Y} – {info['last']:%d %b %Y}")
    else:
        col.caption("none loaded")
orders = summary["orders"]
st.metric("Net revenue, all orders", f"{orders['revenue']:,.2f}")
st.caption(f"{orders['customers']:,} customers with at least one order.")
