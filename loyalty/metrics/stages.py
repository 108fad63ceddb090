"""Loyalty stages (prospect → first-time → repeat → client → advocate), the funnel and stage history.

Each customer known at a date is in exactly one stage, the furthest reached by then:
- Prospect: in `customers` (created by then, or undated), no order;
- First-time: exactly 1 order;
- Repeat: ≥ 2 orders;
- Client: repeat and (orders in ≥ 3 of the last 4 quarters — the 3-month windows ending on the date —
  or on a maintenance plan);
- Advocate: client and (≥ 1 referral dated by then, or reference-willing, or latest NPS answer by then ≥ 9).
Maintenance plan and reference-willingness are the customers table's current values (it keeps no
history). Known customers are the customers with an order in scope by the date, plus prospects when
no order filter is set (see `loyalty.period`).

One query computes the stages at any list of dates (`_staged`): the as-of date for the counts
and the funnel, the month ends for the history and the transitions, so they always agree. At the latest order
date without a filter, each customer's cell bits (which of its months hold an order in which part of the dates'
quarters, see `snapshot_params`) are read from `customer_stage_cells`, kept at import for the funnel's dates
(`funnel_dates`), when the dates asked for are among them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from ..period import Period, last_quarters, month_ends
from .scope import Inputs, Unavailable, frame, held_at_latest, store_at_latest

STAGES = ["Prospect", "First-time", "Repeat", "Client", "Advocate"]

REFERRAL_LISTS = """
referral_lists AS (  -- per referrer: the dates of its referrals
    SELECT customer_id, list(coalesce(referred_on, DATE '-infinity')) AS referred_on FROM referral_dates GROUP BY customer_id
)
"""

SNAPSHOTS = """
snapshots AS (  -- snap: a date; i: its position among them; q1..q4: bit masks of the cells making up its last 4 quarters
    SELECT unnest($snapshots, recursive := true)
)"""

COMPUTED_CELLS = """
cells AS (SELECT unnest($cells, recursive := true)),   -- cell, cell_start, cell_end: disjoint day ranges (see snapshot_params)
month_cells AS (  -- each cell beside every calendar month it touches
    SELECT unnest(generate_series(date_trunc('month', cell_start), date_trunc('month', cell_end),
                                  INTERVAL 1 MONTH))::DATE AS month, cell, cell_start, cell_end
    FROM cells
),
customer_cells AS (  -- per customer: one bit per cell that overlaps one of its months' span from first to last order day
    SELECT m.customer_id, bit_or(1::BIGINT << c.cell) AS cells   -- (why that answers every quarter: see snapshot_params)
    FROM customer_months_in_scope m JOIN month_cells c   -- an equality join on the month, then the overlap
      ON c.month = m.month AND c.cell_start <= m.last_day AND c.cell_end >= m.first_day
    GROUP BY m.customer_id
)"""

KEPT_CELLS = """
customer_cells AS (  -- the same, kept at the latest order date for the cells of `funnel_dates` (`customer_stage_cells`)
    SELECT customer_id, cells FROM customer_stage_cells
)"""

ORDER_CELLS = SNAPSHOTS + "," + COMPUTED_CELLS + "," + REFERRAL_LISTS


def quarters_with_orders(cells: str, snapshot: str) -> str:
    """SQL: of a snapshot's last 4 quarters, how many hold an order, given a customer's `cells` bits."""
    return " + ".join(f"(({cells} & {snapshot}.q{k}) <> 0)::INTEGER" for k in range(1, 5))


def referrals_by(referred_on: str, day: str) -> str:
    """SQL: how many of a referrer's referral dates (`referred_on`, a list or NULL) fall on or before `day`."""
    return f"coalesce(len(list_filter({referred_on}, lambda d: d <= {day})), 0)"


