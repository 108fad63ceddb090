"""Super customers: RFM segments, the 80/20 curve, the customers who meet the super-customer criteria,
circumstantial loyalty and account-team coverage."""
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from loyalty.db import Call
from loyalty.formatting import compact
from loyalty.metrics.accounts import account_team_coverage, circumstantial_availability, circumstantial_loyalty
from loyalty.metrics.concentration import revenue_concentration
from loyalty.metrics.rfm import rfm_customers, segment_movement, segment_overview
from loyalty.metrics.super_customers import super_customer_availability, super_customers
from loyalty.models.value import customer_value, with_value
from loyalty.palette import SERIES, STATUS, segment_colour, text_colour
from loyalty.ui import (analytics_page, cached, cached_together, caption_missing, download_table, show_frame, show_rows,
                        show_table)

CIRCUMSTANCES = {"discount_dependent": "discount-dependent", "single_product": "single-product"}

period = analytics_page("Super customers")
# what the page shows before anything is picked, computed side by side (the slowest first)
supers, segments, concentration, coverage, flags, supers_missing, circumstances_missing = cached_together(
    Call(super_customers, period), Call(segment_overview, period), Call(revenue_concentration, period),
    Call(account_team_coverage, period), Call(circumstantial_loyalty, period), Call(super_customer_availability),
    Call(circumstantial_availability))

st.subheader("RFM segments")
grid = segments.grid   # the grid and the segment table come from one scoring
figure = go.Figure()
for segment, cells in grid.groupby("segment", sort=False):
    figure.add_scatter(
        x=cells["f"], y=cells["r"], mode="markers+text", name=segment,
        marker=dict(size=(cells["customers"] ** 0.5) * 4 + 6, color=segment_colour(segment), line=dict(color="#333", width=0.5)),
        text=cells["customers"].map("{:,}".format), textposition="middle center",
        textfont=dict(size=11, color=text_colour(segment_colour(segment))),
        customdata=cells[["customers", "revenue"]].to_numpy(),
        hovertemplate=f"{segment}<br>R %{{y}}, F %{{x}}<br>%{{customdata[0]:,}} customers<br>revenue %{{customdata[1]:,.0f}}<extra></extra>")
figure.update_layout(xaxis=dict(title="F score (orders)", dtick=1, range=[0.5, 5.5]),
                     yaxis=dict(title="R score (recency)", dtick=1, range=[0.5, 5.5]), height=460,
                     legend=dict(orientation="v"), margin=dict(t=10))
st.plotly_chart(figure, key="rfm-grid")
st.caption("How to read this: each bubble is one (R, F) cell, sized by its customers (the number inside) and "
           "coloured by its segment. Top right are your Champions; bottom right the ones you can't lose.")

summary = segments.summary
st.caption("Select a segment to see its customers.")
picked = show_frame(summary, on_select="rerun", selection_mode="single-row", key="segment-table",
                    column_config={"revenue": st.column_config.NumberColumn("Revenue to date", format="%,.0f")})
download_table(summary, "segments", key="dl-segments")
rows = picked.selection.rows if picked and picked.selection else []
if rows:
    segment = summary.iloc[rows[0]]["segment"]
    members = cached(rfm_customers, period, segment=segment)
    st.markdown(f"**{segment}**: {len(members):,} customers")
    show_table(members, f"segment_{segment}", key="segment-members")

st.subheader("Segment movement")
st.caption("How customers moved between segments from one month end to the next, over the last 12 months: it "
           "scores every customer at 13 month ends, which takes a few seconds on a store of millions of orders.")
