"""At-risk customers: every disloyalty signal and the bad-experience rule, with reasons, by revenue at stake."""
import pandas as pd
import streamlit as st

from loyalty.formatting import joined_texts
from loyalty.metrics.signals import (AtRiskOverview, at_risk_customers, at_risk_overview, at_risk_reasons,
                                     signal_availability)
from loyalty.ui import TABLE_ROWS, analytics_page, cached, caption_missing, page_start, show_rows

LABELS = {"bad_experiences": "2+ bad experiences", "overdue": "Overdue", "declining_spend": "Declining spend",
          "routine_only": "Routine only", "no_outreach_90d": "No outreach in 90 days",
          "discount_dependent": "Discount-dependent", "single_contact": "Single-contact account",
          "price_complaints": "Price complaints"}

period = analytics_page("At-risk customers")

available = cached(signal_availability)   # per reason, what is missing for it
caption_missing(available, LABELS)
options = list(at_risk_reasons(available))


def page_of(reasons: list[str], start: int) -> AtRiskOverview:
    """The counts of every combination of reasons, and a page of the customers at risk for any of `reasons`
    (one column per reason) from row `start`."""
    return cached(at_risk_overview, period, tuple(reasons), offset=start, limit=TABLE_ROWS)


def table_key(reasons: list[str]) -> str:
    """The list's key, one per choice of reasons: a new choice starts at its first page."""
    return "-".join(["risk", *reasons])


before = st.session_state.get("risk-signals", options)
start = page_start(table_key(before))
fetched = page_of(before, start)   # the choice and page of the last run (the first page of every reason at first)
combos = fetched.counts            # one row a combination of reasons
counts = {name: int(combos.loc[combos[name], "customers"].sum()) for name in options}
chosen = st.multiselect("Show customers with any of", options, default=options, key="risk-signals",
                        format_func=lambda s: f"{LABELS[s]} ({counts[s]:,})")
total = int(combos.loc[combos[chosen].any(axis=1), "customers"].sum()) if chosen else 0


def view(part: pd.DataFrame) -> pd.DataFrame:
    """The rows shown (the reasons of the chosen signals joined), built only for a page or a download."""
    return pd.DataFrame({"customer_id": part["customer_id"], "revenue at stake (12 months)": part["revenue_12m"],
                         "signals": part[chosen].notna().sum(axis=1), "why": joined_texts(part, chosen)})


def page(rows: slice) -> pd.DataFrame:
    """The page shown: the one fetched above when the choice and the page are still the last run's."""
    same = chosen == before and rows.start == start
    return view((fetched if same else page_of(chosen, rows.start)).rows)


st.caption(f"{total:,} customers, largest revenue at stake first. Select a row to open the customer's 360° view.")
picked = show_rows(total, page, lambda: view(cached(at_risk_customers, period, tuple(chosen))), "at_risk_customers",
                   key=table_key(chosen), selectable=True,
                   column_config={"revenue at stake (12 months)": st.column_config.NumberColumn(format="%,.0f")})
st.caption("How to read this: each signal is a reason to call the customer; 'why' gives the facts behind it. "
           "About 42% of customers stop buying after two bad experiences, and only about 1 in 10 complains.")
if picked is not None:
    st.session_state["customer"] = picked["customer_id"]
    st.switch_page("app_pages/customer_360.py")