SNAPSHOT_FACTS = f"""
customer_facts AS (  -- per customer in scope: the facts that do not depend on the date
    SELECT k.customer_id, k.since, k.first_order, k.second_order, coalesce(m.cells, 0) AS cells, r.referred_on,
           k.maintenance, k.reference
    FROM known_since k LEFT JOIN customer_cells m USING (customer_id) LEFT JOIN referral_lists r USING (customer_id)
),
nps_valid AS (  -- each NPS answer, valid until the customer's next one
    SELECT customer_id, nps, answered_at AS valid_from,
           coalesce(lead(answered_at) OVER (PARTITION BY customer_id ORDER BY answered_at, nps), TIMESTAMP 'infinity') AS valid_until
    FROM surveys_in_scope WHERE nps IS NOT NULL
),
nps_at AS (  -- per date and customer: its latest NPS answer by the end of that day
    SELECT s.snap, v.customer_id, v.nps AS latest_nps
    FROM snapshots s JOIN nps_valid v
      ON v.valid_from < s.snap + INTERVAL 1 DAY AND v.valid_until >= s.snap + INTERVAL 1 DAY
)
"""

FACTS_BY_CUSTOMER = f"""
facts_at AS NOT MATERIALIZED (  -- per date and customer known by then: everything its stage depends on (`orders` capped at 2)
    SELECT s.snap, f.customer_id,
           coalesce(f.first_order <= s.snap, FALSE)::INTEGER + coalesce(f.second_order <= s.snap, FALSE)::INTEGER AS orders,
           {quarters_with_orders('f.cells', 's')} AS quarters,
           f.maintenance, f.reference, {referrals_by('f.referred_on', 's.snap')} AS referrals,
           n.latest_nps, coalesce(n.latest_nps >= 9, FALSE) AS promoter
    FROM snapshots s JOIN customer_facts f ON f.since <= s.snap
    LEFT JOIN nps_at n ON n.snap = s.snap AND n.customer_id = f.customer_id
)
"""


def clamped(day: str) -> str:
    """SQL: `day`, or -infinity when on or before every date of `dates_span`, +infinity when after all of them
    (either way it compares with each of those dates as it did)."""
    return (f"CASE WHEN {day} <= d.first_snap THEN DATE '-infinity' WHEN {day} > d.last_snap THEN DATE 'infinity' "
            f"ELSE {day} END")


# Customers whose facts compare alike with every date are in the same stage at every date: the counts and the
# movement are computed once per group of them (at 10M orders, 77k groups for 427k customers).
FACTS_BY_GROUP = f"""
dates_span AS (SELECT min(snap) AS first_snap, max(snap) AS last_snap FROM snapshots),
promoters AS (  -- per customer with an NPS answer: one bit per date at which its latest answer was 9 or 10
    SELECT n.customer_id, bit_or(1::BIGINT << s.i) FILTER (WHERE n.latest_nps >= 9) AS promoter_at
    FROM nps_at n JOIN snapshots s USING (snap)
    GROUP BY n.customer_id
),
customer_groups AS MATERIALIZED (  -- the known customers, grouped by their facts (dates clamped to the dates' span):
                                 -- who (a number, the same for every reader: computed once), customers
    SELECT row_number() OVER () AS who, * FROM (
        SELECT {clamped('f.since')} AS since, {clamped('f.first_order')} AS first_order,
               {clamped('f.second_order')} AS second_order, f.cells, f.maintenance, f.reference,
               {clamped('list_min(f.referred_on)')} AS first_referral, coalesce(p.promoter_at, 0) AS promoter_at,
               count(*) AS customers
        FROM customer_facts f LEFT JOIN promoters p USING (customer_id), dates_span d
        GROUP BY ALL
    )
),
facts_at AS NOT MATERIALIZED (  -- per date and group known by then: what its stage depends on (`orders` capped at 2,
                                -- `referrals` at 1)
    SELECT s.snap, g.who, g.customers,
           coalesce(g.first_order <= s.snap, FALSE)::INTEGER
           + coalesce(g.second_order <= s.snap, FALSE)::INTEGER AS orders,
           {quarters_with_orders('g.cells', 's')} AS quarters,
           g.maintenance, g.reference, coalesce(g.first_referral <= s.snap, FALSE)::INTEGER AS referrals,
           (g.promoter_at & (1::BIGINT << s.i)) <> 0 AS promoter
    FROM snapshots s JOIN customer_groups g ON g.since <= s.snap
)
"""

