"""Rules of thumb: verdicts from counts worked by hand, the z-test against scipy's chi-square test, and
the engagement comparison on a hand-built shop."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from scipy.stats import chi2_contingency

from loyalty.models.rules import compare_leaving, engagement_rule, pareto_rule, two_proportion_p_value
from loyalty.period import resolve_period
from tests.shop import insert, order


def test_the_z_test_agrees_with_the_chi_square_test():
    # for a 2×2 table the pooled two-proportion z-test and Pearson's chi-square (no continuity correction) agree
    expected = chi2_contingency([[40, 60], [25, 75]], correction=False).pvalue
    assert two_proportion_p_value(40, 100, 25, 100) == pytest.approx(expected)
    assert two_proportion_p_value(0, 30, 0, 40) == 1.0


def test_verdicts_from_counts():
    holds = compare_leaving("rule", "bad", "other customers", (40, 100, 25, 100), more=True)
    assert holds.holds is True
    assert holds.figure == "40% of bad did not order again, against 25% of other customers (1.6× as often)"
    assert holds.sample == "100 bad and 100 other customers, active in the previous period"
    chance = compare_leaving("rule", "bad", "other customers", (12, 30, 10, 30), more=True)
    assert chance.holds is None and chance.verdict.startswith("Not shown")
    wrong_way = compare_leaving("rule", "bad", "other customers", (10, 100, 25, 100), more=True)
    assert wrong_way.holds is False
    small = compare_leaving("rule", "bad", "other customers", (5, 10, 25, 100), more=True)
    assert small.holds is None and small.verdict.startswith("Cannot tell")


def test_engagement_on_a_hand_built_shop(con):
    # previous period 2023, this period 2024; 25 engaged customers (outreach in 2023) of whom 5 leave,
    # 25 others of whom 20 leave
    orders, tickets = [], []
    for i in range(50):
        customer = f"E{i}" if i < 25 else f"N{i}"
        orders.append(order(customer, "2023-03-01", 100, order_id=f"{customer}-1"))
        stays = i < 20 or 45 <= i
        if stays:
            orders.append(order(customer, "2024-03-01", 100, order_id=f"{customer}-2"))
        if i < 25:
            tickets.append({"ticket_id": f"T{i}", "customer_id": customer, "opened_at": datetime(2023, 5, 1, 9),
                            "kind": "outreach"})
        elif i < 30:   # a request answered after 10 h: not engaged
            tickets.append({"ticket_id": f"T{i}", "customer_id": customer, "opened_at": datetime(2023, 5, 1, 9),
                            "kind": "inquiry", "first_response_at": datetime(2023, 5, 1, 19)})
    insert(con, "orders", orders)
    insert(con, "tickets", tickets)
    period = resolve_period(date(2024, 12, 31), date(2024, 12, 31))
    check = engagement_rule(con, period)
    assert check.sample == "25 engaged customers and 25 other customers, active in the previous period"
    assert check.figure.startswith("20% of engaged customers did not order again, against 80% of other customers")
    assert check.holds is True
    pareto = pareto_rule(con, period)      # 25 customers with 100 each in 2024: the top 20% bring 20%
    assert pareto.figure == "the top 20% brought 20% of the period's revenue" and pareto.holds is False
    assert pareto.sample == "25 customers active in the period"
