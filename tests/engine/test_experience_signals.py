"""Bad experiences and the at-risk list; every disloyalty signal with its reason."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from loyalty.metrics import experience, signals
from loyalty.metrics.scope import Unavailable
from loyalty.period import Period

AS_OF = date(2024, 12, 31)
YEAR = Period(date(2024, 1, 1), AS_OF, AS_OF)


@pytest.fixture
def rough_year(add, mk):
    d, t = mk.d, mk.ts
    add("orders", [
        mk.order("A", "2024-03-01", 100, promised_date=d("2024-03-05"), delivered_date=d("2024-03-08")),   # late
        mk.order("A", "2024-06-01", 100, promised_date=d("2024-06-10"), delivered_date=d("2024-06-09")),   # on time
        mk.order("A", "2023-12-10", 100, promised_date=d("2023-12-15"), delivered_date=d("2023-12-20")),   # late, too long ago
        mk.order("B", "2024-02-02", 500), mk.order("C", "2024-05-05", 70), mk.order("D", "2022-01-01", 5),
        mk.order("E", "2024-10-10", 50)])
    add("tickets", [
        {"customer_id": "A", "opened_at": t("2024-05-01 09:00"), "first_response_at": t("2024-05-01 09:30"), "kind": "complaint"},
        {"customer_id": "B", "opened_at": t("2024-07-01 09:00"), "first_response_at": t("2024-07-01 15:00"), "kind": "inquiry"},
        {"customer_id": "B", "opened_at": t("2024-07-02 09:00"), "first_response_at": t("2024-07-09 15:00"), "kind": "outreach"},
        {"customer_id": "C", "opened_at": t("2024-09-01 09:00"), "first_response_at": t("2024-09-01 09:10"), "kind": "inquiry",
         "csat": 1},
        {"customer_id": "E", "opened_at": t("2024-12-31 08:00"), "kind": "complaint"},     # unanswered, 16 h by the end of the day
    ])
    add("surveys", [{"customer_id": "B", "answered_at": t("2024-08-01 12:00"), "csat": 2, "nps": 5},
                    {"customer_id": "C", "answered_at": t("2023-06-01 12:00"), "nps": 0}])


def test_bad_experiences_per_customer(store, rough_year):
    table = experience.bad_experiences(store, YEAR).set_index("customer_id")
    assert table["bad_experiences"].to_dict() == {"A": 2, "B": 3, "C": 1, "D": 0, "E": 2}
    assert table.at["A", "reason"] == "1 late delivery, 1 complaint"
    assert table.at["B", "reason"] == "1 slow first response, 1 CSAT ≤ 2, 1 NPS ≤ 6"   # the outreach ticket is ours
    assert table.at["E", "reason"] == "1 complaint, 1 slow first response"
    assert table.at["D", "reason"] == ""


def test_the_twelve_months_start_the_day_after_the_same_day_a_year_before(store, add, mk):
    """As of 31 December 2024: a complaint on 31 December 2023 is too old, one opened at midnight of 1 January
    2024 counts, as do one on the as-of day and its unanswered request over the SLA; one the day after does not."""
    add("orders", [mk.order("A", "2024-03-01", 100)])
    add("tickets", [{"customer_id": "A", "opened_at": mk.ts(at), "first_response_at": mk.ts(at), "kind": "complaint"}
                    for at in ("2023-12-31 23:59:59", "2024-01-01 00:00", "2025-01-01 00:00")]
        + [{"customer_id": "A", "opened_at": mk.ts("2024-12-31 10:00"), "kind": "complaint"}])
    table = experience.bad_experiences(store, YEAR).set_index("customer_id")
    assert table.at["A", "reason"] == "2 complaints, 1 slow first response"


def test_at_risk_list_has_two_or_more_by_revenue_at_stake(store, rough_year):
    risky = experience.bad_experiences(store, YEAR, at_risk_only=True)
    assert risky[["customer_id", "revenue_12m"]].values.tolist() == [["B", 500], ["A", 200], ["E", 50]]



@pytest.fixture
def rougher_year(rough_year, add, mk):
    """D has no order in the last 12 months (so no signal) but two complaints; F has an order of 80 in them, two
    complaints and no signal (an outreach ticket in the last 90 days); C has a signal and one bad experience. G,
    whose first order comes after the as-of date, is not known yet and complained twice."""
    add("orders", [mk.order("F", "2024-11-20", 80), mk.order("G", "2025-02-01", 60)])
    add("tickets", [{"customer_id": who, "opened_at": mk.ts(f"{day} 09:00"), "first_response_at": mk.ts(f"{day} 09:05"),
                     "kind": kind} for who, day, kind in [("D", "2024-04-01", "complaint"), ("D", "2024-05-01", "complaint"),
                                                          ("F", "2024-12-01", "outreach"), ("F", "2024-12-02", "complaint"),
                                                          ("F", "2024-12-03", "complaint"), ("G", "2024-06-01", "complaint"),
                                                          ("G", "2024-07-01", "complaint")]])


def test_at_risk_customers_joins_the_signals_and_the_bad_experiences(store, rougher_year):
    """Everyone with a signal or 2+ bad experiences, once, by revenue at stake (see `rougher_year`); G's
    complaints put nobody on the list."""
    table = signals.at_risk_customers(store, YEAR)
    assert table[["customer_id", "revenue_12m"]].values.tolist() == [["B", 500], ["A", 200], ["F", 80], ["C", 70], ["E", 50],
                                                                     ["D", 0]]
    by_id = table.set_index("customer_id")
    assert by_id["bad_experiences"].fillna("none").to_dict() == {
        "B": "1 slow first response, 1 CSAT ≤ 2, 1 NPS ≤ 6", "A": "1 late delivery, 1 complaint", "C": "none",
        "E": "1 complaint, 1 slow first response", "D": "2 complaints", "F": "2 complaints"}
    flags = signals.customer_signals(store, YEAR).set_index("customer_id")
    assert set(flags.index) == {"A", "B", "C", "E"}
    for name in ("overdue", "declining_spend", "routine_only", "no_outreach_90d", "discount_dependent", "single_contact"):
        assert by_id.loc[flags.index, name].fillna("none").to_dict() == flags[name].fillna("none").to_dict(), name
        assert pd.isna(by_id.at["D", name]) and pd.isna(by_id.at["F", name])

def test_the_at_risk_counts_and_pages_hold_the_list_s_customers(store, rougher_year):
    """The counts per combination of reasons, and each page of the customers with some of the reasons, are
    those of the whole list (checked above): B, A, E and D had 2+ bad experiences, F too, without a signal."""
    table = signals.at_risk_customers(store, YEAR)
    reasons = list(signals.AT_RISK_REASONS)
    expected = table[reasons].notna().value_counts().sort_index().reset_index(name="customers")
    page = signals.at_risk_overview(store, YEAR, ("bad_experiences",), offset=1, limit=2)
    pd.testing.assert_frame_equal(page.counts, expected)
    assert page.rows["customer_id"].tolist() == ["A", "F"]
    pd.testing.assert_frame_equal(signals.at_risk_overview(store, YEAR, signals.AT_RISK_REASONS, offset=2, limit=3).rows,
                                  table.iloc[2:5].reset_index(drop=True))
    assert signals.at_risk_customers(store, YEAR, ("bad_experiences",))["customer_id"].tolist() == ["B", "A", "F", "E", "D"]
    for name in signals.NEEDS:
        chosen = signals.at_risk_customers(store, YEAR, (name,))
        assert chosen["customer_id"].tolist() == table.loc[table[name].notna(), "customer_id"].tolist(), name
    assert signals.at_risk_customers(store, YEAR, ()).empty


def test_missing_inputs_are_empty_columns_not_zeros(store, add, mk):
    add("orders", [mk.order("A", "2024-03-01", 100)])
    missing = experience.bad_experience_availability(store)
    assert str(missing["late_deliveries"]) == "not available: needs orders.promised_date"
    assert str(missing["low_csat"]) == "not available: needs tickets.csat or surveys.csat"
    table = experience.bad_experiences(store, YEAR)
    assert table[["late_deliveries", "complaints", "slow_responses", "low_csat", "low_nps"]].isna().all().all()
    assert table["bad_experiences"].tolist() == [0]


def test_churn_by_bad_experiences(store, add, mk):
    add("orders", [mk.order("K1", "2023-03-01", 10), mk.order("K2", "2023-04-01", 10), mk.order("K2", "2024-04-01", 10),
                   mk.order("K3", "2024-05-01", 10)])   # K3: new this period, not among the previous period's customers
    add("tickets", [{"customer_id": "K1", "opened_at": mk.ts("2023-05-01 09:00"), "kind": "complaint"},
                    {"customer_id": "K1", "opened_at": mk.ts("2023-06-01 09:00"), "kind": "complaint"}])
    table = experience.churn_by_experience(store, YEAR).set_index("customers_with")
    assert table.loc["2 or more bad experiences", ["customers", "churned", "churn_rate"]].tolist() == [1, 1, 1.0]
    assert table.loc["fewer than 2", ["customers", "churned", "churn_rate"]].tolist() == [1, 0, 0.0]


@pytest.fixture
def signal_store(add, mk):
    o = mk.order
    add("orders", [
        o("O1", "2024-01-01", 10, sales_rep="Ann"), o("O1", "2024-02-01", 10, sales_rep="Ann"),
        o("O1", "2024-03-01", 10, sales_rep="Ann"),
        o("O2", "2024-01-01", 10, sales_rep="Ann"), o("O2", "2024-02-01", 10, sales_rep="Ann"),
        o("D1", "2024-03-01", 1000, sales_rep="Ann"), o("D1", "2024-09-01", 600, sales_rep="Bo"),
        o("D2", "2024-03-01", 1000, sales_rep="Ann"), o("D2", "2024-09-01", 700, sales_rep="Bo"),
        o("R1", "2024-04-01", 10, channel="email", sales_rep="Ann"), o("R1", "2024-10-01", 10, channel="email", sales_rep="Bo"),
        o("R2", "2024-04-01", 10, channel="email", sales_rep="Ann"), o("R2", "2024-10-01", 10, channel="email", sales_rep="Bo"),
        o("R3", "2024-04-01", 10, channel="email", sales_rep="Ann"), o("R3", "2024-10-01", 10, channel="phone", sales_rep="Bo"),
        o("N1", "2024-11-01", 10, sales_rep="Ann"),
        o("DD1", "2024-05-01", 100, discount=10, sales_rep="Ann"), o("DD1", "2024-06-01", 100, discount=5, sales_rep="Bo"),
        o("DD2", "2024-05-01", 100, discount=10, sales_rep="Ann"), o("DD2", "2024-06-01", 100, sales_rep="Bo"),
        o("T1", "2024-11-11", 10, sales_rep="Ann"), o("T1", "2024-12-01", 10, sales_rep="Bo"),
        o("T2", "2024-11-11", 10, sales_rep="Ann"), o("T3", "2024-11-11", 10, sales_rep="Ann"),
        o("T4", "2024-11-11", 10, sales_rep="Bo"), o("T4", "2024-12-01", 10, sales_rep="Bo"),
        o("T5", "2024-11-11", 10, sales_rep="Bo"), o("T5", "2024-12-01", 10, sales_rep="Cy"),
    ])
    add("customers", [{"customer_id": "N1", "account_team": "Ann;Bo"}, {"customer_id": "T1", "account_team": "Ann"},
                      {"customer_id": "T2", "account_team": "Ann; Bo"}, {"customer_id": "T3", "account_team": "Cy;"}])
    add("tickets", [{"customer_id": "R2", "opened_at": mk.ts("2024-05-01 10:00"), "kind": "outreach"},
                    {"customer_id": "N1", "opened_at": mk.ts("2024-12-01 10:00"), "kind": "outreach"}])


def flagged(table, signal: str) -> set[str]:
    return set(table.loc[table[signal].notna(), "customer_id"])


def test_the_overdue_reason_says_how_often_the_customer_orders(store, add, mk):
    """Median gaps of 0 and 1 day read as words, not as "every 0": S ordered three times on one day (gaps 0, 0),
    E on three days in a row (gaps 1, 1), W every week (gaps 7, 7); all three are past twice their gap. D
    ordered three times the day before the as-of date: one day, singular."""
    add("orders", [mk.order(c, day, 10) for c, days in (("S", ["2024-12-01"] * 3), ("D", ["2024-12-30"] * 3),
                                                        ("E", ["2024-12-01", "2024-12-02", "2024-12-03"]),
                                                        ("W", ["2024-11-01", "2024-11-08", "2024-11-15"]))
                   for day in days])
    reasons = signals.customer_signals(store, YEAR).set_index("customer_id")["overdue"].to_dict()
    assert reasons == {"S": "overdue: 30 days since the last order, usually several orders the same day",
                       "E": "overdue: 28 days since the last order, usually one every day",
                       "W": "overdue: 46 days since the last order, usually one every 7 days",
                       "D": "overdue: 1 day since the last order, usually several orders the same day"}


def test_every_signal_flags_exactly_its_customers(store, signal_store):
    table = signals.customer_signals(store, YEAR)
    assert flagged(table, "overdue") == {"O1"}                  # 305 days since the last order, usually 30 between
    # nothing since July against spend before: O1, O2, DD1, DD2; D1 600 < 70% of 1000; D2's 700 is not below
    assert flagged(table, "declining_spend") == {"O1", "O2", "D1", "DD1", "DD2"}
    assert flagged(table, "routine_only") == {"R1"}             # R2 was reached out to, R3 also ordered by phone
    everyone = {"O1", "O2", "D1", "D2", "R1", "R2", "R3", "N1", "DD1", "DD2", "T1", "T2", "T3", "T4", "T5"}
    assert flagged(table, "no_outreach_90d") == everyone - {"N1"}
    assert flagged(table, "discount_dependent") == {"DD1"}      # DD2: half its revenue discounted
    assert flagged(table, "single_contact") == {"O1", "O2", "T1", "T3", "T4"}
    by_id = table.set_index("customer_id")
    assert by_id.at["O1", "overdue"] == "overdue: 305 days since the last order, usually one every 30 days"
    assert by_id.at["D1", "declining_spend"] == "declining spend: 600 in the last 6 months against 1,000 before"
    assert by_id.at["R1", "routine_only"] == "routine-only: all 2 orders of the last 12 months by email, no outreach"
    assert by_id.at["R2", "no_outreach_90d"] == "no outreach in 90 days (last 2024-05-01)"
    assert by_id.at["DD1", "discount_dependent"] == "discount-dependent: 100% of the last 12 months' revenue discounted"
    assert by_id.at["T1", "single_contact"] == "single-contact account: a team of one (Ann)"
    assert by_id.at["T4", "single_contact"] == "single-contact account: every order of the last 12 months from Bo"
    assert by_id.at["O1", "signals"] == 4 and by_id.at["O1", "reasons"].count("; ") == 3


def test_signals_whose_inputs_are_missing_are_never_raised(store, add, mk):
    add("orders", [mk.order("Q", "2024-01-01", 10), mk.order("Q", "2024-01-11", 10), mk.order("Q", "2024-01-21", 10)])
    table = signals.customer_signals(store, YEAR)
    assert table[["routine_only", "no_outreach_90d", "discount_dependent", "single_contact"]].isna().all().all()
    assert flagged(table, "overdue") == {"Q"}
    missing = signals.signal_availability(store)
    assert str(missing["routine_only"]) == "not available: needs orders.channel"
    assert str(missing["no_outreach_90d"]) == "not available: needs tickets.kind"
    assert str(missing["single_contact"]) == "not available: needs customers.account_team or orders.sales_rep"
    assert isinstance(missing["price_complaints"], Unavailable) and missing["overdue"] is None
    assert str(missing["bad_experiences"]) == \
        "not available: needs delivery dates on orders, support tickets or survey answers"


def test_one_customers_signals(store, signal_store):
    only = signals.customer_signals(store, YEAR, customer="T4")
    assert only["customer_id"].tolist() == ["T4"]
    assert signals.customer_signals(store, YEAR, customer="nobody").empty


def test_the_at_risk_columns_are_text_even_when_no_customer_has_the_signal(store, add, mk):
    """Orders only: the signals that need tickets, discounts or sales reps flag nobody, and their columns
    are still text columns (DuckDB hands an all-NULL text column over as Python objects). No bad experience
    can be counted, so the list holds the customers with a signal: A, not B (one recent order)."""
    add("orders", [mk.order("A", day, 10) for day in ("2024-01-01", "2024-02-01", "2024-03-01")])
    add("orders", [mk.order("B", "2024-12-01", 10)])
    table = signals.at_risk_customers(store, YEAR)
    assert list(table["customer_id"]) == ["A"]
    assert table.at[0, "overdue"] == "overdue: 305 days since the last order, usually one every 30 days"
    empty = ["bad_experiences", "routine_only", "no_outreach_90d", "discount_dependent", "single_contact"]
    assert table[empty].isna().all().all()
    assert {c: table[c].dtype for c in ["customer_id", "overdue"] + empty} == {
        c: pd.StringDtype(na_value=float("nan")) for c in ["customer_id", "overdue"] + empty}
