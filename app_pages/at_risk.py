"""At-risk customers: every disloyalty signal and the bad-experience rule, with reasons, by revenue at stake."""
import pandas as pd
import streamlit as st

from loyalty.formatting import joined_texts
from loyalty.metrics.experience import bad_experiences
from loyalty.metrics.signals import SIGNALS, customer_signals, signal_availability
from loyalty.ui import analytics_page, cached, show_table

LABELS = {"bad_experiences": "2+ bad experiences", "overdue": "Overdue", "declining_spend": "Declining spend",
          "routine_only": "Routine only", "no_outreach_90d": "No outreach in 90 days",
          "discount_dependent": "Discount-dependent", "single_contact": "Single-contact account",
          "price_complaints": "Price complaints"}

period = analytics_page("At-risk customers")

signals = cached(customer_signals, period)
risky = cached(bad_experiences, period, at_risk_only=True)[["customer_id", "revenue_12m", "bad_experiences", "reason"]]
table = signals.merge(risky.rename(columns={"reason": "bad_experience_reason"}), on=["customer_id"], how="outer",
                      suffixes=("", "_bad"))
table["revenue_12m"] = table["revenue_12m"].fillna(table.pop("revenue_12m_bad"))
table["bad_experiences"] = table["bad_experience_reason"].where(table["bad_experiences"] >= 2)
table = table.sort_values(["revenue_12m", "customer_id"], ascending=[False, True], ignore_index=True)

available = cached(signal_availability)
for name, missing in available.items():
    if missing is not None:
        st.caption(f"{LABELS[name]}: {missing}.")
options = ["bad_experiences"] + [s for s in SIGNALS if available[s] is None]
counts = {name: int(table[name].notna().sum()) for name in options}
chosen = st.multiselect("Show customers with any of", options, default=options, key="risk-signals",
                        format_func=lambda s: f"{LABELS[s]} ({counts[s]:,})")
shown = table[table[chosen].notna().any(axis=1)] if chosen else table.iloc[0:0]
view = pd.DataFrame({"customer_id": shown["customer_id"], "revenue at stake (12 months)": shown["revenue_12m"],
                     "signals": shown[chosen].notna().sum(axis=1), "why": joined_texts(shown, chosen)})
st.caption(f"{len(view):,} customers, largest revenue at stake first. Select a row to open the customer's 360° view.")
picked = show_table(view, "at_risk_customers", key="risk", selectable=True,
                    column_config={"revenue at stake (12 months)": st.column_config.NumberColumn(format="%,.0f")})
st.caption("How to read this: each signal is a reason to call the customer; 'why' gives the facts behind it. "
           "About 42% of customers stop buying after two bad experiences, and only about 1 in 10 complains.")
if picked is not None:
    st.session_state["customer"] = picked["customer_id"]
    st.switch_page("app_pages/customer_360.py")
