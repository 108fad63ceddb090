"""Responsiveness: how fast and how well customers are answered, and what bad experiences cost."""
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from loyalty.db import Call
from loyalty.formatting import fmt
from loyalty.metrics.experience import bad_experiences_unavailable, churn_by_experience
from loyalty.metrics.responsiveness import (response_time_distribution, responsiveness_by_channel,
                                            responsiveness_overview)
from loyalty.metrics.scope import Unavailable
from loyalty.palette import SERIES
from loyalty.ui import analytics_page, cached, cached_together, download_table, show_frame

period = analytics_page("Responsiveness")
unknown = cached(bad_experiences_unavailable)   # then nobody can be told apart by bad experiences
overview, channels, spread, churn = cached_together(   # side by side; churn skipped when unknown
    Call(responsiveness_overview, period), Call(responsiveness_by_channel, period),
    Call(response_time_distribution, period), None if unknown else Call(churn_by_experience, period))
figures, monthly = overview.figures, overview.monthly
if figures["tickets"] == 0 and isinstance(figures["first_response_median_hours"], Unavailable):
    st.info("No support tickets yet: upload a help-desk export (kind: tickets) on the Data page to see response "
            "times, SLA shares, complaints and backlog.")
tiles = [("Median first response", figures["first_response_median_hours"], "hours"),
         ("First response p90", figures["first_response_p90_hours"], "hours"),
         ("First responses within SLA", figures["first_response_sla_share"], "share"),
         ("Median resolution", figures["resolution_median_hours"], "hours"),
         ("Resolution p90", figures["resolution_p90_hours"], "hours"),
         ("Resolved within SLA", figures["resolution_sla_share"], "share"),
         ("Complaints / 100 customers", figures["complaints_per_100"], "per100"),
         ("Open backlog", figures["open_backlog"], "count"),
         ("Reopen rate", figures["reopen_rate"], "share"),
         ("CSAT (mean)", figures["csat_mean"], "score"),
         ("CSAT 4–5", figures["csat_share_4_5"], "share"),
         ("NPS", figures["nps"], "score")]
columns = st.columns(4)  # four a row: the longest label, "Complaints / 100 customers", fits
for i, (label, value, unit) in enumerate(tiles):
    columns[i % 4].metric(label, fmt(value, unit), border=True,
                          help=str(value) if isinstance(value, Unavailable) else None)

st.subheader("Response and resolution times")
long = spread.melt(id_vars=["position", "bucket"], value_vars=["first_response", "resolution"],
                   var_name="measure", value_name="tickets")
figure = px.bar(long, x="bucket", y="tickets", color="measure", barmode="group",
                color_discrete_map={"first_response": SERIES["revenue"], "resolution": SERIES["active"]})
figure.update_layout(height=320, margin=dict(t=10), xaxis_title=None, legend_title=None)
st.plotly_chart(figure, key="time-distribution")
st.caption("How to read this: tickets opened in the period by how long the first answer and the resolution took.")

if not monthly.empty:
    st.subheader("Month by month")
    left, middle, right = st.columns(3)
    shares = monthly.melt(id_vars="month", value_vars=["first_response_sla_share", "resolution_sla_share"],
                          var_name="SLA", value_name="share")
    shares["SLA"] = shares["SLA"].map({"first_response_sla_share": "first response", "resolution_sla_share": "resolution"})
    figure = px.line(shares, x="month", y="share", color="SLA", markers=True,
                     color_discrete_sequence=[SERIES["revenue"], SERIES["active"]])
    figure.update_layout(height=300, margin=dict(t=10), yaxis_tickformat=".0%", xaxis_title=None,
                         yaxis_title="within SLA", legend=dict(orientation="h", y=-0.2, title=None))
    left.plotly_chart(figure, key="sla-trend")
    left.caption("How to read this: the share of tickets answered and resolved within the SLA, by month opened.")
    figure = go.Figure()
    figure.add_scatter(x=monthly["month"], y=monthly["nps"], name="NPS", mode="lines+markers",
                       line_color=SERIES["nps"], hovertemplate="%{x|%b %Y}: NPS %{y:.0f}<extra></extra>")
    figure.add_scatter(x=monthly["month"], y=monthly["csat_mean"], name="CSAT (mean, 1–5)", yaxis="y2",
                       mode="lines+markers", line_color=SERIES["csat"],
                       hovertemplate="%{x|%b %Y}: CSAT %{y:.2f}<extra></extra>")
    figure.update_layout(height=300, margin=dict(t=10), yaxis=dict(title="NPS", range=[-100, 100]),
                         yaxis2=dict(title="CSAT", overlaying="y", side="right", range=[1, 5]),
                         legend=dict(orientation="h", y=-0.2))
    middle.plotly_chart(figure, key="satisfaction-trend")
    middle.caption("How to read this: NPS (% promoters − % detractors, left axis) and the mean CSAT rating "
                   "(right axis) of the answers given each month.")
    figure = px.bar(monthly, x="month", y="complaints", color_discrete_sequence=[SERIES["complaints"]])
    figure.update_layout(height=300, margin=dict(t=10), xaxis_title=None, yaxis_title="complaints")
    right.plotly_chart(figure, key="complaints-trend")
    right.caption("How to read this: complaints opened each month (the open backlog above counts every ticket "
                  "still unresolved at the as-of date).")
    download_table(monthly, "responsiveness_by_month", key="dl-monthly")

st.subheader("SLA by channel")
show_frame(channels, column_config={
    "first_response_median_hours": st.column_config.NumberColumn("Median first response (h)", format="%.1f"),
    "first_response_sla_share": st.column_config.NumberColumn("First response within SLA", format="percent"),
    "resolution_sla_share": st.column_config.NumberColumn("Resolved within SLA", format="percent")})
download_table(channels, "sla_by_channel", key="dl-channels")

st.subheader("Do bad experiences drive customers away?")
if unknown:
    st.info(unknown.sentence())
elif churn.empty:
    st.info("No customers were active in the previous period.")
else:
    show_frame(churn, column_config={
        "churn_rate": st.column_config.NumberColumn("Did not order again", format="percent")})
    download_table(churn, "churn_by_bad_experiences", key="dl-churn")
    rates = dict(zip(churn["customers_with"], churn["churn_rate"]))
    bad, rest = rates.get("2 or more bad experiences"), rates.get("fewer than 2")
    if bad is not None and rest:
        st.caption(f"How to read this: of the customers active in the previous period, {bad:.0%} of those with two "
                   f"or more bad experiences in the year to its end did not order in this period, against {rest:.0%} "
                   f"of the others ({bad / rest:.1f}×).")
