"""Loyalty stages (prospect → first-time → repeat → client → advocate), the funnel and stage history.

Each known customer is in exactly one stage, the furthest reached as of the as-of date:
Prospect (in `customers`, no order), First-time (1 order), Repeat (≥2 orders), Client (repeat and
(orders in ≥3 of the last 4 quarters, or on a maintenance plan)), Advocate (client and (≥1 referral,
or reference-willing, or latest NPS ≥ 9)).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb
import pandas as pd

from ..period import Period
from .rfm import month_ends
from .scope import SCOPE, bound, frame, params

STAGES = ["Prospect", "First-time", "Repeat", "Client", "Advocate"]

STAGED = """
referrals AS (
    SELECT referred_by AS customer_id, count(*) AS referrals FROM customers_in_scope
    WHERE referred_by IS NOT NULL AND (created_at IS NULL OR created_at <= $as_of) GROUP BY referred_by
),
latest_nps AS (
    SELECT customer_id, arg_max(nps, answered_at) AS nps FROM surveys_in_scope WHERE nps IS NOT NULL GROUP BY customer_id
),
facts AS (
    SELECT k.customer_id, coalesce(b.orders, 0) AS orders, coalesce(q.quarters, 0) AS quarters,
           coalesce(c.on_maintenance_plan, FALSE) AS maintenance, coalesce(c.reference_willing, FALSE) AS reference,
           coalesce(r.referrals, 0) AS referrals, n.nps AS latest_nps
    FROM known_customers k
    LEFT JOIN buyers b USING (customer_id)
    LEFT JOIN active_quarters q USING (customer_id)
    LEFT JOIN customers_in_scope c USING (customer_id)
    LEFT JOIN referrals r USING (customer_id)
    LEFT JOIN latest_nps n USING (customer_id)
),
staged AS (
    SELECT *, CASE
        WHEN orders = 0 THEN 'Prospect'
        WHEN orders = 1 THEN 'First-time'
        WHEN NOT (quarters >= 3 OR maintenance) THEN 'Repeat'
        WHEN NOT (referrals >= 1 OR reference OR coalesce(latest_nps >= 9, FALSE)) THEN 'Client'
        ELSE 'Advocate' END AS stage
    FROM facts
)
"""


def customer_stages(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """One row per known customer with the facts behind its stage, and the stage."""
    return frame(con, STAGED + " SELECT * FROM staged ORDER BY customer_id", period)


def stage_counts(con: duckdb.DuckDBPyConnection, period: Period) -> dict[str, int]:
    """Customers per stage (every stage listed, zero when empty)."""
    counts = frame(con, STAGED + " SELECT stage, count(*) AS customers FROM staged GROUP BY stage", period)
    found = dict(zip(counts["stage"], counts["customers"].astype(int)))
    return {stage: found.get(stage, 0) for stage in STAGES}


def funnel(counts: dict[str, int]) -> pd.DataFrame:
    """Customers at or beyond each stage and the conversion from the stage before."""
    at_or_beyond = [sum(counts[s] for s in STAGES[i:]) for i in range(len(STAGES))]
    conversion = [None] + [b / a if a else None for a, b in zip(at_or_beyond, at_or_beyond[1:])]
    return pd.DataFrame({"stage": STAGES, "customers": [counts[s] for s in STAGES],
                         "at_or_beyond": at_or_beyond, "conversion": conversion})


def stage_history(con: duckdb.DuckDBPyConnection, period: Period, months: int = 12) -> pd.DataFrame:
    """Customers per stage at each of the last `months` month ends (one row per month end and stage)."""
    rows = []
    for at in month_ends(period.as_of, months):
        for stage, customers in stage_counts(con, replace(period, as_of=at)).items():
            rows.append({"month_end": at, "stage": stage, "customers": customers})
    return pd.DataFrame(rows)


def stage_transitions(con: duckdb.DuckDBPyConnection, period: Period, before: date, after: date) -> pd.DataFrame:
    """Customers by their stage at `before` and at `after` (a transition table; 'Not yet known' for
    customers who were not known at `before`)."""
    con.execute("CREATE OR REPLACE TEMP TABLE stage_snapshots (snapshot DATE, customer_id VARCHAR, stage VARCHAR)")
    for at in (before, after):
        statement = f"INSERT INTO stage_snapshots WITH {SCOPE}, {STAGED} SELECT $as_of, customer_id, stage FROM staged"
        con.execute(statement, bound(statement, params(replace(period, as_of=at))))
    return con.execute("""
        SELECT coalesce(b.stage, 'Not yet known') AS stage_before, a.stage AS stage_after, count(*) AS customers
        FROM stage_snapshots a
        LEFT JOIN stage_snapshots b ON b.customer_id = a.customer_id AND b.snapshot = $before
        WHERE a.snapshot = $after GROUP BY ALL ORDER BY stage_before, stage_after""",
        {"before": before, "after": after}).df()
