"""Activity, repeat rate, retention, lapsed customers and revenue concentration, on small worked stores."""
from __future__ import annotations

from datetime import date

import pytest

from loyalty.access import LOCAL_USER
from loyalty.metrics import activity, concentration
from loyalty.metrics.activity import activity_by_window
from loyalty.metrics.scorecard import kpi_values_by_window
from loyalty.period import Filters, Period
from loyalty.settings import save_setting

Q1 = Period(date(2024, 1, 1), date(2024, 3, 31), date(2024, 3, 31))


@pytest.fixture
def refunds(add, mk):
    """P buys twice in Q1 (one a full refund); S buys once in Q1; T bought in 2023 and refunds in Q1;
    U only ever bought in December 2023; V orders after the period (April)."""
    rows = [mk.order("P", "2024-01-10", 100), mk.order("P", "2024-02-10", -100),
            mk.order("S", "2024-03-31", 40),
            mk.order("T", "2023-11-05", 70), mk.order("T", "2024-01-20", -20),
            mk.order("U", "2023-12-24", 15),
            mk.order("V", "2024-04-02", 9)]
    add("orders", rows)
    return rows


def test_activity_counts_refunds_as_orders(store, refunds, ref):
    out = activity.activity(store, Q1)
    # active P, S, T; new P and S (first ever order in Q1), returning T; P's refund is an order
    assert (out["active"], out["new"], out["returning"], out["orders"]) == (3, 2, 1, 4)
    assert out["revenue"] == pytest.approx(100 - 100 + 40 - 20)
    assert out["repeat_customer_rate"] == pytest.approx(2 / 3)          # P (2 orders) and T (2); not S
    expected = ref.activity(refunds, Q1.start, Q1.end, Q1.as_of)
    assert {k: out[k] for k in expected} == pytest.approx(expected)


def test_repeat_rate_counts_orders_up_to_the_as_of_date(store, add, mk):
    """S's second order comes after the period but before the as-of date: it counts (contract §6)."""
    add("orders", [mk.order("S", "2024-03-31", 40), mk.order("S", "2024-04-15", 5)])
    late_as_of = Period(Q1.start, Q1.end, date(2024, 4, 30))
    assert activity.activity(store, late_as_of)["repeat_customer_rate"] == 1.0
    assert activity.activity(store, Q1)["repeat_customer_rate"] == 0.0


def test_retention_and_churn(store, refunds):
    out = activity.retention(store, Q1)
    # previous quarter Oct-Dec 2023: T and U active; T came back, U did not
    assert out == {"previous_active": 2, "retained": 1, "churned": 1, "retention": 0.5}


def test_empty_period_and_no_previous_activity(store, refunds):
    empty = Period(date(2030, 1, 1), date(2030, 3, 31), date(2030, 3, 31))
    out = activity.activity(store, empty)
    assert (out["active"], out["orders"], out["revenue"], out["repeat_customer_rate"]) == (0, 0, 0.0, None)
    nobody = concentration.revenue_concentration(store, empty)
    assert out["retention"] is None and nobody.top20_share is None
    assert nobody.curve.values.tolist() == [[0.0, 0.0]]


def test_an_empty_store_gives_zero_counts_and_no_rates(store):
    out = activity.activity(store, Q1)
    assert (out["active"], out["revenue"], out["repeat_customer_rate"], out["retention"]) == (0, 0.0, None, None)
    assert activity.lapsed_customers(store, Q1).empty


def test_filters_that_select_nothing(store, refunds, add):
    add("customers", [{"customer_id": "P", "region": "North"}])
    for filters in (Filters(regions=("Atlantis",)), Filters(channels=("edi",)), Filters(sales_reps=("Nobody",))):
        out = activity.activity(store, Period(Q1.start, Q1.end, Q1.as_of, filters))
        assert (out["active"], out["orders"], out["revenue"]) == (0, 0, 0.0)


def test_region_filter_selects_customers_and_channel_filter_selects_orders(store, add, mk):
    add("customers", [{"customer_id": "A", "region": "North"}, {"customer_id": "B", "region": "South"}])
    add("orders", [mk.order("A", "2024-01-05", 10, channel="web"), mk.order("A", "2024-02-05", 20, channel="email"),
                   mk.order("B", "2024-01-07", 30, channel="web"),
                   mk.order("C", "2024-01-09", 40, channel="web")])      # C has no customers row
    north = activity.activity(store, Period(Q1.start, Q1.end, Q1.as_of, Filters(regions=("North",))))
    assert (north["active"], north["revenue"]) == (1, 30.0)
    web = activity.activity(store, Period(Q1.start, Q1.end, Q1.as_of, Filters(channels=("web",))))
    # only the web orders count: A has one of them, so within the filter A is not a repeat customer
    assert (web["active"], web["orders"], web["revenue"], web["repeat_customer_rate"]) == (3, 3, 80.0, 0.0)
    both = activity.activity(store, Period(Q1.start, Q1.end, Q1.as_of, Filters(regions=("North", "South"),
                                                                                 channels=("email",))))
    assert (both["active"], both["revenue"]) == (1, 20.0)


