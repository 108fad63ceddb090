"""Revenue concentration: the top 20% of customers' share of period revenue, and the Pareto curve.

The top 20% are the ⌈0.2 × n⌉ customers with the highest net revenue among the n customers active in
the period. Which of several customers with equal revenue belong to it leaves their sum unchanged, so
the share is found without ranking anybody (`TOP20`); the curve ranks the customers, ties broken by
customer id, so it never depends on row order. The share is None when the period has no positive revenue.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from .scope import frame, records

WINDOW_REVENUE = """
window_revenue AS (  -- per window and customer active in it: its revenue in the window
    SELECT w, customer_id, revenue FROM window_customers WHERE orders > 0
)
"""

PERIOD_REVENUE = """
window_revenue AS (  -- per customer active in the period (window 0): its revenue in the period
    SELECT 0 AS w, customer_id, sum(revenue) AS revenue FROM dated_orders
    WHERE day BETWEEN $start AND $end GROUP BY customer_id
)
"""

# shares: per window, the top 20%'s share of its revenue (from window_revenue)
TOP20 = """
top20_cuts AS (  -- per window: active customers, revenue, and the smallest revenue of its top 20% (the ⌈0.2 n⌉-th largest)
    SELECT w, count(*) AS customers, sum(revenue) AS revenue, -quantile_disc(-revenue, 0.2) AS cut
    FROM window_revenue GROUP BY w
),
top20_revenue AS (  -- the ⌈0.2 n⌉ largest revenues: every one above the cut, and as many equal to it as that takes
    -- (which tied customers make up the top 20% leaves the sum unchanged, so nobody is ranked)
    SELECT c.w, c.revenue,
           coalesce(sum(r.revenue) FILTER (WHERE r.revenue > c.cut), 0)
           + (CAST(ceil(0.2 * c.customers) AS BIGINT) - count(*) FILTER (WHERE r.revenue > c.cut)) * c.cut AS top_revenue
    FROM top20_cuts c JOIN window_revenue r USING (w)
    GROUP BY c.w, c.revenue, c.customers, c.cut
),
shares AS (
    SELECT w.w, CASE WHEN t.revenue > 0 THEN t.top_revenue / t.revenue END AS top20_share
    FROM windows w LEFT JOIN top20_revenue t USING (w)
)
"""


def top20_share(con: duckdb.DuckDBPyConnection, period: Period) -> float | None:
    """Share of period revenue from the top 20% of the period's customers (see the module docstring)."""
    return records(frame(con, PERIOD_REVENUE + "," + TOP20 + " SELECT top20_share FROM shares", period))[0]["top20_share"]


PARETO = """
ranked AS (  -- the active customers by period revenue, largest first
    SELECT revenue::DOUBLE AS revenue, row_number() OVER (ORDER BY revenue DESC, customer_id) AS rank,
           count(*) OVER () AS customers
    FROM window_revenue
),
curve AS (
    SELECT rank / customers AS customer_share,
           sum(revenue) OVER (ORDER BY rank) / nullif(sum(revenue) OVER (), 0) AS revenue_share, rank, customers
    FROM ranked
)
SELECT 0.0 AS customer_share, 0.0 AS revenue_share
UNION ALL
SELECT customer_share, revenue_share FROM curve
WHERE rank = customers OR rank % greatest(1, customers // $points) = 0
ORDER BY customer_share
"""


def pareto_curve(con: duckdb.DuckDBPyConnection, period: Period, points: int = 100) -> pd.DataFrame:
    """Cumulative revenue share against cumulative customer share (customers by period revenue, largest
    first), at most about `points` + 1 points; empty apart from the origin when nobody was active."""
    return frame(con, PERIOD_REVENUE + "," + PARETO, period, points=points)
