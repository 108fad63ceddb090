"""Executive scorecard: are we keeping our customers? KPIs against targets, trend, movers, risks."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from loyalty.briefing import briefing_html, briefing_pdf, build_briefing
from loyalty.formatting import fmt, fmt_delta
from loyalty.metrics.scorecard import monthly_periods
from loyalty.palette import SERIES, STATUS
from loyalty.ui import analytics_page, cached, download_table, show_frame, show_table

period = analytics_page("Executive scorecard")
briefing = cached(build_briefing, period)   # the scorecard and what the briefing adds to it
cards = briefing.cards

TILES_PER_ROW = 4   # five a row cut labels such as 'Reference-willing customers' at 1400 px
columns = st.columns(TILES_PER_ROW)
for i, card in enumerate(cards):
    colour, symbol, badge = STATUS[card["status"]]
    target = "no target set" if card["target"] is None else f"target {fmt(card['target'], card['unit'])}"
    with columns[i % TILES_PER_ROW]:
        st.metric(
            card["label"], fmt(card["value"], card["unit"]), fmt_delta(card["delta"], card["unit"]),
            delta_color="normal" if card["higher_is_better"] else "inverse", border=True, height=200,
            chart_data=[v for v in card["trend"] if v is not None] or None, chart_type="line",
            help=f"{target}; previous period {fmt(card['previous'], card['unit'])}. "
                 + (str(card["value"]) if card["status"] == "no data" and card["value"] is not None else ""),
        )
        st.markdown(f":{badge}-badge[{symbol} {card['status']}] <small>{target}</small>", unsafe_allow_html=True)

table = pd.DataFrame([{"KPI": c["label"], "value": fmt(c["value"], c["unit"]), "target": fmt(c["target"], c["unit"]),
                       "previous": fmt(c["previous"], c["unit"]), "change": fmt_delta(c["delta"], c["unit"]),
                       "status": c["status"]} for c in cards])
buttons = st.columns([2, 1, 1, 1])   # wide enough for "Briefing as HTML" whole
with buttons[0]:
    download_table(table, "scorecard", "Scorecard", key="dl-scorecard")
buttons[1].download_button("Briefing as PDF", lambda: briefing_pdf(briefing), file_name="loyalty_briefing.pdf",
                           mime="application/pdf", key="dl-briefing-pdf", on_click="ignore",
                           icon=":material/picture_as_pdf:")
buttons[2].download_button("Briefing as HTML", lambda: briefing_html(briefing), file_name="loyalty_briefing.html",
                           mime="text/html", key="dl-briefing-html", on_click="ignore",
                           icon=":material/description:")
st.caption("How to read this: each tile shows the KPI for the period, its change against the previous period "
           "(green when it moves the right way) and its last 12 months as a line; the badge compares it with its "
           "target (✓ on target, ≈ within 10%, ✗ off). Targets are edited on Settings.")

st.subheader("Revenue and active customers, month by month")
months = [p.start for p in monthly_periods(period)]
by_name = {c["name"]: c for c in cards}
figure = go.Figure()
figure.add_bar(x=months, y=by_name["revenue"]["trend"], name="Revenue", marker_color=SERIES["revenue"],
               hovertemplate="%{x|%b %Y}: %{y:,.0f}<extra>Revenue</extra>")
figure.add_scatter(x=months, y=by_name["active_customers"]["trend"], name="Active customers", yaxis="y2",
                   mode="lines+markers", line_color=SERIES["active"],
                   hovertemplate="%{x|%b %Y}: %{y:,.0f}<extra>Active customers</extra>")
few = max((v or 0 for v in by_name["active_customers"]["trend"]), default=0) <= 5  # else ticks 0.2, 0.4… show as 0, 0, 1
figure.update_layout(xaxis=dict(tickformat="%b %Y", dtick="M1"), yaxis=dict(title="Revenue", tickformat=",.0f"),
                     yaxis2=dict(title="Active customers", overlaying="y", side="right", tickformat=",.0f",
                                 rangemode="tozero", showgrid=False,   # round counts of its own
                                 tickmode="linear" if few else "auto", dtick=1 if few else None),
                     legend=dict(orientation="h", y=1.1), margin=dict(t=30, b=10), height=340)
st.plotly_chart(figure, key="trend-chart")
st.caption("How to read this: bars are each calendar month's net revenue (left axis); the line counts the "
           "customers who ordered in that month (right axis).")

# one above the other, each the page's width: the at-risk table's five columns did not fit half of it
st.subheader("Top movers")
movers = briefing.movers
if movers.empty:
    st.info("No customer's revenue changed against the previous period.")
else:
    show_frame(movers, column_config={
        "direction": st.column_config.TextColumn("", width="small"),
        "customer_id": "Customer",
        "revenue": st.column_config.NumberColumn("Revenue", format="%,.0f"),
        "previous_revenue": st.column_config.NumberColumn("Previous", format="%,.0f"),
        "change": st.column_config.NumberColumn("Change", format="%+,.0f")})
    download_table(movers, "top_movers", key="dl-movers")
st.caption("How to read this: the five customers whose revenue rose most and the five whose revenue fell "
           "most against the previous period.")
st.subheader("Super customers at risk")
at_risk = briefing.at_risk   # all of them; the briefing's files list the top 10
if briefing.at_risk_missing:
    st.info(briefing.at_risk_empty_note)
elif at_risk.empty:
    st.success("No super customer had two or more bad experiences in the last 12 months.")
else:
    show_table(at_risk, "super_customers_at_risk", key="atrisk-super", column_config={
        "customer_id": "Customer", "revenue": st.column_config.NumberColumn("Revenue to date", format="%,.0f"),
        "meets": "Super because", "bad_experiences": "Bad experiences", "reason": "What happened"})
st.caption("How to read this: your best customers (meeting at least 3 of the 4 super-customer criteria) who "
           "had two or more bad experiences in the last 12 months — about 42% of customers stop buying after two.")
