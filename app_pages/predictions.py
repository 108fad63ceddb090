"""Predictions: customer clusters, churn risk against the recency rule, the lifetime-value fit and its
guardrail, and the product's rules of thumb tested on the data."""
import plotly.express as px
import streamlit as st

from loyalty.models.churn import HORIZON_DAYS, train_churn_model
from loyalty.models.clusters import K_RANGE, customer_clusters
from loyalty.models.rules import rules_of_thumb
from loyalty.models.value import customer_value, model_parameters
from loyalty.palette import OKABE_ITO, SERIES
from loyalty.ui import analytics_page, cached, download_table, show_frame, show_table

period = analytics_page("Predictions")

st.subheader("Customer clusters")
choice = st.selectbox("Number of clusters", ["best silhouette", *K_RANGE], key="clusters-k",
                      help="By default, the number whose clusters are most clearly apart (silhouette on a sample).")
clusters = cached(customer_clusters, period, k=None if choice == "best silhouette" else int(choice))
if clusters.note:
    st.info(f"No clusters: {clusters.note}.")
else:
    cols = st.columns(3)
    cols[0].metric("Clusters", clusters.k)
    cols[1].metric("Silhouette", "—" if clusters.silhouette is None else f"{clusters.silhouette:.2f}",
                   help="From −1 to 1: how much closer customers are to their own cluster than to the next one.")
    cols[2].metric("Customers", f"{int(clusters.profiles['customers'].sum()):,}")
    show_frame(clusters.profiles, key="cluster-profiles", column_config={
        "share": st.column_config.NumberColumn("Share", format="percent"),
        "recency_days": st.column_config.NumberColumn("Median days since last order", format="%.0f"),
        "frequency": st.column_config.NumberColumn("Median orders", format="%.0f"),
        "revenue": st.column_config.NumberColumn("Median revenue to date", format="%,.0f"),
        "tenure_days": st.column_config.NumberColumn("Median days since first order", format="%.0f")})
    download_table(clusters.profiles, "clusters", key="dl-clusters")
    sizes = clusters.profiles.assign(cluster=clusters.profiles["cluster"].map("Cluster {}".format))
    figure = px.bar(sizes, x="customers", y="cluster", orientation="h", text="description",
                    color="cluster", color_discrete_sequence=OKABE_ITO)
    figure.update_layout(height=80 + 45 * clusters.k, margin=dict(t=10), showlegend=False, yaxis_title=None,
                         xaxis_title="Customers")
    st.plotly_chart(figure, key="cluster-sizes")
    st.caption("How to read this: each bar is one cluster (numbered by revenue, largest first), its length the "
               "customers in it; the words compare its centre with the average customer on recency, orders, revenue "
               "and tenure. Silhouette by number of clusters: "
               + ", ".join(f"{k}: {s:.2f}" for k, s in clusters.silhouettes.items()) + ".")
    download_table(clusters.labels, "customer_clusters", "Download every customer's cluster", key="dl-cluster-labels")

st.subheader("Churn risk")
churn = cached(train_churn_model, period)
if churn.note:
    st.info(f"No churn model: {churn.note}.")
else:
    scores = churn.evaluation.set_index("score")
    model, rule = scores.iloc[0], scores.iloc[1]
    cols = st.columns(4)
    cols[0].metric("ROC AUC, churn model", f"{model['roc_auc']:.3f}")
    cols[1].metric("ROC AUC, recency rule", f"{rule['roc_auc']:.3f}")
    cols[2].metric("Precision in the top decile, model", f"{model['precision_top_decile']:.0%}")
    cols[3].metric("Precision in the top decile, recency rule", f"{rule['precision_top_decile']:.0%}")
    st.caption(f"Left = no order in the {HORIZON_DAYS} days after a month end. Trained on {churn.train_rows:,} "
               f"customer-months ({churn.train_snapshots[0]:%b %Y} – {churn.train_snapshots[-1]:%b %Y}), tested on "
               f"{churn.test_rows:,} later ones ({churn.test_snapshots[0]:%b %Y} – {churn.test_snapshots[-1]:%b %Y}) "
               f"it never saw, of whom {churn.test_churn_rate:.0%} left. The recency rule ranks customers by days "
               "since their last order.")
    download_table(churn.evaluation, "churn_evaluation", key="dl-churn-evaluation")
    left, right = st.columns(2)
    with left:
        st.markdown("**Calibration on the test months**")
        figure = px.line(churn.calibration, x="mean_predicted", y="observed", markers=True,
                         color_discrete_sequence=[SERIES["revenue"]])
        figure.add_shape(type="line", x0=0, y0=0, x1=1, y1=1, line=dict(dash="dash", color="#999"))
        figure.update_layout(height=300, margin=dict(t=10), xaxis=dict(title="Predicted risk", tickformat=".0%"),
                             yaxis=dict(title="Share who left", tickformat=".0%"))
        st.plotly_chart(figure, key="churn-calibration")
        st.caption("How to read this: one point per tenth of the test customers by predicted risk; on the dashed "
                   "line, predicted risk and the share who actually left agree.")
        show_frame(churn.calibration, key="churn-calibration-table", column_config={
            "mean_predicted": st.column_config.NumberColumn("Mean predicted", format="percent"),
            "observed": st.column_config.NumberColumn("Left", format="percent")})
        download_table(churn.calibration, "churn_calibration", key="dl-churn-calibration")
    with right:
        st.markdown("**What drives the risk**")
        top = churn.drivers.head(8).iloc[::-1]
        figure = px.bar(top, x="importance", y="feature", orientation="h", color_discrete_sequence=[SERIES["active"]])
        figure.update_layout(height=300, margin=dict(t=10), yaxis_title=None, xaxis_title="Drop in AUC when shuffled")
        st.plotly_chart(figure, key="churn-drivers")
        st.caption("How to read this: how much worse the model ranks the test customers when one input is "
                   "shuffled (permutation importance); longer bars matter more.")
        download_table(churn.drivers, "churn_drivers", key="dl-churn-drivers")
    st.markdown("**Customers most likely to leave** (active in the last 365 days, as of the as-of date)")
    show_table(churn.risk, "churn_risk", key="churn-risk")

st.subheader("Lifetime value")
forecast = cached(customer_value, period)
if forecast.reason:
    st.warning(f"The lifetime-value models are not used: {forecast.reason}. Figures come from the run-rate rule.")
st.caption(forecast.caption())
parameters = model_parameters(forecast)
if not parameters.empty:
    show_frame(parameters, key="clv-parameters")
    download_table(parameters, "clv_parameters", key="dl-clv-parameters")
show_table(forecast.customers.sort_values("clv_12m", ascending=False), "customer_value", key="customer-value")

st.subheader("Rules of thumb on your data")
for check in cached(rules_of_thumb, period):
    with st.container(border=True):
        st.markdown(f"**{check.rule}**")
        st.markdown(f"{check.figure[:1].upper()}{check.figure[1:]}  \n*{check.sample}*")
        (st.success if check.holds else st.info if check.holds is None else st.warning)(check.verdict)
