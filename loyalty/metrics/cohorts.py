"""Cohorts by month of first order: customer and revenue retention month by month, and net and gross
revenue retention (overall and per cohort).

- cohort: the calendar month of a customer's first order (in scope, up to the as-of date);
- customer retention k months on: the cohort's customers with an order in month k ÷ the cohort's size;
- net revenue retention (NRR): this period's revenue from the customers active in the previous period
  ÷ their revenue in the previous period;
- gross revenue retention (GRR): the same with each customer's revenue this period capped at its
  previous revenue (and floored at 0), so growth of some customers cannot hide the loss of others.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from ..period import Period, shift_months
from .scope import frame, ratio, records

COHORTS = """
cohort_of AS (SELECT customer_id, date_trunc('month', first_order)::DATE AS cohort FROM buyers),
monthly AS (  -- per customer and month: net revenue
    SELECT customer_id, month, revenue FROM customer_months_in_scope WHERE month >= $first_cohort
),
sizes AS (SELECT cohort, count(*) AS cohort_customers FROM cohort_of WHERE cohort >= $first_cohort GROUP BY cohort)
SELECT c.cohort, date_diff('month', c.cohort, m.month) AS months_since, s.cohort_customers,
       count(*) AS active_customers, count(*) / s.cohort_customers AS customer_retention,
       sum(m.revenue)::DOUBLE AS revenue
FROM monthly m JOIN cohort_of c USING (customer_id) JOIN sizes s USING (cohort)
GROUP BY c.cohort, months_since, s.cohort_customers ORDER BY c.cohort, months_since
"""


def cohort_retention(con: duckdb.DuckDBPyConnection, period: Period, months: int = 24) -> pd.DataFrame:
    """Per cohort (the last `months` cohorts up to the as-of date) and months since its first month:
    cohort size, active customers, their share of the cohort, and net revenue."""
    first = shift_months(period.as_of.replace(day=1), -(months - 1))
    return frame(con, COHORTS, period, first_cohort=first)


REVENUE_RETENTION = """
per_customer AS (  -- customers active in the previous period: their revenue then and now
    SELECT customer_id, previous_revenue::DOUBLE AS prev_revenue, coalesce(revenue, 0)::DOUBLE AS revenue
    FROM period_customers WHERE previous_orders > 0
)
SELECT date_trunc('month', b.first_order)::DATE AS cohort, count(*) AS customers,
       sum(p.prev_revenue) AS previous_revenue, sum(p.revenue) AS retained_revenue,
       sum(least(greatest(p.revenue, 0), p.prev_revenue)) AS capped_revenue
FROM per_customer p JOIN buyers b USING (customer_id)
GROUP BY GROUPING SETS ((cohort), ()) ORDER BY cohort NULLS FIRST
"""


@dataclass(frozen=True)
class RevenueRetention:
    """NRR and GRR of the period over all cohorts (`total`: customers, previous_revenue, retained_revenue,
    capped_revenue, nrr, grr; nrr and grr None when nobody was active in the previous period) and per cohort
    (`by_cohort`: one row per cohort with the same columns)."""
    total: dict
    by_cohort: pd.DataFrame


def revenue_retention(con: duckdb.DuckDBPyConnection, period: Period) -> RevenueRetention:
    """NRR and GRR of the customers active in the previous period (see the module docstring), overall and per
    cohort (month of first order), from one query."""
    rows = records(frame(con, REVENUE_RETENTION, period))
    for r in rows:
        r["nrr"] = ratio(r["retained_revenue"], r["previous_revenue"])
        r["grr"] = ratio(r["capped_revenue"], r["previous_revenue"])
    total = {k: v for k, v in rows[0].items() if k != "cohort"}
    by_cohort = pd.DataFrame(rows[1:], columns=["cohort", "customers", "previous_revenue", "retained_revenue",
                                                "capped_revenue", "nrr", "grr"])
    return RevenueRetention(total=total, by_cohort=by_cohort)
