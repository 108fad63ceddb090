"""The executive scorecard: each KPI with its value, target (settings), previous-period value, delta,
status and a 12-month trend.

Every KPI is computed for all the periods at once (the period, the previous period of the same length,
and the 12 calendar months up to the period's end for the trend): one query for the order and customer
KPIs, one for the service KPIs, whatever the number of periods.

- revenue, active customers, new customers, repeat-customer rate, retention, churned customers: as in
  `activity`; top-20% revenue share: as in `concentration`;
- CSAT (mean rating), NPS, median first-response time (hours), SLA share (first responses within the
  SLA), complaints per 100 active customers: as in `responsiveness`;
- on maintenance plans: the share of the period's active customers on a plan (of those whose flag is known);
- referrals: customers referred in the period (dated by their created_at, else their first order), by a
  customer in scope;
- reference-willing customers: known customers willing to be a reference at the period's as-of date
  (the customers table keeps no history, so this is today's flag over the customers known then).

Status: "on target" when the value meets the target in the KPI's direction, "within 10%" when it
misses by no more than a tenth of the target, "off" otherwise; "no target" without one and "no data"
when the value is missing or unavailable. Lower is better for churned customers, the top-20% share
(concentration risk; the default target reads "at most 80%"), response time and complaints.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ..db import side_by_side
from ..period import Period
from ..settings import get_settings
from .activity import ACTIVITY_BY_WINDOW, window_customers
from .concentration import TOP20, WINDOW_REVENUE
from .responsiveness import per_customer_and_input, service_by_window
from .scope import Inputs, Unavailable, anchor, available, ratio, rows


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    unit: str          # "count", "money", "share", "score", "hours", "per100"
    higher_is_better: bool


KPIS = [
    Kpi("revenue", "Revenue", "money", True),
    Kpi("active_customers", "Active customers", "count", True),
    Kpi("new_customers", "New customers", "count", True),
    Kpi("repeat_customer_rate", "Repeat-customer rate", "share", True),
    Kpi("retention", "Retention", "share", True),
    Kpi("churned_customers", "Churned customers", "count", False),
    Kpi("top20_revenue_share", "Top-20% revenue share", "share", False),
    Kpi("csat", "CSAT", "score", True),
    Kpi("nps", "NPS", "score", True),
    Kpi("maintenance_share", "On maintenance plans", "share", True),
    Kpi("referrals", "Referrals", "count", True),
    Kpi("reference_willing", "Reference-willing customers", "count", True),
    Kpi("median_first_response_hours", "Median first response", "hours", False),
    Kpi("sla_share", "First responses within SLA", "share", True),
    Kpi("complaints_per_100", "Complaints / 100 customers", "per100", False),
]

CUSTOMER_KPIS = {  # per window, from the customers table: CTE name -> (the column it reads, what it gives, its SQL)
    "maintenance": ("customers.on_maintenance_plan", "DOUBLE AS maintenance_share", """
maintenance AS (  -- per window: the share of its active customers on a maintenance plan
    SELECT w.w, count(*) FILTER (WHERE c.on_maintenance_plan) / nullif(count(c.on_maintenance_plan), 0) AS maintenance_share
    FROM windows w LEFT JOIN window_customers a ON a.w = w.w AND a.orders > 0
    LEFT JOIN customers_in_scope c ON c.customer_id = a.customer_id
    GROUP BY w.w
)"""),
    "referred": ("customers.referred_by", "BIGINT AS referrals", """
referred AS (  -- per window: customers referred in it by a customer in scope
    SELECT w.w, count(r.customer_id) AS referrals
    FROM windows w LEFT JOIN referral_dates r
      ON r.referred_on BETWEEN w.w_start AND w.w_end AND r.customer_id IN (SELECT customer_id FROM known_customers)
    GROUP BY w.w
)"""),
    "reference_counts": ("customers.reference_willing", "BIGINT AS reference_willing", """
