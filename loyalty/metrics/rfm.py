"""RFM scores and named segments as of the as-of date, and segment migration between month ends.

R = days since the last order, F = number of orders, M = net revenue, all up to the as-of date.
Each score is 1 + ⌊5 × the share of customers with a strictly worse value⌋, capped at 5: plain
quintiles when values are distinct, and customers with equal values always share a score (the score
of the lowest-placed of them), so the same data gives the same segments whatever the row order.
R's worse is older (the most recent customers score 5), F's and M's worse is smaller.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb
import pandas as pd

from ..period import Period, month_end, shift_months
from ..settings import get_settings
from .scope import SCOPE, bound, frame, params


def score(value: str, worse_first: str) -> str:
    """SQL for the tie-fair 1–5 score of `value` over all rows (`worse_first`: ASC or DESC)."""
    return (f"least(5, 1 + CAST(floor(5 * (rank() OVER (ORDER BY {value} {worse_first}) - 1) "
            f"/ count(*) OVER ()) AS INTEGER))")


SCORED = f"""
measured AS (
    SELECT customer_id, date_diff('day', last_order, $as_of) AS recency_days, orders AS frequency,
           revenue::DOUBLE AS monetary, coalesce(quantity, 0)::DOUBLE AS quantity, first_order,
           date_diff('day', first_order, $as_of) AS tenure_days
    FROM buyers
),
scored AS (
    SELECT *, {score('recency_days', 'DESC')} AS r, {score('frequency', 'ASC')} AS f,
              {score('monetary', 'ASC')} AS m, {score('quantity', 'ASC')} AS q,
              {score('tenure_days', 'ASC')} AS t
    FROM measured
),
rules AS (SELECT unnest($rules, recursive := true)),
segmented AS (
    SELECT s.*, rules.name AS segment,
           printf('%s: last order %d days ago (R %d), %d orders (F %d)',
                  rules.name, s.recency_days, s.r, s.frequency, s.f) AS reason
    FROM scored s JOIN rules ON s.r BETWEEN rules.r[1] AND rules.r[2] AND s.f BETWEEN rules.f[1] AND rules.f[2]
)
"""


def _rules(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return get_settings(con)["segment_rules"]


def rfm_customers(con: duckdb.DuckDBPyConnection, period: Period, segment: str | None = None) -> pd.DataFrame:
    """One row per customer with an order up to the as-of date (or only those of `segment`): R, F, M,
    scores, segment and reason, by revenue."""
    return frame(con, SCORED + """
        SELECT customer_id, recency_days, frequency, monetary, r, f, m, segment, reason
        FROM segmented WHERE $segment IS NULL OR segment = $segment
        ORDER BY monetary DESC, customer_id""", period, rules=_rules(con), segment=segment)


def segment_summary(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Customers and revenue per segment (every segment of the rule set, empty ones included)."""
    return frame(con, SCORED + """
        SELECT rules.name AS segment, count(s.customer_id) AS customers, coalesce(sum(s.monetary), 0) AS revenue
        FROM rules LEFT JOIN segmented s ON s.segment = rules.name
        GROUP BY rules.name ORDER BY customers DESC, segment""", period, rules=_rules(con))


def rfm_grid(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Customers and revenue in each of the 25 (R, F) cells, with the cell's segment."""
    return frame(con, SCORED + """,
        cells AS (SELECT r.r, f.f FROM range(1, 6) r(r), range(1, 6) f(f))
        SELECT cells.r, cells.f, rules.name AS segment, count(s.customer_id) AS customers,
               coalesce(sum(s.monetary), 0) AS revenue
        FROM cells
        JOIN rules ON cells.r BETWEEN rules.r[1] AND rules.r[2] AND cells.f BETWEEN rules.f[1] AND rules.f[2]
        LEFT JOIN scored s ON s.r = cells.r AND s.f = cells.f
        GROUP BY ALL ORDER BY cells.r, cells.f""", period, rules=_rules(con))


def month_ends(as_of: date, count: int) -> list[date]:
    """The last `count` month ends up to the as-of date, oldest first."""
    last = as_of if as_of == month_end(as_of) else shift_months(month_end(as_of), -1)
    return [month_end(shift_months(last, -k)) for k in reversed(range(count))]


def _snapshot_segments(con: duckdb.DuckDBPyConnection, period: Period, months: int) -> list[date]:
    """Fill the temp table segment_snapshots with every customer's segment at each of the last
    `months` + 1 month ends; return those month ends."""
    rules = _rules(con)
    ends = month_ends(period.as_of, months + 1)
    con.execute("CREATE OR REPLACE TEMP TABLE segment_snapshots (month_end DATE, customer_id VARCHAR, segment VARCHAR)")
    for at in ends:
        statement = f"INSERT INTO segment_snapshots WITH {SCOPE}, {SCORED} SELECT $as_of, customer_id, segment FROM segmented"
        con.execute(statement, bound(statement, params(replace(period, as_of=at), rules=rules)))
    return ends


MIGRATION = """
SELECT a.month_end, coalesce(b.segment, 'New') AS segment_before, a.segment, count(*) AS customers
FROM segment_snapshots a
LEFT JOIN segment_snapshots b ON b.customer_id = a.customer_id AND b.month_end = last_day(a.month_end - INTERVAL 1 MONTH)
WHERE a.month_end > (SELECT min(month_end) FROM segment_snapshots)
GROUP BY ALL ORDER BY a.month_end, segment_before, a.segment
"""


def segment_migration(con: duckdb.DuckDBPyConnection, period: Period, months: int = 12) -> pd.DataFrame:
    """Month-end snapshots: per month end, how many customers sit in each segment by the segment they
    were in at the previous month end ('New' for customers without an order before)."""
    _snapshot_segments(con, period, months)
    return con.execute(MIGRATION).df()


CHAMPIONS = """
SELECT month_end,
       coalesce(sum(customers) FILTER (WHERE segment = $champion AND segment_before <> $champion), 0)::BIGINT AS new_champions,
       coalesce(sum(customers) FILTER (WHERE segment_before = $champion AND segment <> $champion), 0)::BIGINT AS lost_champions
FROM migration GROUP BY month_end ORDER BY month_end
"""


def champions_movement(con: duckdb.DuckDBPyConnection, period: Period, months: int = 12,
                       champion: str = "Champions") -> pd.DataFrame:
    """New and lost Champions per month end over the last `months` months."""
    _snapshot_segments(con, period, months)
    return con.execute(f"WITH migration AS ({MIGRATION}) {CHAMPIONS}", {"champion": champion}).df()
