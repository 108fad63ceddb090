"""Circumstantial loyalty, account-team coverage, top movers and the Customer 360 queries."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from loyalty.metrics import accounts, customer, movers, stages
from loyalty.metrics.scope import frame
from loyalty.period import Period

AS_OF = date(2024, 12, 31)
YEAR = Period(date(2024, 1, 1), AS_OF, AS_OF)


@pytest.fixture
def accounts_store(add, mk):
    o = mk.order
    add("orders", [
        o("W", "2024-02-01", 100, product="Widget"), o("W", "2024-05-01", 100, product="Widget"),
        o("W", "2024-08-01", 100, product="Widget"),                                # single product, 3 orders
        o("M", "2024-02-01", 100, product="Widget"), o("M", "2024-05-01", 100, product="Gadget"),
        o("M", "2024-08-01", 100, product="Widget"),                                # two products
        o("K", "2024-03-01", 90, discount=30), o("K", "2024-04-01", 10),            # 90% from discounted orders
        o("L", "2023-03-01", 500), o("L", "2024-03-01", 200),
    ])
    add("customers", [{"customer_id": "W", "account_team": "Ann;Bo;Cy"}, {"customer_id": "M", "account_team": "Ann;Bo"},
                      {"customer_id": "K", "account_team": "Ann"}])


def test_circumstantial_loyalty(store, accounts_store):
    table = accounts.circumstantial_loyalty(store, YEAR).set_index("customer_id")
    assert sorted(table.index) == ["K", "W"]
    assert bool(table.at["W", "single_product"]) and table.at["W", "only_product"] == "Widget"
    assert bool(table.at["K", "discount_dependent"]) and table.at["K", "discounted_pct"] == 90


def test_circumstantial_flags_say_what_they_need(store, add, mk, monkeypatch):
    add("orders", [mk.order("A", day, 100) for day in ("2024-02-01", "2024-03-01", "2024-04-01")])
    missing = accounts.circumstantial_availability(store)
    assert {flag: str(m) for flag, m in missing.items()} == {
        "discount_dependent": "not available: needs orders.discount", "single_product": "not available: needs orders.product"}
    with monkeypatch.context() as patched:   # neither flag can be raised: no query
        patched.setattr(accounts, "frame", lambda *args, **kwargs: pytest.fail("the orders were read"))
        none = accounts.circumstantial_loyalty(store, YEAR)
    queried = frame(store, accounts.CIRCUMSTANTIAL, YEAR)
    assert none.empty and queried.empty
    assert none.dtypes.to_dict() == queried.dtypes.to_dict()   # the query's columns and types
    add("orders", [mk.order("B", day, 100, product="Widget") for day in ("2024-02-01", "2024-03-01", "2024-04-01")])
    missing = accounts.circumstantial_availability(store)
    assert missing["single_product"] is None and missing["discount_dependent"] is not None
    assert accounts.circumstantial_loyalty(store, YEAR)["customer_id"].tolist() == ["B"]   # A's orders name no product


def test_account_team_coverage(store, accounts_store):
    table = accounts.account_team_coverage(store, YEAR).set_index("account_team")
    # revenue to date: W 300 (3 reps), M 300 (2 reps), K 100 (1 rep), L 700 (no team on record)
    assert table["customers"].to_dict() == {"1 rep": 1, "2 reps": 1, "3 or more reps": 1, "unknown": 1}
    assert table.at["unknown", "revenue"] == pytest.approx(700)
    assert table.at["1 rep", "revenue_share"] == pytest.approx(100 / 1400)


def test_top_movers(store, accounts_store):
    table = movers.top_movers(store, YEAR, n=1)
    # against 2023: L fell from 500 to 200; W and M rose by 300 each (M first by id)
    assert table[["direction", "customer_id", "change"]].values.tolist() == [["up", "M", 300.0], ["down", "L", -300.0]]


def test_customer_list_by_revenue_with_prospects_last_and_search_by_name(store, accounts_store, add):
    add("customers", [{"customer_id": "P1", "name": "Kappa Tools", "created_at": date(2024, 6, 1)},
                      {"customer_id": "P2", "name": "Later Ltd", "created_at": date(2099, 1, 1)}])
    # L 700, then M and W 300 (by id), K 100; P1 a prospect known since June (revenue 0); P2 not known yet
    assert customer.customer_ids(store, YEAR, search="") == ["L", "M", "W", "K", "P1"]
    assert customer.customer_ids(store, YEAR, search="KAPPA") == ["P1"]
    assert customer.customer_ids(store, YEAR, search="k") == ["K", "P1"]       # K by its id, P1 by its name
    assert customer.customer_ids(store, YEAR, search="later") == []
    assert customer.customer_ids(store, YEAR, search="", limit=2) == ["L", "M"]


def test_customer_360(store, accounts_store, add, mk):
    add("tickets", [{"customer_id": "K", "opened_at": mk.ts("2024-06-01 09:00"), "kind": "complaint"},
                    {"customer_id": "K", "opened_at": mk.ts("2024-07-01 09:00"), "kind": "complaint"}])
    assert customer.customer_ids(store, YEAR, search="")[:2] == ["L", "M"]       # by revenue: L 700, then M and W 300
    assert customer.customer_ids(store, YEAR, search="k") == ["K"]
    records = customer.customer_records(store, "W")
    assert records["customer"].at[0, "account_team"] == "Ann;Bo;Cy"
    assert customer.customer_order_totals(store, "L") == {"orders": 2, "revenue": 700.0}
    assert customer.customer_order_totals(store, "nobody") == {"orders": 0, "revenue": 0.0}
    monthly = customer.customer_monthly_revenue(store, "L")
    assert [(str(m)[:10], r) for m, r in monthly.itertuples(index=False)] == [("2023-03-01", 500.0), ("2024-03-01", 200.0)]
    # newest first, a page at a time: W ordered on 1 Feb, 1 May and 1 Aug 2024
    assert [str(d)[:10] for d in customer.customer_orders(store, "W")["order_date"]] == ["2024-08-01", "2024-05-01", "2024-02-01"]
    assert [str(d)[:10] for d in customer.customer_orders(store, "W", offset=1, limit=1)["order_date"]] == ["2024-05-01"]
    summary = customer.customer_summary(store, YEAR, "K")
    assert summary["stage"] == "Repeat" and summary["bad_experiences"] == 2 and summary["bad_reason"] == "2 complaints"
    assert summary["segment_reason"].startswith(summary["segment"] + ": last order 274 days ago")
    assert "single-contact account: a team of one (Ann)" in summary["signals"]
    # the month-end stages come with the summary, from the same stage computation (as of a day inside a month too)
    for period in (YEAR, Period(YEAR.start, date(2024, 11, 30), date(2024, 12, 20))):
        for who in ("K", "W", "L"):
            both = customer.customer_summary(store, period, who)
            pd.testing.assert_frame_equal(both["history"], stages.customer_stage_history(store, period, who))
            alone = stages.customer_stage_history(store, period, who, dates=[period.as_of]).at[0, "stage"]
            assert both["stage"] == (None if alone == "—" else alone)
    nobody = customer.customer_summary(store, YEAR, "nobody")
    assert nobody.pop("history")["stage"].tolist() == ["—"] * 12
    assert nobody == {"segment": None, "segment_reason": None, "stage": None, "bad_experiences": None,
                      "bad_reason": None, "signals": None}


def test_a_customer_summary_without_any_input_of_bad_experiences(store, add, mk):
    add("orders", [mk.order("A", "2024-02-01", 100)])
    summary = customer.customer_summary(store, YEAR, "A")
    assert str(summary["bad_experiences"]) == "not available: needs delivery dates on orders, support tickets or survey answers"
    assert summary["bad_reason"] is None and summary["stage"] == "First-time"
