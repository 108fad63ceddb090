"""RFM scores and named segments as of the as-of date, and segment migration between month ends.

R = days since the last order, F = number of orders, M = net revenue, all up to the as-of date, over
every customer with an order by then (in scope).

Scores (`score`): score = 1 + ⌊5 × the share of customers with a strictly worse value⌋, capped at 5,
where worse means older for R (so the most recent customers score 5) and smaller for F and M. In terms
of the cumulative distribution: score = min(5, 1 + ⌊5 × (1 − cume_dist)⌋) with cume_dist taken from
the best value down. Distinct values give plain quintiles (the worst fifth scores 1 … the best fifth
5); customers with equal values always share one score, the one their lowest-placed member would get,
so the score never depends on row order. Computed without ranking anyone (`cuts`, `score`): the
score is 1 + the number of the four quintile boundaries the value is better than. Consequence: a value shared by many customers keeps the low
score (with 60% single-order customers they all have F 1, and New Customers stay New Customers); a
large tie at the top can leave score 5 empty.

Segments: the rule set in settings (`segment_rules`: name, R range, F range), checked to cover each of
the 25 (R, F) cells exactly once. Every customer carries a reason such as
"At Risk: last order 143 days ago (R 2), 9 orders (F 4)".

Migration: the same scoring at each month end (customers and their orders up to that day), compared
month end to month end; new and lost Champions follow from it.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from ..period import Period, month_ends  # noqa: F401  (month_ends is part of this module's interface)
from ..settings import get_settings
from .scope import frame, held_at_latest, plural


def _better_is_larger(value: str, worse_first: str) -> str:
    """`value`, negated when larger values are worse, so that a larger result is always better."""
    assert worse_first in ("ASC", "DESC")
    return value if worse_first == "ASC" else f"-({value})"


def cuts(value: str, worse_first: str) -> str:
    """SQL aggregate (per snapshot: GROUP BY snap) for the four quintile boundaries of column `value`
    (`worse_first`: ASC when smaller is worse, DESC when larger is worse): boundary k (1-4) is the
    ⌈k·n/5⌉-th worst of the n values, DuckDB's discrete quantile at k/5 (the ⌈q·n⌉-th smallest value,
    q an exact decimal). Both arguments are fixed text from this package, never user input."""
    return f"quantile_disc({_better_is_larger(value, worse_first)}, [0.2, 0.4, 0.6, 0.8])"


def score(value: str, worse_first: str, boundaries: str) -> str:
    """SQL for the tie-fair 1–5 score of `value` given its snapshot's `boundaries` (from `cuts`): 1 + the
    number of boundaries the value is better than. The same as 1 + ⌊5 × worse / n⌋ capped at 5 (worse:
    customers with a strictly worse value): worse ≥ ⌈k·n/5⌉ exactly when the value beats the ⌈k·n/5⌉-th
    worst one, boundary k. Values are never NULL here."""
    better = _better_is_larger(value, worse_first)
    return "(1 + " + " + ".join(f"({better} > {boundaries}[{k}])::INTEGER" for k in range(1, 5)) + ")"


MEASURED_AS_OF = """
measured AS (  -- per customer with an order up to the as-of date: recency, frequency, monetary value, quantity, tenure
    SELECT $as_of AS snap, customer_id, date_diff('day', last_order, $as_of) AS recency_days, orders AS frequency,
           revenue::DOUBLE AS monetary, coalesce(quantity, 0)::DOUBLE AS quantity, first_order,
           date_diff('day', first_order, $as_of) AS tenure_days
    FROM buyers
)
"""

MEASURED_AT_MONTH_ENDS = """
snapshots AS (SELECT unnest($snapshots) AS snap),
month_totals AS (  -- per customer and month: orders, revenue, last order day; every month up to the first month end folded into it
    SELECT customer_id, greatest(last_day(month), $first_snapshot) AS month_end, sum(orders) AS orders,
           sum(revenue) AS revenue, max(last_day) AS last_order
    FROM customer_months_in_scope GROUP BY customer_id, month_end
),
running AS (  -- per customer and month end it ordered by: its figures up to then, and the next such month end
    SELECT customer_id, month_end, lead(month_end) OVER by_month AS next_end,
           (sum(orders) OVER up_to)::BIGINT AS frequency, (sum(revenue) OVER up_to)::DOUBLE AS monetary,
           max(last_order) OVER up_to AS last_order
    FROM month_totals
    WINDOW by_month AS (PARTITION BY customer_id ORDER BY month_end),
           up_to AS (PARTITION BY customer_id ORDER BY month_end ROWS UNBOUNDED PRECEDING)
),
measured AS (  -- per month end and customer with an order by then: recency, frequency, monetary value (each month
               -- end takes the running figures of the customer's last month end up to it)
    SELECT s.snap, r.customer_id, date_diff('day', r.last_order, s.snap) AS recency_days, r.frequency, r.monetary
    FROM snapshots s JOIN running r ON r.month_end <= s.snap AND (r.next_end IS NULL OR r.next_end > s.snap)
)
"""

def scores(measures: dict[str, tuple[str, str]]) -> str:
    """The CTEs `score_cuts` (per snapshot, the quintile boundaries of each measure; see `cuts`) and `scored`
    (every `measured` row with a 1–5 score per measure). `measures`: score column -> (value column,
    worse_first), fixed text from this package."""
    boundaries = ", ".join(f"{cuts(value, worse)} AS {name}_cuts" for name, (value, worse) in measures.items())
    columns = ", ".join(f"{score('m.' + value, worse, 'c.' + name + '_cuts')} AS {name}"
                        for name, (value, worse) in measures.items())
    return f"""
score_cuts AS (SELECT snap, {boundaries} FROM measured GROUP BY snap),
scored AS (SELECT m.*, {columns} FROM measured m JOIN score_cuts c USING (snap))"""


RFM = {"r": ("recency_days", "DESC"), "f": ("frequency", "ASC"), "m": ("monetary", "ASC")}
SCORES = scores(RFM)

SEGMENTED = f"""
rules AS (SELECT unnest($rules, recursive := true)),
cell_segments AS (  -- each of the 25 (R, F) cells with the one segment whose R and F ranges hold it
    SELECT cells.r, cells.f, rules.name AS segment
    FROM (SELECT r.r, f.f FROM range(1, 6) r(r), range(1, 6) f(f)) cells
    JOIN rules ON cells.r BETWEEN rules.r[1] AND rules.r[2] AND cells.f BETWEEN rules.f[1] AND rules.f[2]
),
segmented AS (  -- each scored customer in its cell's segment, with the reason
    SELECT s.*, c.segment,
           printf('%s: last order %d day%s ago (R %d), %d order%s (F %d)', c.segment,
                  s.recency_days, {plural('s.recency_days')},
                  s.r, s.frequency, {plural('s.frequency')}, s.f) AS reason
    FROM scored s JOIN cell_segments c ON c.r = s.r AND c.f = s.f
)
"""

HELD_SCORES = """
scored AS NOT MATERIALIZED (  -- the same as held by the `customer_scores` rollup (see loyalty.metrics.scores_rollup)
    SELECT * EXCLUDE (quarters) FROM customer_scores
)"""


def scored(con: duckdb.DuckDBPyConnection, period: Period) -> str:
    """The CTEs up to `segmented`: the customers measured and scored at the as-of date, or their held scores when
    the rollup answers (`scope.held_at_latest`)."""
    return (HELD_SCORES if held_at_latest(con, period) else MEASURED_AS_OF + "," + SCORES) + "," + SEGMENTED


def customer_segment(con: duckdb.DuckDBPyConnection, period: Period, customer_id: str) -> pd.DataFrame:
    """The segment, reason and scores of one customer (no row without an order by the as-of date), as in
    `rfm_customers`."""
    return frame(con, scored(con, period) + """
        SELECT segment, reason, r, f, m FROM segmented WHERE customer_id = $customer""",
                 period, customer=customer_id, rules=_rules(con))


def _rules(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return get_settings(con)["segment_rules"]


def rfm_customers(con: duckdb.DuckDBPyConnection, period: Period, segment: str | None = None) -> pd.DataFrame:
    """One row per customer with an order up to the as-of date (or only those of `segment`): R, F, M
    values and scores, segment and reason, largest revenue first."""
    return frame(con, scored(con, period) + """
        SELECT customer_id, recency_days, frequency, monetary, r, f, m, segment, reason
        FROM segmented WHERE $segment IS NULL OR segment = $segment
        ORDER BY monetary DESC, customer_id""", period, rules=_rules(con), segment=segment)


@dataclass(frozen=True)
class SegmentOverview:
    """Where the customers with an order up to the as-of date stand: `grid`, customers and revenue to date in
    each of the 25 (R, F) cells with the cell's segment (r, f, segment, customers, revenue); `summary`, the
    same per segment, every segment of the rule set listed, largest first (segment, customers, revenue)."""
    grid: pd.DataFrame
    summary: pd.DataFrame


def segment_overview(con: duckdb.DuckDBPyConnection, period: Period) -> SegmentOverview:
    """`SegmentOverview` from one scoring: a segment is a set of cells, so its figures add up its cells'."""
    table = frame(con, scored(con, period) + """,
        cell_totals AS MATERIALIZED (  -- the 25 cells, empty ones included
            SELECT c.r, c.f, c.segment, coalesce(t.customers, 0) AS customers, coalesce(t.revenue, 0) AS revenue
            FROM cell_segments c
            LEFT JOIN (SELECT r, f, count(*) AS customers, sum(monetary) AS revenue FROM scored GROUP BY r, f) t
                   ON t.r = c.r AND t.f = c.f
        )
        SELECT 'grid' AS part, r, f, segment, customers, revenue FROM cell_totals
        UNION ALL
        SELECT 'summary', NULL, NULL, rules.name, coalesce(sum(c.customers), 0)::BIGINT, coalesce(sum(c.revenue), 0)
        FROM rules LEFT JOIN cell_totals c ON c.segment = rules.name GROUP BY rules.name
        ORDER BY part, r, f, customers DESC, segment""", period, rules=_rules(con))
    grid = table[table["part"] == "grid"].astype({"r": int, "f": int})
    summary = table[table["part"] == "summary"]
    return SegmentOverview(grid=grid[["r", "f", "segment", "customers", "revenue"]].reset_index(drop=True),
                           summary=summary[["segment", "customers", "revenue"]].reset_index(drop=True))


MIGRATION = MEASURED_AT_MONTH_ENDS + "," + SCORES + "," + SEGMENTED + """,
moves AS (  -- each customer's segment at a month end next to its segment at the month end before ('New': no order then)
    SELECT a.snap AS month_end, coalesce(b.segment, 'New') AS segment_before, a.segment
    FROM segmented a LEFT JOIN segmented b ON b.customer_id = a.customer_id AND b.snap = last_day(a.snap - INTERVAL 1 MONTH)
    WHERE a.snap > $first_snapshot
)
"""


@dataclass(frozen=True)
class SegmentMovement:
    """Movement between segments over the last months' month ends: `moves` per month end, customers by the
    segment they were in at the month end before ('New' for customers without an order then) and the
    segment they are in now (month_end, segment_before, segment, customers); `champions` per month end, new
    Champions (Champions now, not at the month end before) and lost Champions (the reverse)."""
    moves: pd.DataFrame
    champions: pd.DataFrame


def segment_movement(con: duckdb.DuckDBPyConnection, period: Period, months: int = 12,
                     champion: str = "Champions") -> SegmentMovement:
    """`SegmentMovement` over the last `months` month ends up to the as-of date, from one scoring of every
    customer at the `months` + 1 month ends."""
    ends = month_ends(period.as_of, months + 1)
    table = frame(con, MIGRATION + """,
        move_counts AS (SELECT month_end, segment_before, segment, count(*) AS customers FROM moves GROUP BY ALL)
        SELECT 'moves' AS part, *, NULL AS new_champions, NULL AS lost_champions FROM move_counts
        UNION ALL
        SELECT 'champions', e.month_end, NULL, NULL, NULL,   -- every month end, zero without a move
               coalesce(sum(c.customers) FILTER (WHERE c.segment = $champion AND c.segment_before <> $champion), 0),
               coalesce(sum(c.customers) FILTER (WHERE c.segment_before = $champion AND c.segment <> $champion), 0)
        FROM (SELECT unnest($snapshots) AS month_end) e LEFT JOIN move_counts c USING (month_end)
        WHERE e.month_end > $first_snapshot
        GROUP BY e.month_end
        ORDER BY part, month_end, segment_before, segment""",
        period, rules=_rules(con), snapshots=ends, first_snapshot=ends[0], champion=champion)
    moves = table[table["part"] == "moves"]
    champions = table[table["part"] == "champions"]
    return SegmentMovement(
        moves=moves[["month_end", "segment_before", "segment", "customers"]].astype({"customers": int}).reset_index(drop=True),
        champions=champions[["month_end", "new_champions", "lost_champions"]]
        .astype({"new_champions": int, "lost_champions": int}).reset_index(drop=True))