STAGED = """
staged_at AS NOT MATERIALIZED (  -- per date and known customer (or group): the furthest stage reached, and its
                -- position in $stages (counting by position spares naming millions of rows)
    SELECT *, $stages[position] AS stage FROM (
        SELECT *, CASE
            WHEN orders = 0 THEN 1                                                           -- Prospect
            WHEN orders = 1 THEN 2                                                           -- First-time
            WHEN NOT (quarters >= 3 OR maintenance) THEN 3                                   -- Repeat
            WHEN NOT (referrals >= 1 OR reference OR promoter) THEN 4                          -- Client
            ELSE 5 END AS position                                                           -- Advocate
        FROM facts_at
    )
)
"""


def snapshot_params(dates: list[date], cut_by: list[date] | None = None) -> dict:
    """The $snapshots and $cells parameters for a list of dates, the cells cut by the last 4 quarters of `cut_by`
    (by default the dates themselves; a list holding them all: the masks then use the finer cells of that list, as
    `customer_stage_cells` keeps them for `funnel_dates`).

    The last 4 quarters of every date are cut into disjoint day ranges (cells: the date ranges between
    all their boundaries); each customer gets bits for the cells it ordered in (as below), and each date's
    quarters are masks of cells, so the customer months are read once however many dates there are.

    A customer's bits are the cells that overlap one of its months' span from the first to the last order
    day (the customer-month rollup keeps both). That answers every quarter exactly: a quarter is three
    months long, so its part of any month starts on the month's first day or ends on its last, and such a
    part holds an order exactly when it overlaps that span (it then holds the first order or the last),
    however many boundaries cut the month. A cell inside a month may get a bit without an order, but every
    quarter holding that cell also holds the part of the month that has the first or the last order."""
    quarters = {d: last_quarters(d) for d in {*dates, *(cut_by or [])}}
    bounds = sorted({start for qs in quarters.values() for start, _ in qs}
                    | {end + timedelta(days=1) for qs in quarters.values() for _, end in qs})
    if len(bounds) > 63:
        raise ValueError("Too many dates for one stage computation (at most 48 month ends).")
    index = {b: i for i, b in enumerate(bounds)}
    cells = [{"cell": i, "cell_start": b, "cell_end": after - timedelta(days=1)}
             for i, (b, after) in enumerate(zip(bounds, bounds[1:]))]

    def mask(start: date, end: date) -> int:
        return sum(1 << i for i in range(index[start], index[end + timedelta(days=1)]))

    snaps = [{"snap": d, "i": i, **{f"q{k + 1}": mask(*q) for k, q in enumerate(quarters[d])}}
             for i, d in enumerate(dates)]
    return {"snapshots": snaps, "cells": cells}


def _staged(con: duckdb.DuckDBPyConnection, period: Period, dates: list[date], select: str, by_group: bool = False,
            **extra) -> pd.DataFrame:
    """Run `select` over the stages at `dates` (each once: a date given twice would count its customers twice):
    `staged_at` holds a row per date and customer (customer_id), or with `by_group` per date and group of
    customers alike (who, customers)."""
    dates = sorted(set(dates))
    anchor = max([period, *[Period(d, d, d, period.filters) for d in dates]], key=lambda p: p.as_of)
    kept = funnel_dates(anchor.as_of) if held_at_latest(con, anchor) else []
    if not set(dates) <= set(kept):
        kept = []
    order_cells = SNAPSHOTS + "," + (KEPT_CELLS if kept else COMPUTED_CELLS) + "," + REFERRAL_LISTS
    facts = FACTS_BY_GROUP if by_group else FACTS_BY_CUSTOMER
    return frame(con, order_cells + "," + SNAPSHOT_FACTS + "," + facts + "," + STAGED + select, anchor,
                 **snapshot_params(dates, kept), stages=STAGES, **extra)


