"""Cohorts with net and gross revenue retention; the scorecard against the single-period functions and pandas."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from loyalty.access import LOCAL_USER
from loyalty.metrics import activity, cohorts, concentration, responsiveness
from loyalty.metrics.scorecard import KPIS, scorecard, status
from loyalty.period import Period
from loyalty.settings import save_setting

SPRING = Period(date(2024, 4, 1), date(2024, 6, 30), date(2024, 6, 30))     # previous: January - March


@pytest.fixture
def cohort_store(add, mk):
    add("orders", [mk.order("J1", "2024-01-05", 100), mk.order("J1", "2024-02-10", 50), mk.order("J1", "2024-04-01", 30),
                   mk.order("J2", "2024-01-20", 200), mk.order("J2", "2024-03-03", -20), mk.order("J2", "2024-05-20", -10),
                   mk.order("F1", "2024-02-14", 80), mk.order("F1", "2024-05-05", 200)])


def test_cohort_retention_by_month_of_first_order(store, cohort_store):
    table = cohorts.cohort_retention(store, SPRING)
    table["cohort"] = table["cohort"].dt.date
    jan = table[table["cohort"] == date(2024, 1, 1)]
    assert jan["months_since"].tolist() == [0, 1, 2, 3, 4]
    assert jan["cohort_customers"].unique().tolist() == [2]
    assert jan["active_customers"].tolist() == [2, 1, 1, 1, 1]
    assert jan["customer_retention"].tolist() == [1.0, 0.5, 0.5, 0.5, 0.5]
    assert jan["revenue"].tolist() == [300, 50, -20, 30, -10]
    feb = table[table["cohort"] == date(2024, 2, 1)]
    assert feb[["months_since", "active_customers", "revenue"]].values.tolist() == [[0, 1, 80], [3, 1, 200]]


def test_net_and_gross_revenue_retention(store, cohort_store):
    result = cohorts.revenue_retention(store, SPRING)
    out = result.total
    # before: J1 150, J2 180, F1 80 (410); now: J1 30, J2 -10, F1 200; capped: 30, 0, 80
    assert out["previous_revenue"] == pytest.approx(410) and out["customers"] == 3
    assert out["nrr"] == pytest.approx(220 / 410) and out["grr"] == pytest.approx(110 / 410)
    by_cohort = result.by_cohort.set_index("cohort")
    assert by_cohort["customers"].tolist() == [2, 1]                  # J1 and J2 first ordered in January, F1 in February
    by_cohort.index = [c.date() if hasattr(c, "date") else c for c in by_cohort.index]
    assert by_cohort.at[date(2024, 1, 1), "nrr"] == pytest.approx(20 / 330)
    assert by_cohort.at[date(2024, 1, 1), "grr"] == pytest.approx(30 / 330)
    assert by_cohort.at[date(2024, 2, 1), "nrr"] == pytest.approx(2.5) and by_cohort.at[date(2024, 2, 1), "grr"] == 1.0


def test_revenue_retention_without_a_previous_period(store, cohort_store):
    early = Period(date(2023, 1, 1), date(2023, 12, 31), date(2023, 12, 31))
    result = cohorts.revenue_retention(store, early)
    assert result.total["customers"] == 0 and result.total["nrr"] is None and result.total["grr"] is None
    assert result.by_cohort.empty


@pytest.mark.parametrize("name, value, target, expected", [
    ("revenue", 100, 100, "on target"), ("revenue", 91, 100, "within 10%"), ("revenue", 89, 100, "off"),
    ("churned_customers", 10, 12, "on target"), ("churned_customers", 13, 12, "within 10%"),
    ("churned_customers", 14, 12, "off"), ("median_first_response_hours", 4.4, 4, "within 10%"),
    ("median_first_response_hours", 4.5, 4, "off"), ("nps", -5, -10, "on target"), ("nps", -10.5, -10, "within 10%"),
    ("sla_share", 0, 0.9, "off"), ("csat", 4.0, None, "no target"),
])
def test_status_respects_each_kpis_direction(name, value, target, expected):
    assert status(next(k for k in KPIS if k.name == name), value, target) == expected


@pytest.fixture
def busy_store(add, mk):
    """Two years of orders for six customers, with tickets and surveys, so every KPI has a value."""
    rows = []
    for i, customer in enumerate("ABCDEF"):
        for month in range(1 + i % 3, 25, 2 + i % 4):
            year, m = 2023 + (month - 1) // 12, (month - 1) % 12 + 1
            rows.append(mk.order(customer, f"{year}-{m:02d}-{5 + 3 * i:02d}", 10 * (i + 1) - (25 if month == 7 else 0)))
    add("orders", rows)
    add("customers", [{"customer_id": c, "on_maintenance_plan": c in "AB", "reference_willing": c == "C",
                       "referred_by": "A" if c == "F" else None, "created_at": date(2024, 3, 3) if c == "F" else None}
                      for c in "ABCDEF"])
    add("tickets", [{"customer_id": c, "opened_at": mk.ts(f"2024-{m:02d}-10 09:00"),
                     "first_response_at": mk.ts(f"2024-{m:02d}-10 1{m % 10}:00"), "resolved_at": mk.ts(f"2024-{m:02d}-12 09:00"),
                     "kind": "complaint" if m % 3 == 0 else "inquiry", "csat": 1 + m % 5}
                    for m in range(1, 13) for c in "AC"])
    add("surveys", [{"customer_id": c, "answered_at": mk.ts(f"2024-{m:02d}-20 12:00"), "nps": (m * 3) % 11}
                    for m in range(1, 13) for c in "BD"])
    return rows


def test_scorecard_agrees_with_the_single_period_functions(store, busy_store):
    year = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31))
    cards = {c["name"]: c for c in scorecard(store, year)}
    for p, key in ((year, "value"), (year.previous(), "previous")):
        act, resp = activity.activity(store, p), responsiveness.responsiveness(store, p)
        assert cards["revenue"][key] == pytest.approx(act["revenue"])
        assert cards["active_customers"][key] == act["active"] and cards["new_customers"][key] == act["new"]
        assert cards["repeat_customer_rate"][key] == act["repeat_customer_rate"]
        assert cards["retention"][key] == act["retention"] and cards["churned_customers"][key] == act["churned"]
        top20 = concentration.revenue_concentration(store, p).top20_share
        assert cards["top20_revenue_share"][key] == pytest.approx(top20)
        assert cards["csat"][key] == resp["csat_mean"] and cards["nps"][key] == resp["nps"]
        assert cards["median_first_response_hours"][key] == resp["first_response_median_hours"]
        assert cards["sla_share"][key] == resp["first_response_sla_share"]
        assert cards["complaints_per_100"][key] == resp["complaints_per_100"]
    for month, revenue, active in zip(year.months(12), cards["revenue"]["trend"], cards["active_customers"]["trend"]):
        act = activity.activity(store, month)
        assert (revenue, active) == (pytest.approx(act["revenue"]), act["active"])
    assert cards["revenue"]["delta"] == pytest.approx(cards["revenue"]["value"] - cards["revenue"]["previous"])


def test_scorecard_trend_and_customer_kpis_by_hand(store, busy_store):
    year = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31))
    save_setting(store, "targets", {"revenue": 1000}, user=LOCAL_USER)
    cards = {c["name"]: c for c in scorecard(store, year)}
    frame = pd.DataFrame(busy_store)
    frame["month"] = [d.replace(day=1) for d in frame["order_date"]]
    in_2024 = frame[frame["order_date"] >= date(2024, 1, 1)]
    monthly = in_2024.groupby("month")["amount"].sum()
    assert cards["revenue"]["trend"] == pytest.approx([float(monthly.get(date(2024, m, 1), 0)) for m in range(1, 13)])
    customers = in_2024.groupby("month")["customer_id"].nunique()
    assert cards["active_customers"]["trend"] == [int(customers.get(date(2024, m, 1), 0)) for m in range(1, 13)]
    assert cards["revenue"]["target"] == 1000
    assert cards["revenue"]["status"] == ("on target" if cards["revenue"]["value"] >= 1000 else
                                          "within 10%" if cards["revenue"]["value"] >= 900 else "off")
    active_2024 = set(in_2024["customer_id"])
    assert cards["maintenance_share"]["value"] == pytest.approx(len({"A", "B"} & active_2024) / len(active_2024))
    assert cards["referrals"]["value"] == 1 and cards["referrals"]["previous"] == 0       # F, created in March 2024
    assert cards["reference_willing"]["value"] == 1                                     # C
    assert len(cards) == len(KPIS) and all(len(c["trend"]) == 12 for c in cards.values())