reference_counts AS (  -- per window: reference-willing customers known at its as-of date
    SELECT w.w, count(r.customer_id) AS reference_willing
    FROM windows w LEFT JOIN (
        SELECT c.customer_id,
               CASE WHEN $order_filtered THEN b.first_order
                    ELSE least(b.first_order, coalesce(c.created_at, DATE '-infinity')) END AS known_since
        FROM customers_in_scope c LEFT JOIN buyers b USING (customer_id) WHERE c.reference_willing
    ) r ON r.known_since <= w.w_as_of
    GROUP BY w.w
)"""),
}


def customer_kpis(inputs: Inputs) -> str:
    """The CTEs of CUSTOMER_KPIS; one whose column holds nothing gives NULL without a query (the KPI is then
    unavailable: at 10M orders without a customers table, the maintenance share joined 900k window customers)."""
    return ",".join(sql if inputs.has(column) else f"\n{name} AS (SELECT w, NULL::{figure} FROM windows)"
                    for name, (column, figure, sql) in CUSTOMER_KPIS.items())


WINDOW_KPIS = WINDOW_REVENUE + "," + TOP20 + ",{customer_kpis}," + ACTIVITY_BY_WINDOW + """
SELECT * FROM activity JOIN shares USING (w) JOIN maintenance USING (w) JOIN referred USING (w)
JOIN reference_counts USING (w) ORDER BY w
"""


def kpi_values_by_window(con: duckdb.DuckDBPyConnection, periods: list[Period],
                         inputs: Inputs | None = None) -> list[dict[str, object]]:
    """The value of every KPI for each period (an `Unavailable` where the inputs are absent)."""
    inputs = inputs or Inputs(con)
    sql = window_customers(periods) + "," + WINDOW_KPIS.format(customer_kpis=customer_kpis(inputs))
    base, service = side_by_side(con, [lambda c: rows(c, sql, anchor(periods), windows=periods),
                                       lambda c: service_by_window(c, periods, inputs)])
    service = per_customer_and_input(service, [b["active"] for b in base], inputs)
    values = []
    for b, s in zip(base, service):
        values.append({
            "revenue": b["revenue"], "active_customers": b["active"], "new_customers": b["new"],
            "repeat_customer_rate": ratio(b["repeat_active"], b["active"]),
            "retention": ratio(b["retained"], b["previous_active"]), "churned_customers": b["churned"],
            "top20_revenue_share": b["top20_share"], "csat": s["csat_mean"], "nps": s["nps"],
            "maintenance_share": inputs.missing("customers.on_maintenance_plan") or b["maintenance_share"],
            "referrals": inputs.missing("customers.referred_by") or b["referrals"],
            "reference_willing": inputs.missing("customers.reference_willing") or b["reference_willing"],
            "median_first_response_hours": s["first_response_median_hours"],
            "sla_share": s["first_response_sla_share"], "complaints_per_100": s["complaints_per_100"],
        })
    return values


def kpi_values(con: duckdb.DuckDBPyConnection, period: Period, counts: dict[str, int] | None = None) -> dict[str, object]:
    """The value of every KPI for one period."""
    return kpi_values_by_window(con, [period], Inputs(con, counts))[0]


def status(kpi: Kpi, value, target) -> str:
    """on target / within 10% / off in the KPI's direction; no target; no data."""
    if not available(value):
        return "no data"
    if target is None:
        return "no target"
    slack = abs(target) * 0.1
    if (value >= target) if kpi.higher_is_better else (value <= target):
        return "on target"
    if (value >= target - slack) if kpi.higher_is_better else (value <= target + slack):
        return "within 10%"
    return "off"


def _number(value):
    return value if available(value) else None


def monthly_periods(period: Period, months: int = 12) -> list[Period]:
    """The calendar months of the trend: the last `months` up to the period's end (see Period.months)."""
    return period.months(months)


def scorecard(con: duckdb.DuckDBPyConnection, period: Period, trend_months: int = 12) -> list[dict]:
    """One dict per KPI: name, label, unit, higher_is_better, value, target, previous, delta, status, trend
    (the KPI for each of the last `trend_months` calendar months, oldest first; None where unavailable)."""
    targets = get_settings(con)["targets"]
    trend_periods = monthly_periods(period, trend_months) if trend_months else []
    values = kpi_values_by_window(con, [period, period.previous(), *trend_periods])
    now, before, trend = values[0], values[1], values[2:]
    cards = []
    for kpi in KPIS:
        value, previous, target = now[kpi.name], before[kpi.name], targets.get(kpi.name)
        delta = None if _number(value) is None or _number(previous) is None else value - previous
        cards.append({
            "name": kpi.name, "label": kpi.label, "unit": kpi.unit, "higher_is_better": kpi.higher_is_better,
            "value": value, "target": target, "previous": previous, "delta": delta,
            "status": status(kpi, value, target), "trend": [_number(t[kpi.name]) for t in trend],
        })
    return cards


__all__ = ["KPIS", "Kpi", "Unavailable", "kpi_values", "kpi_values_by_window", "monthly_periods", "scorecard", "status"]
