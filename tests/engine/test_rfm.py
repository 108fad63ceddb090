"""RFM: tie-fair quintile scores, segments with reasons, editable rules, migration between month ends."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from loyalty.access import LOCAL_USER
from loyalty.db import session
from loyalty.metrics import rfm
from loyalty.period import Filters, Period
from loyalty.settings import save_setting

AS_OF = date(2024, 12, 31)
YEAR = Period(date(2024, 1, 1), AS_OF, AS_OF)


def tied_orders() -> list[dict]:
    """Ten customers with tied recencies, frequencies and revenues (see the worked scores below)."""
    days_ago = {"C1": 300, "C2": 300, "C3": 200, "C4": 100, "C5": 100, "C6": 100, "C7": 50, "C8": 10, "C9": 10, "C10": 0}
    counts = {"C7": 2, "C8": 2, "C9": 3, "C10": 10}
    rows = []
    for customer, ago in days_ago.items():
        last = AS_OF - timedelta(days=ago)
        for k in range(counts.get(customer, 1)):
            amount = -10 if customer == "C8" and k == 1 else 10       # C8's second order refunds the first
            rows.append({"customer_id": customer, "order_date": last - timedelta(days=k), "amount": amount})
    return rows


def test_one_customers_segment_equals_its_row_among_all(store, add):
    """customer_segment counts the customers with worse values; rfm_customers ranks them all: same answer,
    ties included (the tied set), and for 60 random customers."""
    rng = random.Random(5)
    rows = tied_orders() + [{"customer_id": f"R{c}", "order_date": AS_OF - timedelta(days=rng.randrange(400)),
                             "amount": rng.choice([10, 20, 20, 50, -5])} for c in range(60) for _ in range(rng.randrange(1, 5))]
    add("orders", rows)
    everyone = rfm.rfm_customers(store, YEAR).set_index("customer_id")
    for customer in everyone.index:
        one = rfm.customer_segment(store, YEAR, customer).iloc[0]
        expected = everyone.loc[customer]
        assert (one["segment"], one["reason"], one["r"], one["f"], one["m"]) == (
            expected["segment"], expected["reason"], expected["r"], expected["f"], expected["m"]), customer
    assert rfm.customer_segment(store, YEAR, "nobody").empty


def test_scores_are_quintiles_fair_to_ties(store, add):
    add("orders", tied_orders())
    scored = rfm.rfm_customers(store, YEAR).set_index("customer_id")
    # R, oldest first: 300 300 | 200 | 100 100 100 | 50 | 10 10 | 0. A value's score is 1 + ⌊5 × (customers
    # with an older last order) / 10⌋: 300 -> 1, 200 -> 1 + ⌊1⌋ = 2, 100 -> 1 + ⌊1.5⌋ = 2, 50 -> 4, 10 -> 4, 0 -> 5
    assert scored["r"].to_dict() == {"C1": 1, "C2": 1, "C3": 2, "C4": 2, "C5": 2, "C6": 2, "C7": 4, "C8": 4,
                                     "C9": 4, "C10": 5}
    # F: six customers with 1 order all score 1; 2 orders: 6 fewer -> 4; 3 orders: 8 -> 5; 10 orders: 9 -> 5
    assert scored["f"].to_dict() == {"C1": 1, "C2": 1, "C3": 1, "C4": 1, "C5": 1, "C6": 1, "C7": 4, "C8": 4,
                                     "C9": 5, "C10": 5}
    # M: C8 nets 0 (refund), six customers 10, C7 20, C9 30, C10 100
    assert scored["m"].to_dict() == {"C1": 1, "C2": 1, "C3": 1, "C4": 1, "C5": 1, "C6": 1, "C7": 4, "C8": 1,
                                     "C9": 5, "C10": 5}
    assert scored.at["C8", "monetary"] == 0
    assert scored["segment"].to_dict() == {
        "C1": "Hibernating", "C2": "Hibernating", "C3": "Hibernating", "C4": "Hibernating", "C5": "Hibernating",
        "C6": "Hibernating", "C7": "Loyal Customers", "C8": "Loyal Customers", "C9": "Loyal Customers",
        "C10": "Champions"}
    assert scored.at["C3", "reason"] == "Hibernating: last order 200 days ago (R 2), 1 order (F 1)"
    assert scored.at["C9", "reason"] == "Loyal Customers: last order 10 days ago (R 4), 3 orders (F 5)"


def test_row_order_never_changes_a_score(tmp_path, mk):
    rows = tied_orders()
    results = []
    for seed in range(3):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        with session(tmp_path / f"s{seed}.duckdb") as con:
            mk.insert(con, "orders", shuffled)
            results.append(rfm.rfm_customers(con, YEAR).sort_values("customer_id").reset_index(drop=True))
    assert results[0].equals(results[1]) and results[0].equals(results[2])


def test_single_customer_and_only_refunds(store, add, mk):
    add("orders", [mk.order("Solo", "2024-12-01", -25)])
    scored = rfm.rfm_customers(store, YEAR)
    # one customer: nobody is worse, so every score is 1 (Hibernating) — the rule, not a special case
    assert scored[["r", "f", "m", "segment"]].values.tolist() == [[1, 1, 1, "Hibernating"]]
    assert scored.at[0, "reason"] == "Hibernating: last order 30 days ago (R 1), 1 order (F 1)"


def test_summary_and_grid_cover_every_scored_customer(store, add):
    add("orders", tied_orders())
    overview = rfm.segment_overview(store, YEAR)
    summary = overview.summary.set_index("segment")
    assert summary["customers"].sum() == 10 and len(summary) == 10
    assert summary.at["Hibernating", "customers"] == 6 and summary.at["Loyal Customers", "revenue"] == pytest.approx(50)
    assert summary.at["At Risk", "customers"] == 0
    grid = overview.grid.set_index(["r", "f"])
    assert len(grid) == 25 and grid["customers"].sum() == 10
    assert grid.at[(2, 1), "customers"] == 4 and grid.at[(2, 1), "segment"] == "Hibernating"
    assert grid.at[(5, 5), "segment"] == "Champions" and grid.at[(5, 5), "revenue"] == pytest.approx(100)


def test_edited_segment_rules_apply(store, add):
    add("orders", tied_orders())
    save_setting(store, "segment_rules", [{"name": "Recent", "r": [4, 5], "f": [1, 5]},
                                          {"name": "Middle", "r": [3, 3], "f": [1, 5]},
                                          {"name": "Old", "r": [1, 2], "f": [1, 5]}], user=LOCAL_USER)
    summary = rfm.segment_overview(store, YEAR).summary.set_index("segment")["customers"].to_dict()
    assert summary == {"Recent": 4, "Middle": 0, "Old": 6}
    assert rfm.rfm_customers(store, YEAR, segment="Recent")["customer_id"].tolist() == ["C10", "C9", "C7", "C8"]


def test_no_customers_and_a_filter_that_selects_nothing(store, add):
    assert rfm.segment_overview(store, YEAR).summary["customers"].sum() == 0
    add("orders", tied_orders())
    nothing = Period(YEAR.start, YEAR.end, YEAR.as_of, Filters(channels=("phone",)))
    assert rfm.rfm_customers(store, nothing).empty and rfm.segment_overview(store, nothing).grid["customers"].sum() == 0


@pytest.fixture
def champion_falls(add, mk):
    """A becomes a Champion in November, then everyone else orders in December and A does not."""
    add("orders", [mk.order("A", "2024-11-27", 10), mk.order("A", "2024-11-28", 10), mk.order("A", "2024-11-29", 10),
                   mk.order("B", "2024-10-01", 10), mk.order("C", "2024-09-01", 10), mk.order("D", "2024-08-01", 10),
                   mk.order("E", "2024-07-01", 10),
                   mk.order("B", "2024-12-30", 10), mk.order("C", "2024-12-29", 10), mk.order("D", "2024-12-28", 10),
                   mk.order("E", "2024-12-27", 10)])


def test_segment_migration_and_champions(store, champion_falls):
    # 30 Nov: recency E 152, D 121, C 90, B 60, A 1 days -> R 1..5; orders A 3, others 1 -> F: A 5, others 1.
    #   A Champions (R5 F5), B Promising (R4 F1), C About to Sleep (R3 F1), D and E Hibernating.
    # 31 Dec: recency A 32, E 4, D 3, C 2, B 1 -> R: A 1, E 2, D 3, C 4, B 5; orders A 3, others 2 -> F: A 5, others 1.
    #   A Can't Lose Them (R1 F5), B New Customers, C Promising, D About to Sleep, E Hibernating.
    moves = rfm.segment_movement(store, YEAR, months=1).moves
    got = {(r.segment_before, r.segment): r.customers for r in moves.itertuples()}
    assert got == {("Champions", "Can't Lose Them"): 1, ("Promising", "New Customers"): 1,
                   ("About to Sleep", "Promising"): 1, ("Hibernating", "About to Sleep"): 1,
                   ("Hibernating", "Hibernating"): 1}
    movement = rfm.segment_movement(store, YEAR, months=2).champions
    # 30 Nov: A (no order by 31 Oct, so 'New' before) became a Champion; 31 Dec: A was lost
    assert [d.date() for d in movement["month_end"]] == [date(2024, 11, 30), date(2024, 12, 31)]
    assert movement[["new_champions", "lost_champions"]].values.tolist() == [[1, 0], [0, 1]]


def test_migration_snapshot_equals_the_scores_at_that_month_end(store, champion_falls):
    """The month-end snapshots and the as-of scoring are two formulations: they must agree."""
    moves = rfm.segment_movement(store, YEAR, months=1).moves
    at_nov = Period(date(2024, 1, 1), date(2024, 11, 30), date(2024, 11, 30))
    november = rfm.segment_overview(store, at_nov).summary.set_index("segment")["customers"]
    before = moves.groupby("segment_before")["customers"].sum()
    assert before.to_dict() == november[november > 0].to_dict()
    december = rfm.segment_overview(store, YEAR).summary.set_index("segment")["customers"]
    assert moves.groupby("segment")["customers"].sum().to_dict() == december[december > 0].to_dict()
