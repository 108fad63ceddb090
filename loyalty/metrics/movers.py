"""Top movers: the customers whose revenue rose or fell most against the previous period."""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from .scope import frame

MOVERS = """
per_customer AS (
    SELECT customer_id, coalesce(revenue, 0)::DOUBLE AS revenue,
           coalesce(previous_revenue, 0)::DOUBLE AS previous_revenue
    FROM period_customers
),
changes AS (SELECT *, revenue - previous_revenue AS change FROM per_customer WHERE revenue <> previous_revenue)
(SELECT 'up' AS direction, * FROM changes WHERE change > 0 ORDER BY change DESC, customer_id LIMIT $n)
UNION ALL
(SELECT 'down' AS direction, * FROM changes WHERE change < 0 ORDER BY change ASC, customer_id LIMIT $n)
"""


def top_movers(con: duckdb.DuckDBPyConnection, period: Period, n: int = 5) -> pd.DataFrame:
    """The `n` largest rises and the `n` largest falls in revenue against the previous period."""
    return frame(con, MOVERS, period, n=n)
