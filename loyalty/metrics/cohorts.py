"""Cohorts by month of first order (customers and revenue by months since), and revenue retention."""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from .scope import frame, ratio, row

COHORTS = """
cohort_of AS (SELECT customer_id, date_trunc('month', first_order)::DATE AS cohort FROM buyers),
monthly AS (
    SELECT customer_id, date_trunc('month', order_date)::DATE AS month, sum(amount) AS revenue
    FROM orders_in_scope GROUP BY ALL
),
sizes AS (SELECT cohort, count(*) AS cohort_customers FROM cohort_of GROUP BY cohort)
SELECT c.cohort, date_diff('month', c.cohort, m.month) AS months_since, s.cohort_customers,
       count(*) AS active_customers, count(*) / s.cohort_customers AS customer_retention,
       sum(m.revenue)::DOUBLE AS revenue
FROM monthly m JOIN cohort_of c USING (customer_id) JOIN sizes s USING (cohort)
WHERE c.cohort >= $first_cohort
GROUP BY c.cohort, months_since, s.cohort_customers ORDER BY c.cohort, months_since
"""


def cohort_retention(con: duckdb.DuckDBPyConnection, period: Period, months: int = 24) -> pd.DataFrame:
    """Per cohort (month of first order, the last `months` cohorts up to the as-of date) and months
    since: cohort size, active customers, their share, revenue."""
    first = pd.Timestamp(period.as_of).to_period("M").to_timestamp() - pd.DateOffset(months=months - 1)
    return frame(con, COHORTS, period, first_cohort=first.date())


REVENUE_RETENTION = """
per_customer AS (
    SELECT customer_id,
           count(*) FILTER (WHERE order_date BETWEEN $prev_start AND $prev_end) AS prev_orders,
           coalesce(sum(amount) FILTER (WHERE order_date BETWEEN $prev_start AND $prev_end), 0)::DOUBLE AS prev_revenue,
           coalesce(sum(amount) FILTER (WHERE order_date BETWEEN $start AND $end), 0)::DOUBLE AS revenue
    FROM orders_in_scope GROUP BY customer_id
)
SELECT sum(prev_revenue) AS previous_revenue, sum(revenue) AS retained_revenue,
       sum(least(greatest(revenue, 0), prev_revenue)) AS capped_revenue
FROM per_customer WHERE prev_orders > 0
"""


def revenue_retention(con: duckdb.DuckDBPyConnection, period: Period) -> dict:
    """Net revenue retention (this period's revenue from customers active in the previous period ÷
    their previous revenue) and gross (the same, each customer capped at its previous revenue)."""
    prev = period.previous()
    out = row(con, REVENUE_RETENTION, period, prev_start=prev.start, prev_end=prev.end)
    out["nrr"] = ratio(out["retained_revenue"], out["previous_revenue"])
    out["grr"] = ratio(out["capped_revenue"], out["previous_revenue"])
    return out
