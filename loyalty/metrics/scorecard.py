"""The executive scorecard: each KPI with its value, target (settings), previous-period value, delta,
status and a 12-month trend.

Status: "on target" when the value meets the target in the KPI's direction, "within 10%" when it
misses by no more than a tenth of the target, "off" otherwise; "no target" without one and "no data"
when the value is missing or unavailable.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
import duckdb

from ..period import Period
from ..settings import get_settings
from .activity import activity, retention
from .concentration import top20_share
from .responsiveness import responsiveness
from .rfm import month_ends
from .scope import Unavailable, column_counts, missing_inputs, row


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
    Kpi("complaints_per_100", "Complaints per 100 customers", "per100", False),
]

CUSTOMER_FACTS = """
active AS (SELECT DISTINCT customer_id FROM orders_in_scope WHERE order_date BETWEEN $start AND $end)
SELECT count(*) FILTER (WHERE c.on_maintenance_plan) / nullif(count(c.on_maintenance_plan), 0) AS maintenance_share,
       (SELECT count(*) FROM customers_in_scope
        WHERE referred_by IS NOT NULL AND coalesce(created_at, $start) BETWEEN $start AND $end) AS referrals,
       (SELECT count(*) FROM customers_in_scope r JOIN known_customers k USING (customer_id)
        WHERE r.reference_willing) AS reference_willing
FROM active a LEFT JOIN customers_in_scope c USING (customer_id)
"""


def kpi_values(con: duckdb.DuckDBPyConnection, period: Period, counts: dict[str, int]) -> dict[str, object]:
    """The value of every KPI for one period (an `Unavailable` where the inputs are absent; `counts`
    from column_counts says which)."""
    act, ret = activity(con, period), retention(con, period)
    resp = responsiveness(con, period, active=act["active"], counts=counts)
    facts = row(con, CUSTOMER_FACTS, period)
    values = {
        "revenue": act["revenue"], "active_customers": act["active"], "new_customers": act["new"],
        "repeat_customer_rate": act["repeat_customer_rate"], "retention": ret["retention"],
        "churned_customers": ret["churned"], "top20_revenue_share": top20_share(con, period),
        "csat": resp["csat_mean"], "nps": resp["nps"],
        "maintenance_share": facts["maintenance_share"], "referrals": facts["referrals"],
        "reference_willing": facts["reference_willing"],
        "median_first_response_hours": resp["first_response_median_hours"],
        "sla_share": resp["first_response_sla_share"], "complaints_per_100": resp["complaints_per_100"],
    }
    for name, needs in (("maintenance_share", "customers.on_maintenance_plan"), ("referrals", "customers.referred_by"),
                        ("reference_willing", "customers.reference_willing")):
        values[name] = missing_inputs(con, needs, counts=counts) or values[name]
    return values


def status(kpi: Kpi, value, target) -> str:
    if value is None or isinstance(value, Unavailable):
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
    return None if value is None or isinstance(value, Unavailable) else value


def monthly_periods(period: Period, months: int = 12) -> list[Period]:
    """The calendar months (the last one ending on the as-of date's month end or before) of the trend."""
    return [replace(period, start=end.replace(day=1), end=end, as_of=end)
            for end in month_ends(period.as_of, months)]


def scorecard(con: duckdb.DuckDBPyConnection, period: Period, trend_months: int = 12) -> list[dict]:
    """One dict per KPI: name, label, unit, value, target, previous, delta, status, trend."""
    targets = get_settings(con)["targets"]
    counts = column_counts(con)
    now, before = kpi_values(con, period, counts), kpi_values(con, period.previous(), counts)
    trend = [kpi_values(con, month, counts) for month in monthly_periods(period, trend_months)]
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
