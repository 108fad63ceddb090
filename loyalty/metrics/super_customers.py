"""Super customers: regular, large, long-standing, bringing others in; a super customer meets at least
`super_customer_threshold` (default 3) of the four criteria, each shown per customer.

- regular: orders in ≥ 3 of the last 4 quarters;
- large: M score 5 or total quantity score 5 (the tie-fair RFM scoring, `rfm.score`);
- long-standing: tenure (days since the first order) score 5;
- bringing others: ≥ 1 customer names it in `referred_by`, or it is reference-willing.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from ..settings import get_settings
from .experience import BAD
from .rfm import SCORED
from .scope import frame

CRITERIA = SCORED + """,
referrals AS (
    SELECT referred_by AS customer_id, count(*) AS referrals FROM customers_in_scope
    WHERE referred_by IS NOT NULL AND (created_at IS NULL OR created_at <= $as_of) GROUP BY referred_by
),
criteria AS (
    SELECT s.customer_id, s.monetary AS revenue, s.frequency AS orders, s.tenure_days,
           coalesce(q.quarters, 0) >= 3 AS regular,
           (s.m = 5 OR s.q = 5) AS large,
           s.t = 5 AS long_standing,
           (coalesce(r.referrals, 0) >= 1 OR coalesce(c.reference_willing, FALSE)) AS bringing_others,
           coalesce(r.referrals, 0) AS referrals
    FROM segmented s
    LEFT JOIN active_quarters q USING (customer_id)
    LEFT JOIN referrals r USING (customer_id)
    LEFT JOIN customers_in_scope c USING (customer_id)
),
counted AS (
    SELECT *, regular::INTEGER + large::INTEGER + long_standing::INTEGER + bringing_others::INTEGER AS criteria_met,
           concat_ws(', ', CASE WHEN regular THEN 'regular' END, CASE WHEN large THEN 'large' END,
                     CASE WHEN long_standing THEN 'long-standing' END,
                     CASE WHEN bringing_others THEN 'brings others' END) AS meets
    FROM criteria
)
SELECT *, criteria_met >= $threshold AS is_super FROM counted
WHERE NOT $only_super OR criteria_met >= $threshold
ORDER BY criteria_met DESC, revenue DESC, customer_id
"""


def super_customers(con: duckdb.DuckDBPyConnection, period: Period, only_super: bool = True) -> pd.DataFrame:
    """Customers with the criteria each meets; by default only those meeting the threshold."""
    settings = get_settings(con)
    return frame(con, CRITERIA, period, rules=settings["segment_rules"],
                 threshold=settings["super_customer_threshold"], only_super=only_super)


def at_risk_super_customers(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Super customers with 2 or more bad experiences in the last 12 months, by revenue."""
    settings = get_settings(con)
    return frame(con, BAD + f""",
        supers AS (WITH {CRITERIA})
        SELECT s.customer_id, s.revenue, s.meets, c.bad_experiences, c.reason
        FROM supers s JOIN counted c USING (customer_id)
        WHERE c.bad_experiences >= 2 ORDER BY s.revenue DESC, s.customer_id""",
        period, rules=settings["segment_rules"], threshold=settings["super_customer_threshold"], only_super=True,
        sla_first=settings["sla_first_response_hours"], window_end=period.as_of)
