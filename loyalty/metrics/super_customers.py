"""Super customers: regular, large, long-standing, bringing others in; a super customer meets at least
`super_customer_threshold` (default 3) of the four criteria, each shown per customer.

Over the customers with an order up to the as-of date:
- regular: orders in ≥ 3 of the last 4 quarters (the 3-month windows ending on the as-of date);
- large: M score 5 or total-quantity score 5 (the tie-fair scores of `rfm.score`: top quintile);
- long-standing: tenure (days since the first order) score 5;
- bringing others: ≥ 1 referral by the as-of date (a customer naming it in `referred_by`) or
  reference-willing. Without referral and reference columns this criterion is unknown (empty), and
  `super_customer_availability` says so; the count of criteria met covers the known ones.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from ..settings import get_settings
from .experience import BAD, bad_experiences_unavailable, bad_params
from .scope import Inputs, Unavailable, empty_frame, frame, held_at_latest
from .scores_rollup import scored_quarters
from .stages import referrals_by, snapshot_params


def criteria(held: bool) -> str:
    """The CTEs up to `super_criteria`, over the held scores when `held` (`scope.held_at_latest`)."""
    return scored_quarters(held) + f""",
criteria AS (  -- per customer with an order: the four criteria at the as-of date
    SELECT s.customer_id, s.monetary AS revenue, s.frequency AS orders, s.tenure_days, s.quantity,
           s.quarters >= 3 AS regular,
           s.m = 5 OR ($has_quantity AND s.q = 5) AS large,
           s.t = 5 AS long_standing,
           CASE WHEN $has_bringing
                THEN {referrals_by('r.referred_on', 's.snap')} >= 1 OR coalesce(c.reference_willing, FALSE) END AS bringing_others,
           {referrals_by('r.referred_on', 's.snap')} AS referrals
    FROM scored_quarters s
    LEFT JOIN referral_lists r USING (customer_id)
    LEFT JOIN customers_in_scope c USING (customer_id)
),
super_criteria AS (
    SELECT *, regular::INTEGER + large::INTEGER + long_standing::INTEGER + coalesce(bringing_others, FALSE)::INTEGER AS criteria_met,
           concat_ws(', ', CASE WHEN regular THEN 'regular' END, CASE WHEN large THEN 'large' END,
                     CASE WHEN long_standing THEN 'long-standing' END,
                     CASE WHEN bringing_others THEN 'brings others' END) AS meets
    FROM criteria
)
"""


def _params(con: duckdb.DuckDBPyConnection, period: Period, inputs: Inputs) -> dict:
    settings = get_settings(con)
    return {"threshold": settings["super_customer_threshold"],
            **snapshot_params([period.as_of]), "has_quantity": inputs.has("orders.quantity"),
            "has_bringing": super_customer_availability(con, inputs)["bringing_others"] is None}


def super_customer_availability(con: duckdb.DuckDBPyConnection, inputs: Inputs | None = None) -> dict[str, Unavailable | None]:
    """Per criterion, what is missing for it to be judged (None when it can be). Large falls back to the
    M score alone without quantities, so it is always judged."""
    inputs = inputs or Inputs(con)
    return {"regular": None, "large": None, "long_standing": None,
            "bringing_others": inputs.missing_all("customers.referred_by", "customers.reference_willing")}


def super_customers(con: duckdb.DuckDBPyConnection, period: Period, only_super: bool = True) -> pd.DataFrame:
    """Customers with the criteria each meets (`meets`, `criteria_met`, one column per criterion) and
    `is_super`; by default only those meeting the threshold; most criteria, then largest revenue first."""
    return frame(con, criteria(held_at_latest(con, period)) + """
        SELECT *, criteria_met >= $threshold AS is_super FROM super_criteria
        WHERE NOT $only_super OR criteria_met >= $threshold
        ORDER BY criteria_met DESC, revenue DESC, customer_id""",
        period, only_super=only_super, **_params(con, period, Inputs(con)))


AT_RISK_COLUMNS = {"customer_id": "str", "revenue": "float64", "meets": "str", "bad_experiences": "int64",
                   "reason": "str"}


def at_risk_super_customers(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Super customers with 2 or more bad experiences in the last 12 months, largest revenue first (none,
    without scoring anybody, when the store holds nothing any kind of bad experience is made of)."""
    inputs = Inputs(con)
    if bad_experiences_unavailable(con, inputs):
        return empty_frame(AT_RISK_COLUMNS)
    return frame(con, criteria(held_at_latest(con, period)) + "," + BAD + """
        SELECT s.customer_id, s.revenue, s.meets, b.bad_experiences::BIGINT AS bad_experiences, b.reason
        FROM super_criteria s JOIN bad_counts b USING (customer_id)
        WHERE s.criteria_met >= $threshold AND b.bad_experiences >= 2
        ORDER BY s.revenue DESC, s.customer_id""",
        period, **_params(con, period, inputs), **bad_params(con, period.as_of, inputs))
