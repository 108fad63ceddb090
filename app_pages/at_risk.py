"""At-risk customers: every disloyalty signal and the bad-experience rule, with reasons, by revenue at stake."""
import pandas as pd
import streamlit as st

from loyalty.db import Call
from loyalty.formatting import joined_texts
from loyalty.metrics.signals import SIGNALS, at_risk_customers, signal_availability
from loyalty.ui import analytics_page, cached_together, caption_missing, show_rows

LABELS = {"bad_experiences": "2+ bad experiences", "overdue": "Overdue", "declining_spend": "Declining spend",
          "routine_only": "Routine only", "no_outreach_90d": "No outreach in 90 days",
          "discount_dependent": "Discount-dependent", "single_contact": "Single-contact account",
          "price_complaints": "Price complaints"}

period = analytics_page("At-risk customers")

table, available = cached_together(   # one row per customer at risk, a reason column per signal; what is missing
    Call(at_risk_customers, period), Call(signal_availability))
caption_missing(available, LABELS)
options = [s for s in ["bad_experiences", *SIGNALS] if available[s] is None]
counts = {name: int(table[name].notna().sum()) for name in options}
chosen = st.multiselect("Show customers with any of", options, default=options, key="risk-signals",
                        format_func=lambda s: f"{LABELS[s]} ({counts[s]:,})")
shown = table[table[chosen].notna().any(axis=1)] if chosen else table.iloc[0:0]


def view(rows: slice) -> pd.DataFrame:
    """The rows shown (the reasons of the chosen signals joined), built only for a page or a download."""
    part = shown.iloc[rows]
    return pd.DataFrame({"customer_id": part["customer_id"], "revenue at stake (12 months)": part["revenue_12m"],
                         "signals": part[chosen].notna().sum(axis=1), "why": joined_texts(part, chosen)})


st.caption(f"{len(shown):,} customers, largest revenue at stake first. Select a row to open the customer's 360° view.")
picked = show_rows(len(shown), view, lambda: view(slice(None)), "at_risk_customers", key="risk", selectable=True,
                   column_config={"revenue at stake (12 months)": st.column_config.NumberColumn(format="%,.0f")})
st.caption("How to read this: each signal is a reason to call the customer; 'why' gives the facts behind it. "
           "About 42% of customers stop buying after two bad experiences, and only about 1 in 10 complains.")
if picked is not None:
    st.session_state["customer"] = picked["customer_id"]
    st.switch_page("app_pages/customer_360.py")
