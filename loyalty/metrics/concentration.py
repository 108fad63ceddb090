"""Revenue concentration: the top 20% of customers' share of period revenue, and the Pareto curve."""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from .scope import frame, row

RANKED = """
period_revenue AS (
    SELECT customer_id, sum(amount)::DOUBLE AS revenue
    FROM orders_in_scope WHERE order_date BETWEEN $start AND $end GROUP BY customer_id
),
ranked AS (
    SELECT revenue, row_number() OVER (ORDER BY revenue DESC, customer_id) AS rank, count(*) OVER () AS customers,
           sum(revenue) OVER (ORDER BY revenue DESC, customer_id) AS cumulative, sum(revenue) OVER () AS total
    FROM period_revenue
)
"""


def top20_share(con: duckdb.DuckDBPyConnection, period: Period) -> float | None:
    """Share of period revenue from the top 20% of the period's customers (ceil(20%) of them, ranked by
    revenue, ties broken by customer id); None when the period has no revenue."""
    out = row(con, RANKED + """
        SELECT sum(revenue) FILTER (WHERE rank <= ceil(0.2 * customers)) / nullif(sum(revenue), 0) AS share
        FROM ranked""", period)
    return out["share"]


def pareto_curve(con: duckdb.DuckDBPyConnection, period: Period, points: int = 100) -> pd.DataFrame:
    """Cumulative revenue share against cumulative customer share, at most `points` + 1 points."""
    return frame(con, RANKED + """
        SELECT 0.0 AS customer_share, 0.0 AS revenue_share
        UNION ALL
        SELECT rank / customers AS customer_share, cumulative / nullif(total, 0) AS revenue_share
        FROM ranked
        WHERE rank = customers OR rank % greatest(1, customers // $points) = 0
        ORDER BY customer_share""", period, points=points)