if st.toggle("Show segment movement", key="show-migration"):
    movement = cached(segment_movement, period)   # moves and new / lost Champions from one scoring
    champions = movement.champions
    months = [f"{d:%b %Y}" for d in champions["month_end"]]   # one bar per month end, named by its month
    figure = go.Figure()
    figure.add_bar(x=months, y=champions["new_champions"], name="New Champions",
                   marker_color=STATUS["on target"][0], hovertemplate="end of %{x}: %{y:,} new<extra></extra>")
    figure.add_bar(x=months, y=-champions["lost_champions"], name="Lost Champions",
                   marker_color=STATUS["off"][0], customdata=champions["lost_champions"],
                   hovertemplate="end of %{x}: %{customdata:,} lost<extra></extra>")
    figure.update_layout(barmode="relative", yaxis=dict(title="Customers", tickformat=",.0f"),
                         legend=dict(orientation="h", y=1.1), height=320, margin=dict(t=30, b=10))
    st.plotly_chart(figure, key="champions-movement")
    st.caption("How to read this: above the line the customers who became Champions at that month end, below "
               "it those who stopped being Champions.")
    migration = movement.moves
    month_end = st.selectbox("Month end", sorted(migration["month_end"].unique(), reverse=True),
                             format_func=lambda d: f"{d:%d %b %Y}", key="migration-month")
    moves = migration[(migration["month_end"] == month_end) & (migration["segment_before"] != migration["segment"])]
    show_frame(moves.sort_values("customers", ascending=False)[["segment_before", "segment", "customers"]],
               key="migration-moves", column_config={"segment_before": "From (month end before)", "segment": "To"})
    download_table(migration, "segment_movement", key="dl-migration")
    st.caption("How to read this: the customers who changed segment at the chosen month end, largest moves first "
               "('New': no order before); the download holds every month, those who stayed put included.")

st.subheader("The 80/20 rule")
share, curve = concentration.top20_share, concentration.curve
if share is None:
    st.info("No revenue in this period.")
else:
    st.metric("Share of period revenue from the top 20% of customers", f"{share:.1%}")
    figure = px.area(curve, x="customer_share", y="revenue_share", color_discrete_sequence=[SERIES["revenue"]])
    figure.add_vline(x=0.2, line_dash="dash", line_color="#999")
    figure.update_layout(xaxis=dict(title="Share of customers (largest first)", tickformat=".0%"),
                         yaxis=dict(title="Share of revenue", tickformat=".0%"), height=320, margin=dict(t=10))
    st.plotly_chart(figure, key="pareto")
    st.caption("How to read this: the curve climbs steeply when a few customers bring most of the revenue; "
               "the dashed line marks the top 20% of customers.")

st.subheader("Super customers")
st.caption(f"{len(supers):,} customers meet the threshold of the four criteria: regular (orders in 3 of the last "
           "4 quarters), large (top fifth by revenue or quantity), long-standing (top fifth by tenure), brings others "
           "(referrals or willing to be a reference).")
caption_missing(supers_missing, {"bringing_others": "Brings others"},
                "; the criteria met count the three known ones")
forecast = cached(customer_value, period)
listed = supers[["customer_id", "meets", "criteria_met", "revenue", "orders", "tenure_days", "referrals"]]
show_rows(len(listed), lambda rows: with_value(listed.iloc[rows], forecast), lambda: with_value(listed, forecast),
          "super_customers", key="supers",
          column_config={"revenue": st.column_config.NumberColumn("Revenue to date", format="%,.0f")})
st.caption(f"Expected purchases and value over the next 12 months: {forecast.caption()}")

left, right = st.columns(2)
with left:
    st.subheader("Loyal to a circumstance")
    judged = [f"{int(flags[flag].sum()):,} {label}" for flag, label in CIRCUMSTANCES.items()
              if circumstances_missing[flag] is None]
    caption_missing(circumstances_missing,
                    {flag: f"{label.capitalize()} customers" for flag, label in CIRCUMSTANCES.items()})
    if judged:
        st.caption(f"{' and '.join(judged)} customers over the last 12 months: their loyalty may belong to a price or "
                   "a product, not to you.")
        show_table(flags, "circumstantial_loyalty", key="circumstantial")
with right:
    st.subheader("Account-team coverage")
    show_frame(coverage, column_config={
        "revenue": st.column_config.NumberColumn("Revenue to date", format="%,.0f"),
        "revenue_share": st.column_config.NumberColumn("Share of revenue", format="percent")})
    download_table(coverage, "account_team_coverage", key="dl-coverage")
    one = coverage.loc[coverage["account_team"] == "1 rep", "revenue_share"]
    if not one.empty:
        st.caption(f"How to read this: {one.iloc[0]:.0%} of revenue sits with accounts that depend on a single rep "
                   f"({compact(float(coverage.loc[coverage['account_team'] == '1 rep', 'revenue'].iloc[0]))}); "
                   "relationships held by one person leave with that person.")
