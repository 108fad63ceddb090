"""Activity, repeat business, retention and lapsed customers.

An order is any row of `orders` (refunds and credit notes are orders with a negative amount)."""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from ..settings import get_settings
from .scope import frame, ratio, row

ACTIVITY = """
per_customer AS (
    SELECT customer_id,
           count(*) FILTER (WHERE order_date BETWEEN $start AND $end) AS period_orders,
           sum(amount) FILTER (WHERE order_date BETWEEN $start AND $end) AS period_revenue,
           min(order_date) AS first_order,
           count(*) AS orders_to_date
    FROM orders_in_scope GROUP BY customer_id
)
SELECT count(*) FILTER (WHERE period_orders > 0) AS active,
       count(*) FILTER (WHERE period_orders > 0 AND first_order >= $start) AS new,
       count(*) FILTER (WHERE period_orders > 0 AND first_order < $start) AS returning,
       count(*) FILTER (WHERE period_orders > 0 AND orders_to_date >= 2) AS repeat_active,
       coalesce(sum(period_orders), 0)::BIGINT AS orders,
       coalesce(sum(period_revenue), 0)::DOUBLE AS revenue
FROM per_customer
"""


def activity(con: duckdb.DuckDBPyConnection, period: Period) -> dict:
    """Active (≥1 order in the period), new (first-ever order in it), returning (active with an order
    before it) customers, orders and net revenue in the period, and the repeat-customer rate: of the
    active customers, the share with ≥2 orders up to the as-of date."""
    out = row(con, ACTIVITY, period)
    out["repeat_customer_rate"] = ratio(out["repeat_active"], out["active"])
    return out


RETENTION = """
per_customer AS (
    SELECT customer_id,
           bool_or(order_date BETWEEN $prev_start AND $prev_end) AS before,
           bool_or(order_date BETWEEN $start AND $end) AS now
    FROM orders_in_scope GROUP BY customer_id
)
SELECT count(*) FILTER (WHERE before) AS previous_active,
       count(*) FILTER (WHERE before AND now) AS retained,
       count(*) FILTER (WHERE before AND NOT now) AS churned
FROM per_customer
"""


def retention(con: duckdb.DuckDBPyConnection, period: Period) -> dict:
    """Retention over the previous period of the same length: active in both / active in the previous;
    churned: active in the previous period and not in this one."""
    prev = period.previous()
    out = row(con, RETENTION, period, prev_start=prev.start, prev_end=prev.end)
    out["retention"] = ratio(out["retained"], out["previous_active"])
    return out


LAPSED = """
gaps AS (
    SELECT customer_id, date_diff('day', lag(order_date) OVER (PARTITION BY customer_id ORDER BY order_date), order_date) AS gap
    FROM orders_in_scope
),
own_gap AS (SELECT customer_id, median(gap) AS median_gap FROM gaps WHERE gap IS NOT NULL GROUP BY customer_id)
SELECT b.customer_id, b.last_order, date_diff('day', b.last_order, $as_of) AS days_since_last,
       b.orders, b.revenue::DOUBLE AS revenue, g.median_gap,
       CASE WHEN $by_own_gap AND g.median_gap IS NOT NULL THEN 3 * g.median_gap ELSE $window END AS allowed_days
FROM buyers b LEFT JOIN own_gap g USING (customer_id)
WHERE date_diff('day', b.last_order, $as_of) >
      CASE WHEN $by_own_gap AND g.median_gap IS NOT NULL THEN 3 * g.median_gap ELSE $window END
ORDER BY revenue DESC, customer_id
"""


def lapsed_customers(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Customers with no order for longer than the churn window (default 365 days; with
    `lapsed_by_own_gap`, 3× the customer's own median gap between orders when it has one)."""
    settings = get_settings(con)
    return frame(con, LAPSED, period, window=settings["churn_window_days"], by_own_gap=settings["lapsed_by_own_gap"])