def funnel_dates(as_of: date, months: int = 12) -> list[date]:
    """The dates the funnel computes the stages at (`stage_overview`): the last `months` + 1 month ends up to the
    as-of date, and the as-of date."""
    return sorted({*month_ends(as_of, months + 1), as_of})


def store_stage_cells(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute `customer_stage_cells`: every customer's cell bits for `funnel_dates` at the latest order date,
    without a filter (what the funnel, the stage history and a customer's stages at those dates read instead of
    grouping every customer's months of the two years before; 10M orders: the funnel's stage statement ~160 ->
    ~100 ms)."""
    store_at_latest(con, "customer_stage_cells", COMPUTED_CELLS + " SELECT customer_id, cells FROM customer_cells",
                    lambda latest: snapshot_params(funnel_dates(latest)))


def customer_stages(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """One row per customer known at the as-of date with the facts behind its stage, and the stage."""
    return _staged(con, period, [period.as_of], " SELECT * EXCLUDE (snap) FROM staged_at ORDER BY customer_id")


def stage_counts(con: duckdb.DuckDBPyConnection, period: Period) -> dict[str, int]:
    """Customers per stage at the as-of date (every stage listed, zero when empty)."""
    return stage_history(con, period, dates=[period.as_of]).set_index("stage")["customers"].to_dict()


def stage_availability(con: duckdb.DuckDBPyConnection) -> dict[str, Unavailable | None]:
    """Per stage, the inputs it cannot see (None when all are there): prospects need customers rows;
    the client step reads maintenance plans, the advocate step referrals, reference-willingness or NPS
    (each stage is still computed from what is there, so a missing input can only hold customers back)."""
    inputs = Inputs(con)
    return {"Prospect": inputs.missing("customers.customer_id"), "First-time": None, "Repeat": None,
            "Client": inputs.missing("customers.on_maintenance_plan"),
            "Advocate": inputs.missing_all("customers.referred_by", "customers.reference_willing", "surveys.nps")}


def funnel(counts: dict[str, int]) -> pd.DataFrame:
    """Customers in and at-or-beyond each stage, and the conversion from the stage before (at or beyond
    this stage ÷ at or beyond the one before; None when that is empty)."""
    at_or_beyond = [sum(counts[s] for s in STAGES[i:]) for i in range(len(STAGES))]
    conversion = [None] + [b / a if a else None for a, b in zip(at_or_beyond, at_or_beyond[1:])]
    return pd.DataFrame({"stage": STAGES, "customers": [counts[s] for s in STAGES],
                         "at_or_beyond": at_or_beyond, "conversion": conversion})


# STAGE_COUNTS and STAGE_MOVES read the stages by group (`_staged(by_group=True)`).
STAGE_COUNTS = """
stage_grid AS (SELECT s.snap, st.stage, st.position FROM snapshots s, (SELECT unnest($stages) AS stage,
               generate_subscripts($stages, 1) AS position) st),
position_counts AS (SELECT snap, position, sum(customers)::BIGINT AS customers FROM staged_at GROUP BY snap, position),
stage_counts AS (  -- per date and stage (every stage listed): its customers
    SELECT g.snap AS month_end, g.stage, g.position, coalesce(c.customers, 0) AS customers
    FROM stage_grid g LEFT JOIN position_counts c USING (snap, position)
)
"""

STAGE_MOVES = """
stage_moves AS (  -- customers by their stage at $before and at $after ('Not yet known' when not known at $before)
    SELECT coalesce(b.stage, 'Not yet known') AS stage_before, a.stage AS stage_after,
           sum(a.customers)::BIGINT AS customers
    FROM staged_at a LEFT JOIN staged_at b ON b.who = a.who AND b.snap = $before
    WHERE a.snap = $after GROUP BY ALL
)
"""


def stage_history(con: duckdb.DuckDBPyConnection, period: Period, months: int = 12,
                  dates: list[date] | None = None) -> pd.DataFrame:
    """Customers per stage at each of the last `months` month ends up to the as-of date (or at `dates`):
    one row per date and stage, every stage listed."""
    dates = dates or month_ends(period.as_of, months)
    return _dates(_staged(con, period, dates, "," + STAGE_COUNTS + """
        SELECT month_end, stage, customers FROM stage_counts ORDER BY month_end, position""", by_group=True))


def stage_transitions(con: duckdb.DuckDBPyConnection, period: Period, before: date, after: date) -> pd.DataFrame:
    """Customers by their stage at `before` and at `after` ('Not yet known' for customers not known at
    `before`)."""
    return _staged(con, period, [before, after], "," + STAGE_MOVES + """
        SELECT * FROM stage_moves ORDER BY stage_before, stage_after""", by_group=True, before=before, after=after)


@dataclass(frozen=True)
class StageOverview:
    """What the funnel shows first: the counts at the as-of date, the history at the last 12 month ends, and
    the movement from the month end before them (`before`) to the last (`after`)."""
    counts: dict[str, int]
    history: pd.DataFrame
    moves: pd.DataFrame
    before: date
    after: date


def stage_overview(con: duckdb.DuckDBPyConnection, period: Period, months: int = 12) -> StageOverview:
    """`stage_counts`, `stage_history` and the default `stage_transitions` (the first and last of the last
    `months` + 1 month ends) from one computation of the stages at all those dates."""
    ends = month_ends(period.as_of, months + 1)
    before, after = ends[0], ends[-1]
    table = _staged(con, period, funnel_dates(period.as_of, months), "," + STAGE_COUNTS + "," + STAGE_MOVES + """
        SELECT 'counts' AS part, month_end, NULL AS stage_before, stage, customers, position FROM stage_counts
        UNION ALL
        SELECT 'moves', NULL, stage_before, stage_after, customers, NULL FROM stage_moves
        ORDER BY part, month_end, position, stage_before, stage""", by_group=True, before=before, after=after)
    counts = _dates(table[table["part"] == "counts"][["month_end", "stage", "customers"]].reset_index(drop=True))
    moves = table[table["part"] == "moves"][["stage_before", "stage", "customers"]].rename(columns={"stage": "stage_after"})
    at_as_of = counts[counts["month_end"] == period.as_of]
    history = counts[counts["month_end"].isin(ends[1:])].reset_index(drop=True)
    return StageOverview(counts=dict(zip(at_as_of["stage"], at_as_of["customers"].astype(int))), history=history,
                         moves=moves.reset_index(drop=True), before=before, after=after)


def customer_stage_history(con: duckdb.DuckDBPyConnection, period: Period, customer_id: str,
                           months: int = 12, dates: list[date] | None = None) -> pd.DataFrame:
    """One customer's stage at each of the last `months` month ends (or at `dates`; '—' before it was known)."""
    dates = dates or month_ends(period.as_of, months)
    return _dates(_staged(con, period, dates, """
        SELECT s.snap AS month_end, coalesce(t.stage, '—') AS stage
        FROM snapshots s LEFT JOIN staged_at t ON t.snap = s.snap AND t.customer_id = $customer
        ORDER BY s.snap""", customer=customer_id))


def _dates(table: pd.DataFrame) -> pd.DataFrame:
    """month_end as plain dates (the pages and tests index by them)."""
    table["month_end"] = [d.date() if hasattr(d, "date") else d for d in table["month_end"]]
    return table
