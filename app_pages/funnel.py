"""Loyalty funnel: how far customers have come (prospect → first-time → repeat → client → advocate),
how they moved, and how cohorts hold up."""
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from loyalty.db import Call
from loyalty.metrics.cohorts import cohort_retention, revenue_retention
from loyalty.metrics.rfm import month_ends
from loyalty.metrics.stages import STAGES, funnel, stage_availability, stage_overview, stage_transitions
from loyalty.palette import STAGES as STAGE_COLOURS
from loyalty.ui import (MONEY, analytics_page, cached, cached_together, caption_missing, download_table, show_frame,
                        show_table)

period = analytics_page("Loyalty funnel")
# what the page shows first, computed side by side (the slowest first); the overview holds the counts, the
# history and the default movement from one pass
overview, revenue, cohorts, missing = cached_together(
    Call(stage_overview, period), Call(revenue_retention, period), Call(cohort_retention, period),
    Call(stage_availability))
table = funnel(overview.counts)
left, right = st.columns([3, 2])
with left:
    figure = go.Figure(go.Funnel(y=table["stage"], x=table["at_or_beyond"], textinfo="value+percent initial",
                                 marker=dict(color=[STAGE_COLOURS[s] for s in STAGES])))
    figure.update_layout(height=340, margin=dict(t=10, l=10))
    st.plotly_chart(figure, key="funnel")
    st.caption("How to read this: customers at or beyond each stage as of the as-of date, and their share of "
               "everyone known. Move each customer one step further.")
with right:
    shown = table.assign(conversion=table["conversion"].map(lambda v: "" if pd.isna(v) else f"{v:.1%}"))
    show_frame(shown, column_config={
        "customers": "In the stage", "at_or_beyond": "At or beyond",
        "conversion": st.column_config.TextColumn("Conversion",
                                                  help="At or beyond this stage ÷ at or beyond the one before")})
    download_table(table, "funnel", key="dl-funnel")
    caption_missing(missing, consequence=" — customers are placed by what is on record, so this stage may show "
                                         "fewer than it should")

st.subheader("Stages month by month")
history = overview.history
history["month"] = pd.to_datetime(history["month_end"]).dt.strftime("%b %Y")   # the bar of a month's last day
figure = px.bar(history, x="month", y="customers", color="stage", category_orders={"stage": STAGES},
                color_discrete_map=STAGE_COLOURS)
figure.update_layout(height=320, margin=dict(t=10), xaxis_title=None, yaxis_title="Customers", legend_title=None)
st.plotly_chart(figure, key="stage-history")
st.caption("How to read this: each bar splits the customers known at the end of a month by the stage they had "
           "reached by then.")

st.subheader("Stage movement")
ends = month_ends(period.as_of, 13)
cols = st.columns(2)
before = cols[0].selectbox("From month end", ends[:-1], index=0, key="move-from")
after = cols[1].selectbox("To month end", ends[1:], index=len(ends) - 2, key="move-to")
moves = (overview.moves if (before, after) == (overview.before, overview.after)
         else cached(stage_transitions, period, before=before, after=after))
if moves.empty:
    st.info("No customers known at these month ends.")
else:
    matrix = moves.pivot_table(index="stage_before", columns="stage_after", values="customers", fill_value=0)
    matrix = matrix.reindex(index=[s for s in ["Not yet known", *STAGES] if s in matrix.index],
                            columns=[s for s in STAGES if s in matrix.columns])
    show_frame(matrix, hide_index=False, key="transitions", column_config={"_index": "From ↓ / to →"})
    download_table(moves, "stage_movement", key="dl-moves")
    st.caption("How to read this: rows are the stage at the first month end, columns the stage at the second; "
               "the diagonal stayed put, cells right of it moved forward.")

st.subheader("Cohort retention")
cols = st.columns(2)
cols[0].metric("Net revenue retention", "—" if revenue.total["nrr"] is None else f"{revenue.total['nrr']:.1%}",
               help="This period's revenue from the previous period's customers ÷ their revenue then.")
cols[1].metric("Gross revenue retention", "—" if revenue.total["grr"] is None else f"{revenue.total['grr']:.1%}",
               help="The same, each customer capped at its previous revenue: growth does not hide losses.")
if cohorts.empty:
    st.info("No cohorts in the last 24 months.")
else:
    heat = cohorts.pivot_table(index="cohort", columns="months_since", values="customer_retention")
    figure = px.imshow(heat, color_continuous_scale="Blues", aspect="auto", zmin=0, zmax=1,
                       labels=dict(x="Months since the first order", y="Cohort (month of first order)", color="Active"))
    figure.update_yaxes(tickformat="%b %Y")
    figure.update_layout(height=460, margin=dict(t=10))
    st.plotly_chart(figure, key="cohorts")
    download_table(cohorts, "cohorts", key="dl-cohorts")
    st.caption("How to read this: each row is the customers who first ordered in that month; each cell the share "
               "of them ordering again so many months later. Darker is better.")

st.subheader("Revenue retention by cohort")
if revenue.by_cohort.empty:
    st.info("Nobody ordered in the previous period, so there is no revenue to retain.")
else:
    show_table(revenue.by_cohort, "revenue_retention_by_cohort", key="nrr-cohorts", column_config={
        "cohort": st.column_config.DateColumn("Cohort", format="MMM YYYY", help="Month of the first order"),
        "customers": st.column_config.NumberColumn("Customers", help="Active in the previous period"),
        "previous_revenue": st.column_config.NumberColumn("Previous revenue", format=MONEY),
        "retained_revenue": st.column_config.NumberColumn("Revenue now", format=MONEY),
        "capped_revenue": st.column_config.NumberColumn("Capped", format=MONEY,
                                                        help="Revenue now, each customer capped at its previous revenue"),
        "nrr": st.column_config.NumberColumn("NRR", format="percent"),
        "grr": st.column_config.NumberColumn("GRR", format="percent")})
    st.caption("How to read this: the previous period's customers grouped by the month they first ordered in; "
               "NRR above 100% means that cohort now spends more than it did, GRR shows how much of its "
               "previous revenue it kept.")
