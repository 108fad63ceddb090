"""Revenue concentration: the top 20% of customers' share of period revenue, and the Pareto curve.

The top 20% are the ⌈0.2 × n⌉ customers with the highest net revenue among the n customers active in
the period (ties broken by customer id, so the figure never depends on row order). The share is None
when the period has no positive revenue.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from .activity import window_customers
from .scope import anchor, frame, records

RANKED = """
ranked AS (  -- per window, the active customers by period revenue, largest first
    SELECT w, revenue::DOUBLE AS revenue,
           row_number() OVER (PARTITION BY w ORDER BY revenue DESC, customer_id) AS rank,
           count(*) OVER (PARTITION BY w) AS customers
    FROM window_customers WHERE orders > 0
)
"""

TOP20_BY_WINDOW = """
SELECT w.w, CASE WHEN sum(r.revenue) > 0
                 THEN sum(r.revenue) FILTER (WHERE r.rank <= ceil(0.2 * r.customers)) / sum(r.revenue) END AS top20_share
FROM windows w LEFT JOIN ranked r ON r.w = w.w GROUP BY w.w
"""


def top20_share_by_window(con: duckdb.DuckDBPyConnection, periods: list[Period]) -> list[float | None]:
    """Per period: the share of its revenue from its top 20% of customers (None without revenue)."""
    result = frame(con, window_customers(periods) + "," + RANKED + ", shares AS (" + TOP20_BY_WINDOW + ") "
                   "SELECT * FROM shares ORDER BY w", anchor(periods), windows=periods)
    return [r["top20_share"] for r in records(result)]


def top20_share(con: duckdb.DuckDBPyConnection, period: Period) -> float | None:
    """Share of period revenue from the top 20% of the period's customers (see the module docstring)."""
    return top20_share_by_window(con, [period])[0]


PARETO = """
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
    return frame(con, window_customers([period]) + "," + RANKED + "," + PARETO, period, points=points)