def test_a_channel_filter_keeps_a_month_s_customers_by_their_orders_in_that_channel_alone(store, add, mk):
    """Retention month by month under a channel filter: A ordered by web in January and March but by email in
    February, so by web A was not active in February and is not kept in March; B, by web in January and February,
    is kept in February and lost in March."""
    add("orders", [mk.order("A", "2024-01-10", 10, channel="web"), mk.order("A", "2024-02-10", 10, channel="email"),
                   mk.order("A", "2024-03-10", 10, channel="web"), mk.order("B", "2024-01-12", 10, channel="web"),
                   mk.order("B", "2024-02-12", 10, channel="web")])
    months = [Period(date(2024, 2, 1), date(2024, 2, 29), date(2024, 2, 29)),
              Period(date(2024, 3, 1), date(2024, 3, 31), date(2024, 3, 31))]
    web = [Period(p.start, p.end, p.as_of, Filters(channels=("web",))) for p in months]
    kept = ("active", "previous_active", "retained", "churned")
    assert [tuple(m[k] for k in kept) for m in activity_by_window(store, web)] == [(1, 2, 1, 1), (1, 1, 0, 1)]
    assert [tuple(m[k] for k in kept) for m in activity_by_window(store, months)] == [(2, 2, 2, 0), (1, 2, 1, 1)]


def test_windows_agree_with_single_periods(store, refunds):
    periods = [Q1, Q1.previous(), Period(date(2024, 2, 1), date(2024, 2, 29), date(2024, 2, 29)),
               Period(date(2030, 1, 1), date(2030, 1, 31), date(2030, 1, 31))]
    assert activity_by_window(store, periods) == [activity.activity(store, p) for p in periods]
    assert [v["top20_revenue_share"] for v in kpi_values_by_window(store, periods)] == [
        concentration.revenue_concentration(store, p).top20_share for p in periods]


def test_a_window_as_of_a_day_inside_it_is_refused(store, refunds):
    """A window as of a day before its end would count orders after that day, unlike the period alone."""
    cut_short = Period(date(2024, 2, 1), date(2024, 2, 29), date(2024, 2, 9))
    with pytest.raises(ValueError, match="before its last day"):
        activity_by_window(store, [Q1, cut_short])          # Q1's scope holds P's refund of 10 February
    assert activity.activity(store, cut_short)["active"] == 0    # alone, its scope ends on the 9th


def test_lapsed_by_window_and_by_own_gap(store, add, mk):
    add("orders", [mk.order("A", "2024-01-01", 10), mk.order("A", "2024-01-11", 10), mk.order("A", "2024-01-21", 10),
                   mk.order("B", "2024-02-01", 10),
                   mk.order("C", "2024-06-01", 10)] + [mk.order("D", "2024-12-30", 10)] * 3)
    at = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31))
    # A: 345 days since its last order, B: 334, C: 213, D: 1; none is over 365 days
    assert activity.lapsed_customers(store, at).empty
    save_setting(store, "churn_window_days", 300, user=LOCAL_USER)
    assert sorted(activity.lapsed_customers(store, at)["customer_id"]) == ["A", "B"]
    save_setting(store, "churn_window_days", 365, user=LOCAL_USER)
    save_setting(store, "lapsed_by_own_gap", True, user=LOCAL_USER)
    lapsed = activity.lapsed_customers(store, at).set_index("customer_id")
    # A's median gap is 10 days: lapsed after 30; B and C have no gap and keep the 365-day window; D ordered
    # three times on one day (median gap 0): lapsed the next day
    assert list(lapsed.index) == ["A", "D"] and lapsed.at["A", "allowed_days"] == 30
    assert lapsed.at["A", "reason"] == "lapsed: no order for 345 days (allowed 30)"
    assert lapsed.at["D", "reason"] == "lapsed: no order for 1 day (allowed 0)"


def test_top20_share_with_ties_and_refunds(store, add, mk):
    # period revenue: A 500, B 200, C 200, D 50, E -30 (net refund) -> total 920; top 20% of 5 = 1 customer
    add("orders", [mk.order("A", "2024-01-02", 500), mk.order("B", "2024-01-03", 200), mk.order("C", "2024-01-04", 200),
                   mk.order("D", "2024-01-05", 50), mk.order("E", "2024-01-06", 20), mk.order("E", "2024-01-07", -50)])
    out = concentration.revenue_concentration(store, Q1)
    assert out.top20_share == pytest.approx(500 / 920)
    curve = out.curve
    assert curve["customer_share"].tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert curve["revenue_share"].tolist() == pytest.approx([0, 500 / 920, 700 / 920, 900 / 920, 950 / 920, 1.0])
