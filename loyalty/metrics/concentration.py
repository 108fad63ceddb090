"""Revenue concentration: the top 20% of customers' share of period revenue, and the Pareto curve.

The top 20% are the ⌈0.2 × n⌉ customers with the highest net revenue among the n customers active in
the period. Which of several customers with equal revenue belong to it leaves their sum unchanged: the
scorecard's windows find the share without ranking anybody (`TOP20`); one period's curve ranks the
customers, and the share is the curve at rank ⌈0.2 × n⌉ (`CONCENTRATION`). Tied customers may come in any
order there, since the revenue of the k largest is the same whichever of them come first. The share is
None when the period has no positive revenue.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from ..period import Period
from .scope import frame

WINDOW_REVENUE = """
window_revenue AS (  -- per window and customer active in it: its revenue in the window
    SELECT w, customer_id, revenue FROM window_customers WHERE orders > 0
)
"""

PERIOD_REVENUE = """
window_revenue AS (  -- per customer active in the period: its revenue in the period (see scope.period_revenue)
    SELECT customer_id, revenue FROM period_revenue
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


CONCENTRATION = """
ranked AS (  -- the active customers by period revenue, largest first, with the revenue of the customers up to each
    SELECT row_number() OVER larger_first AS rank, sum(revenue) OVER larger_first AS running,
           count(*) OVER () AS customers, sum(revenue) OVER () AS total
    FROM window_revenue   -- sorted by revenue as a DOUBLE: the same order (distinct cents stay distinct below ten
                          -- trillion), sorted in about 60% of the time of the 16-byte DECIMAL (10M orders: 45 -> 28 ms)
    WINDOW larger_first AS (ORDER BY revenue::DOUBLE DESC ROWS UNBOUNDED PRECEDING)
)
SELECT 'curve' AS part, 0.0 AS customer_share, 0.0 AS revenue_share
UNION ALL
SELECT 'curve', rank / customers, running / nullif(total, 0) FROM ranked
WHERE rank = customers OR rank % greatest(1, customers // $points) = 0
UNION ALL
SELECT 'top20', NULL, CASE WHEN total > 0 THEN running / total END
FROM ranked WHERE rank = ceil(0.2 * customers)
ORDER BY part, customer_share
"""


@dataclass(frozen=True)
class RevenueConcentration:
    """One period's revenue concentration: `top20_share` (None without positive revenue) and `curve`, the
    cumulative revenue share against the cumulative customer share (customer_share, revenue_share),
    customers largest first, from the origin."""
    top20_share: float | None
    curve: pd.DataFrame


def revenue_concentration(con: duckdb.DuckDBPyConnection, period: Period, points: int = 100) -> RevenueConcentration:
    """The top 20%'s share of period revenue and the Pareto curve at about `points` + 1 points (only the
    origin when nobody was active), from one ranking of the period's customers."""
    table = frame(con, PERIOD_REVENUE + "," + CONCENTRATION, period, points=points)
    top20 = table.loc[table["part"] == "top20", "revenue_share"]
    share = None if top20.empty or pd.isna(top20.iloc[0]) else float(top20.iloc[0])
    curve = table.loc[table["part"] == "curve", ["customer_share", "revenue_share"]].reset_index(drop=True)
    return RevenueConcentration(top20_share=share, curve=curve)
