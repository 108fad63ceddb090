"""Churn risk: the chance that a customer places no order in the next 180 days, learned from monthly
snapshots of the customers' own history and checked on later snapshots it never saw.

Snapshots and label
- A snapshot is a month end s; its customers are those in scope with an order in the 365 days up to s
  (the customers one could still lose). Its label: no order in the `HORIZON_DAYS` days after s. Only
  snapshots whose horizon ends by the as-of date are labelled (so every label is fully observed).
- Every feature uses only what was known at the end of day s (`SNAPSHOT_FEATURES`): orders up to s
  (recency, orders, revenue, tenure, orders and revenue in the last 12 months, revenue in the last 6
  months against the 6 before as a trend in −1…1, channel shares, discount share, all over whole calendar
  months), deliveries made by s, tickets opened by s (a slow first response counts once its SLA has
  passed unanswered by s; response times of responses given by s; low CSAT of tickets resolved by s, as a rating cannot be dated otherwise),
  survey answers by s, outreach tickets in the 90 days up to s. Missing inputs are missing values,
  which the classifier handles as such; a feature with no value at all in the training rows (its input
  columns are empty) is left out.

On large data the snapshots cover a deterministic sample of customers (those whose id hashes to a
multiple of a stride), so that they hold about `SNAPSHOT_ROWS` customer-months; current risk is computed
for every customer.

Validation (time-based holdout)
- Test: the last `TEST_SNAPSHOTS` labelled month ends. Train: the `TRAIN_SNAPSHOTS` latest month ends
  whose horizon ends by the first test snapshot (so no training label looks into the test period), at
  least `WARM_UP_MONTHS` after the first order (so the 12-month features have history).
- Classifier: scikit-learn's HistGradientBoostingClassifier (native missing values, fast on large data),
  fitted on at most `FIT_ROWS` customer-months (a seeded sample beyond), on one thread (see
  `loyalty.models.fitting_threads`).
- On the test snapshots: ROC AUC, precision in the top decile of risk, a calibration table by decile of
  predicted risk (mean predicted against observed), and the top drivers by permutation importance (the
  drop in AUC when a feature is shuffled). The recency rule (risk = days since the last order) is
  scored on the same rows.
- Current risk: the model is refitted on every labelled snapshot (train and test) and applied to the
  customers' features as of the as-of date.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score

from ..period import Period, month_end, shift_months
from ..settings import get_settings
from ..metrics.scope import frame, row
from . import fitting_threads

HORIZON_DAYS = 180
TEST_SNAPSHOTS = 3
TRAIN_SNAPSHOTS = 12
WARM_UP_MONTHS = 6
MIN_CLASS_ROWS = 20          # fewer churners (or stayers) than this in train or test: no model
IMPORTANCE_ROWS = 10_000     # permutation importance on at most this many test rows (seeded sample)
FIT_ROWS = 200_000           # each fit on at most this many customer-months (seeded sample)
SNAPSHOT_ROWS = 250_000      # about this many customer-months at most are computed (a sample of customers beyond)

FEATURES = ["recency_days", "frequency", "revenue", "tenure_days", "orders_12m", "revenue_12m", "spend_trend",
            "email_share", "web_share", "personal_share", "discount_share", "late_deliveries_12m",
            "complaints_12m", "slow_responses_12m", "low_ratings_12m", "bad_experiences_12m",
            "tickets_12m", "median_response_hours_12m", "outreach_90d"]

SNAPSHOT_FEATURES = """
snapshots AS (SELECT unnest($snapshots)::DATE AS snap),
customer_months AS (  -- per customer and calendar month (the as-of date's month ends on the as-of date); money stays
                      -- DECIMAL until the end, as parallel sums of DOUBLE vary in the last bits from run to run
    SELECT customer_id, least(last_day(order_date), $as_of) AS month_key, count(*) AS orders,
           sum(amount) AS revenue, sum(discount) AS discount, count(channel) AS with_channel,
           count(*) FILTER (WHERE channel = 'email') AS email, count(*) FILTER (WHERE channel = 'web') AS web,
           count(*) FILTER (WHERE channel IN ('phone', 'in_person')) AS personal,
           min(order_date) AS first_order, max(order_date) AS last_order
    FROM orders_in_scope WHERE $stride = 1 OR hash(customer_id) % $stride = 0 GROUP BY ALL
),
history AS (  -- per snapshot: customers with an order in the 365 days up to it, from their orders up to it
    SELECT s.snap, m.customer_id, sum(m.orders) AS frequency, sum(m.revenue) AS revenue,
           min(m.first_order) AS first_order, max(m.last_order) AS last_order,
           coalesce(sum(m.orders) FILTER (WHERE m.month_key > last_day(s.snap - INTERVAL 12 MONTH)), 0) AS orders_12m,
           coalesce(sum(m.revenue) FILTER (WHERE m.month_key > last_day(s.snap - INTERVAL 12 MONTH)), 0) AS revenue_12m,
           coalesce(sum(m.revenue) FILTER (WHERE m.month_key > last_day(s.snap - INTERVAL 6 MONTH)), 0) AS revenue_6m,
           coalesce(sum(m.revenue) FILTER (WHERE m.month_key > last_day(s.snap - INTERVAL 12 MONTH)
                                             AND m.month_key <= last_day(s.snap - INTERVAL 6 MONTH)), 0) AS revenue_prev_6m,
           sum(m.email) FILTER (WHERE m.month_key > last_day(s.snap - INTERVAL 12 MONTH))
               / nullif(sum(m.with_channel) FILTER (WHERE m.month_key > last_day(s.snap - INTERVAL 12 MONTH)), 0) AS email_share,
           sum(m.web) FILTER (WHERE m.month_key > last_day(s.snap - INTERVAL 12 MONTH))
               / nullif(sum(m.with_channel) FILTER (WHERE m.month_key > last_day(s.snap - INTERVAL 12 MONTH)), 0) AS web_share,
           sum(m.personal) FILTER (WHERE m.month_key > last_day(s.snap - INTERVAL 12 MONTH))
               / nullif(sum(m.with_channel) FILTER (WHERE m.month_key > last_day(s.snap - INTERVAL 12 MONTH)), 0) AS personal_share,
           sum(m.discount) FILTER (WHERE m.month_key > last_day(s.snap - INTERVAL 12 MONTH))
               / nullif(sum(m.revenue + coalesce(m.discount, 0)) FILTER (WHERE m.month_key > last_day(s.snap - INTERVAL 12 MONTH)), 0) AS discount_share
    FROM snapshots s JOIN customer_months m ON m.month_key <= s.snap
    GROUP BY s.snap, m.customer_id
    HAVING max(m.last_order) > s.snap - INTERVAL 365 DAY
),
late AS (  -- deliveries made by the snapshot, in its 12 months, after the promised date
    SELECT s.snap, o.customer_id, count(*) AS late_deliveries
    FROM snapshots s JOIN orders_in_scope o
      ON o.delivered_date <= s.snap AND o.delivered_date > s.snap - INTERVAL 12 MONTH AND o.delivered_date > o.promised_date
    GROUP BY ALL
),
ticket_facts AS (  -- tickets opened in the snapshot's 12 months, judged by what was known at its end
    SELECT s.snap, t.customer_id,
           count(*) FILTER (WHERE t.kind = 'complaint') AS complaints,
           count(*) FILTER (WHERE t.kind IS DISTINCT FROM 'outreach') AS tickets,
           count(*) FILTER (WHERE t.kind = 'outreach' AND t.opened_at >= s.snap - INTERVAL 89 DAY) AS outreach,
           count(*) FILTER (WHERE t.kind IS DISTINCT FROM 'outreach'
                              AND t.opened_at + to_seconds($sla_first * 3600) < s.snap + INTERVAL 1 DAY
                              AND (t.first_response_at IS NULL OR t.first_response_at > t.opened_at + to_seconds($sla_first * 3600))) AS slow,
           median(date_diff('second', t.opened_at, t.first_response_at) / 3600.0)
               FILTER (WHERE t.first_response_at < s.snap + INTERVAL 1 DAY) AS median_response_hours,
           count(*) FILTER (WHERE t.csat <= 2 AND t.resolved_at < s.snap + INTERVAL 1 DAY) AS low_csat
    FROM snapshots s JOIN tickets_in_scope t
      ON t.opened_at < s.snap + INTERVAL 1 DAY AND t.opened_at >= s.snap - INTERVAL 12 MONTH + INTERVAL 1 DAY
    GROUP BY ALL
),
survey_facts AS (
    SELECT s.snap, v.customer_id, count(*) FILTER (WHERE v.csat <= 2 OR v.nps <= 6) AS low_ratings
    FROM snapshots s JOIN surveys_in_scope v
      ON v.answered_at < s.snap + INTERVAL 1 DAY AND v.answered_at >= s.snap - INTERVAL 12 MONTH + INTERVAL 1 DAY
    GROUP BY ALL
),
next_orders AS (  -- the first order after each snapshot (for the label only)
    SELECT h.snap, h.customer_id, n.order_date AS next_order
    FROM history h ASOF LEFT JOIN (SELECT customer_id, order_date FROM orders_in_scope  -- none when unlabelled
                                   WHERE $labelled AND ($stride = 1 OR hash(customer_id) % $stride = 0)) n
      ON h.customer_id = n.customer_id AND n.order_date > h.snap
)
SELECT h.snap, h.customer_id, date_diff('day', h.last_order, h.snap) AS recency_days, h.frequency,
       h.revenue::DOUBLE AS revenue, date_diff('day', h.first_order, h.snap) AS tenure_days, h.orders_12m,
       h.revenue_12m::DOUBLE AS revenue_12m,
       ((h.revenue_6m - h.revenue_prev_6m) / (abs(h.revenue_6m) + abs(h.revenue_prev_6m) + 1))::DOUBLE AS spend_trend,
       h.email_share, h.web_share, h.personal_share, h.discount_share::DOUBLE AS discount_share,
       coalesce(l.late_deliveries, 0) AS late_deliveries_12m, coalesce(t.complaints, 0) AS complaints_12m,
       coalesce(t.slow, 0) AS slow_responses_12m, coalesce(t.low_csat, 0) + coalesce(v.low_ratings, 0) AS low_ratings_12m,
       coalesce(l.late_deliveries, 0) + coalesce(t.complaints, 0) + coalesce(t.slow, 0) + coalesce(t.low_csat, 0)
           + coalesce(v.low_ratings, 0) AS bad_experiences_12m,
       coalesce(t.tickets, 0) AS tickets_12m, t.median_response_hours AS median_response_hours_12m,
       coalesce(t.outreach, 0) AS outreach_90d,
       CASE WHEN $labelled THEN n.next_order IS NULL OR n.next_order > h.snap + to_days($horizon) END AS churned
FROM history h
LEFT JOIN late l USING (snap, customer_id) LEFT JOIN ticket_facts t USING (snap, customer_id)
LEFT JOIN survey_facts v USING (snap, customer_id) LEFT JOIN next_orders n USING (snap, customer_id)
ORDER BY h.snap, h.customer_id
"""


def snapshot_features(con: duckdb.DuckDBPyConnection, period: Period, snapshots: list[date],
                      labelled: bool = True, stride: int = 1) -> pd.DataFrame:
    """Per snapshot and customer active in the 365 days up to it: the features (known at the snapshot)
    and, when `labelled`, whether it placed no order in the next HORIZON_DAYS days. With `stride` n > 1,
    only the customers whose id hashes to a multiple of n (a deterministic 1-in-n sample)."""
    sla = float(get_settings(con)["sla_first_response_hours"])
    return frame(con, SNAPSHOT_FEATURES, period, snapshots=snapshots, labelled=labelled, horizon=HORIZON_DAYS,
                 sla_first=sla, stride=stride)


ACTIVE_LAST_YEAR = "active AS (SELECT count(*) AS customers FROM buyers WHERE last_order > $as_of - INTERVAL 365 DAY) SELECT * FROM active"


def sample_stride(con: duckdb.DuckDBPyConnection, period: Period, snapshots: int) -> int:
    """1 in how many customers the snapshots need so that they hold about SNAPSHOT_ROWS customer-months
    (estimated from the customers active in the last year): 1 (everyone) on all but large data."""
    active = row(con, ACTIVE_LAST_YEAR, period)["customers"] or 0
    return max(1, int(np.ceil(active * snapshots / SNAPSHOT_ROWS)))


def choose_snapshots(first_order: date | None, as_of: date) -> tuple[list[date], list[date]]:
    """(train, test) month ends for the time-based holdout (see the module docstring)."""
    if first_order is None:
        return [], []
    earliest = month_end(shift_months(first_order, WARM_UP_MONTHS))
    latest = month_end(as_of - timedelta(days=HORIZON_DAYS))
    if latest + timedelta(days=HORIZON_DAYS) > as_of:
        latest = month_end(shift_months(latest, -1))
    labelled = []
    while latest >= earliest:
        labelled.insert(0, latest)
        latest = month_end(shift_months(latest, -1))
    test = labelled[-TEST_SNAPSHOTS:] if len(labelled) > TEST_SNAPSHOTS else []
    train = [s for s in labelled if test and s + timedelta(days=HORIZON_DAYS) <= test[0]][-TRAIN_SNAPSHOTS:]
    return train, test


@dataclass(frozen=True)
class ChurnModel:
    """The holdout evaluation of the churn classifier and of the recency rule, and current risk."""
    note: str | None                       # why there is no model (too little history); None when there is
    train_snapshots: list[date] = field(default_factory=list)
    test_snapshots: list[date] = field(default_factory=list)
    train_rows: int = 0
    test_rows: int = 0
    test_churn_rate: float | None = None
    evaluation: pd.DataFrame | None = None   # score, roc_auc, precision_top_decile (model and recency rule)
    calibration: pd.DataFrame | None = None  # decile, rows, mean_predicted, observed
    drivers: pd.DataFrame | None = None      # feature, importance (drop in AUC), spread
    risk: pd.DataFrame | None = None         # current customers by risk, highest first


def _classifier(seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, l2_regularization=1.0,
                                          early_stopping=False, random_state=seed)


def precision_top_decile(churned: np.ndarray, score: np.ndarray) -> float:
    """Of the tenth of rows with the highest score (ties broken by row order), the share that churned."""
    top = max(1, int(np.ceil(len(score) / 10)))
    return float(np.asarray(churned)[np.argsort(-np.asarray(score), kind="stable")[:top]].mean())


def calibration_table(churned: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    """Rows in ten groups of (about) equal size by predicted risk: mean predicted against observed churn."""
    order = np.argsort(predicted, kind="stable")
    groups = np.empty(len(order), dtype=int)
    groups[order] = np.arange(len(order)) * 10 // len(order) + 1
    table = pd.DataFrame({"decile": groups, "predicted": predicted, "churned": np.asarray(churned, float)})
    return (table.groupby("decile").agg(rows=("churned", "size"), mean_predicted=("predicted", "mean"),
                                        observed=("churned", "mean")).reset_index())


def _evaluate(name: str, churned: np.ndarray, score: np.ndarray) -> dict:
    return {"score": name, "roc_auc": float(roc_auc_score(churned, score)),
            "precision_top_decile": precision_top_decile(churned, score)}


def _too_little(train: pd.DataFrame, test: pd.DataFrame) -> str | None:
    for name, rows in (("training", train), ("test", test)):
        churners = int(rows["churned"].sum()) if len(rows) else 0
        if min(churners, len(rows) - churners) < MIN_CLASS_ROWS:
            return (f"the {name} snapshots hold {churners:,} customers who left and {len(rows) - churners:,} who "
                    f"stayed; the model needs at least {MIN_CLASS_ROWS} of each")
    return None


def drivers_of(model, rows: pd.DataFrame, features: list[str], seed: int) -> pd.DataFrame:
    """Permutation importance on (a seeded sample of) the test rows: how much AUC drops without a feature."""
    if len(rows) > IMPORTANCE_ROWS:
        rows = rows.sample(IMPORTANCE_ROWS, random_state=seed)
    result = permutation_importance(model, rows[features], rows["churned"], scoring="roc_auc", n_repeats=3,
                                    random_state=seed)
    return (pd.DataFrame({"feature": features, "importance": result.importances_mean, "spread": result.importances_std})
            .sort_values(["importance", "feature"], ascending=[False, True], ignore_index=True))


def train_churn_model(con: duckdb.DuckDBPyConnection, period: Period, seed: int = 0) -> ChurnModel:
    """Train on earlier snapshots, evaluate on later ones, and score the current customers."""
    first = row(con, "first AS (SELECT min(first_order) AS first_order FROM buyers) SELECT * FROM first", period)["first_order"]
    train_at, test_at = choose_snapshots(first, period.as_of)
    if not train_at:
        return ChurnModel(f"the data need about {WARM_UP_MONTHS + 2 * HORIZON_DAYS // 30 + TEST_SNAPSHOTS} months of "
                          "orders before a churn model can be trained and tested on later months")
    rows = snapshot_features(con, period, train_at + test_at, stride=sample_stride(con, period, len(train_at + test_at)))
    snap = rows["snap"].dt.date
    train, test = rows[snap.isin(train_at)], rows[snap.isin(test_at)]
    problem = _too_little(train, test)
    if problem:
        return ChurnModel(problem, train_at, test_at, len(train), len(test))
    features = [f for f in FEATURES if train[f].notna().any()]   # inputs the store lacks are left out
    with fitting_threads():
        model = fit_on_sample(train, features, seed)
        predicted = model.predict_proba(test[features])[:, 1]
        churned = test["churned"].to_numpy(bool)
        evaluation = pd.DataFrame([_evaluate("churn model", churned, predicted),
                                   _evaluate("recency rule (days since last order)", churned,
                                             test["recency_days"].to_numpy(float))])
        drivers = drivers_of(model, test, features, seed)
        risk = current_risk(fit_on_sample(rows, features, seed), features,
                            snapshot_features(con, period, [period.as_of], labelled=False))
    return ChurnModel(None, train_at, test_at, len(train), len(test), float(churned.mean()), evaluation,
                      calibration_table(churned, predicted), drivers, risk)


def fit_on_sample(rows: pd.DataFrame, features: list[str], seed: int) -> HistGradientBoostingClassifier:
    """The classifier fitted on the rows (a seeded sample of FIT_ROWS of them when there are more)."""
    if len(rows) > FIT_ROWS:
        rows = rows.sample(FIT_ROWS, random_state=seed)
    return _classifier(seed).fit(rows[features], rows["churned"])


def current_risk(model, features: list[str], current: pd.DataFrame) -> pd.DataFrame:
    """The customers of the as-of snapshot by predicted risk, highest first (then revenue at stake)."""
    risk = current[["customer_id"]].assign(churn_risk=model.predict_proba(current[features])[:, 1] if len(current) else [])
    risk = pd.concat([risk, current[["recency_days", "orders_12m", "revenue_12m", "bad_experiences_12m"]]], axis=1)
    return risk.sort_values(["churn_risk", "revenue_12m", "customer_id"], ascending=[False, False, True],
                            ignore_index=True)
