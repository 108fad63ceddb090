"""Customer 360: one customer's whole history — orders, tickets, surveys, stage, segment, flags, referrals."""
import plotly.express as px
import streamlit as st

from loyalty.db import Call
from loyalty.formatting import compact, fmt, team_members
from loyalty.metrics.customer import (customer_ids, customer_monthly_revenue, customer_order_totals, customer_orders,
                                      customer_records, customer_summary)
from loyalty.metrics.scope import Unavailable
from loyalty.models.value import customer_value, value_of
from loyalty.palette import SERIES
from loyalty.ui import TABLE_ROWS, analytics_page, cached, cached_together, download_table, show_rows, show_table

period = analytics_page("Customer 360")

search = st.text_input("Find a customer (id or name)", key="customer-search")
candidates = cached(customer_ids, period, search=search)
current = st.session_state.get("customer")
if current and current not in candidates:
    candidates = [*candidates, current]   # the first stays the default, so the URL names any other choice
if not candidates:
    st.info("No customer matches the search and filters.")
    st.stop()
customer = st.selectbox("Customer", candidates, key="customer", bind="query-params")
summary, records, totals, by_month = cached_together(   # side by side, the slowest first
    Call(customer_summary, period, customer), Call(customer_records, customer), Call(customer_order_totals, customer),
    Call(customer_monthly_revenue, customer))   # one bar a month: at most 12 a year of history
info = records["customer"]

name = info.iloc[0]["name"] if not info.empty and info.iloc[0]["name"] else customer
st.header(str(name))
cols = st.columns([1, 1, 1, 2, 1])
cols[0].metric("Revenue to date", compact(totals["revenue"]))
cols[1].metric("Orders", f"{totals['orders']:,}")
cols[2].metric("Stage", summary["stage"] or "—")
cols[3].metric("Segment", summary["segment"] or "—")
bad = summary["bad_experiences"]
cols[4].metric("Bad experiences", fmt(bad, "count"),
               help=f"{bad}." if isinstance(bad, Unavailable) else "In the 12 months up to the as-of date.")
forecast = cached(customer_value, period)
value = value_of(forecast, customer)
cols = st.columns([2, 1, 1, 1])  # the first label is the longest
cols[0].metric("Expected purchases, next 12 months", "—" if value is None else f"{value['expected_purchases_12m']:,.1f}")
cols[1].metric("12-month CLV", "—" if value is None else compact(value["clv_12m"]))
cols[2].metric("P(alive)", "—" if value is None or value["p_alive"] is None else f"{value['p_alive']:.0%}",
               help="The probability the customer has not quietly left (BG/NBD); the run-rate rule makes no such claim.")
if value is not None and value["method"] != forecast.method:
    cols[3].caption(f"For this customer: {value['method']}.")
st.caption(forecast.caption())
if summary["segment_reason"]:
    st.markdown(f"**Why this segment:** {summary['segment_reason']}")
if summary["bad_reason"]:
    st.markdown(f"**Bad experiences:** {summary['bad_reason']}")
if summary["signals"]:
    st.warning(f"**Signals:** {summary['signals']}")
if not info.empty:
    row = info.iloc[0]
    known = row["created_at"] is not None and str(row["created_at"]) != "NaT"
    facts = [f"Region: {row['region'] or '—'}", f"Industry: {row['industry'] or '—'}",
             f"Prospect since: {row['created_at']:%d %b %Y}" if known else "Prospect since: —",
             f"Account team: {team_members(row['account_team'])}",
             f"Maintenance plan: {'yes' if row['on_maintenance_plan'] else 'no'}",
             f"Reference-willing: {'yes' if row['reference_willing'] else 'no'}",
             f"Referred by: {row['referred_by'] or '—'}"]
    st.caption(" · ".join(facts))

history = summary["history"]   # the stage at each of the last 12 month ends
st.subheader("Stage, month by month")
st.dataframe(history.set_index("month_end").T.rename(index={"stage": "Stage"}), key="stage-strip")

st.subheader("Orders")
if totals["orders"]:
    figure = px.bar(by_month, x="month", y="revenue", color_discrete_sequence=[SERIES["revenue"]])
    figure.update_layout(height=260, margin=dict(t=10), xaxis_title=None, yaxis_title="Revenue")
    st.plotly_chart(figure, key="customer-orders")
    st.caption("How to read this: the customer's net revenue per calendar month; gaps are months without an order.")
show_rows(totals["orders"], lambda rows: cached(customer_orders, customer, offset=rows.start, limit=TABLE_ROWS),
          lambda: cached(customer_orders, customer), f"{customer}_orders", key="customer-orders-table")
left, right = st.columns(2)
with left:
    st.subheader("Tickets")
    show_table(records["tickets"], f"{customer}_tickets", key="customer-tickets")
with right:
    st.subheader("Surveys")
    show_table(records["surveys"], f"{customer}_surveys", key="customer-surveys")
st.subheader("Customers they referred")
show_table(records["referred"], f"{customer}_referrals", key="customer-referrals")
download_table(history, f"{customer}_stage_history", "Download the stage history", key="dl-stage-history")
