"""Loyalty stages, funnel, history and transitions on a store that walks every path of the definition."""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from loyalty.metrics import stages
from loyalty.period import Filters, Period, month_ends

AS_OF = date(2024, 12, 31)
YEAR = Period(date(2024, 1, 1), AS_OF, AS_OF)

# customer -> order dates, and its customers row (None: no row); NPS answers as (time, score)
MODEL = {
    "P1": {"orders": [], "row": {"created_at": date(2024, 5, 1)}},                       # prospect
    "P2": {"orders": [], "row": {"created_at": date(2025, 2, 1)}},                       # not known yet
    "P3": {"orders": [], "row": {}},                                                     # undated prospect
    "F1": {"orders": ["2024-06-15"], "row": None},                                       # first-time
    "F2": {"orders": ["2025-01-05"], "row": {"created_at": date(2024, 1, 1)}},           # ordered after the as-of date
    "R1": {"orders": ["2024-01-10", "2024-02-10"], "row": None},                         # repeat, one quarter
    "R0": {"orders": ["2021-03-03", "2021-04-04"], "row": None},                         # repeat, no recent quarter
    "C1": {"orders": ["2024-02-01", "2024-05-01", "2024-11-01"], "row": None},           # client: 3 of 4 quarters
    "C2": {"orders": ["2020-01-01", "2020-02-01"], "row": {"on_maintenance_plan": True}},
    "A1": {"orders": ["2024-01-05", "2024-04-05", "2024-07-05"], "row": {"reference_willing": True}},
    "A2": {"orders": ["2023-01-01", "2023-06-01"], "row": {"on_maintenance_plan": True},
           "nps": [("2024-02-01 10:00", 3), ("2024-08-01 10:00", 9)]},
    "A3": {"orders": ["2023-01-01", "2023-06-01"], "row": {"on_maintenance_plan": True},
           "nps": [("2024-02-01 10:00", 10), ("2024-09-01 10:00", 5)]},
    "A4": {"orders": ["2024-03-03", "2024-06-03", "2024-09-03", "2024-12-03"], "row": {}},
    "X": {"orders": [], "row": {"created_at": date(2024, 3, 1), "referred_by": "A4"}},   # A4's referral
    "A5": {"orders": ["2024-03-03", "2024-06-03", "2024-09-03"], "row": {}},
    "Y": {"orders": [], "row": {"created_at": date(2025, 3, 1), "referred_by": "A5"}},   # referred after the as-of date
    "A6": {"orders": ["2022-05-05", "2022-06-06"], "row": {"on_maintenance_plan": True},
           "nps": [("2025-01-10 10:00", 10)]},                                          # answered after the as-of date
}


def load(add, mk, model=MODEL):
    add("orders", [mk.order(c, day, 10, channel="web") for c, facts in model.items() for day in facts["orders"]])
    add("customers", [{"customer_id": c, "region": "North" if c in ("P1", "A1") else "South", **facts["row"]}
                      for c, facts in model.items() if facts["row"] is not None])
    add("surveys", [{"customer_id": c, "answered_at": datetime.fromisoformat(t), "nps": n}
                    for c, facts in model.items() for t, n in facts.get("nps", [])])


def expected_stages(ref, at: date) -> dict[str, str]:
    """Every customer's stage at `at`, from the model and the reference definition."""
    out = {}
    for c, facts in MODEL.items():
        row = facts["row"]
        dates = [date.fromisoformat(x) for x in facts["orders"] if date.fromisoformat(x) <= at]
        known = bool(dates) or (row is not None and (row.get("created_at") is None or row["created_at"] <= at))
        if not known:
            continue
        referrals = sum(1 for f in MODEL.values() if f["row"] and f["row"].get("referred_by") == c
                        and f["row"]["created_at"] <= at)
        answers = [n for t, n in sorted(facts.get("nps", [])) if datetime.fromisoformat(t).date() <= at]
        out[c] = ref.stage(dates, at, maintenance=bool(row and row.get("on_maintenance_plan")),
                           reference=bool(row and row.get("reference_willing")), referrals=referrals,
                           nps=answers[-1] if answers else None)
    return out


def test_each_customer_reaches_the_furthest_stage(store, add, mk, ref):
    load(add, mk)
    table = stages.customer_stages(store, YEAR).set_index("customer_id")
    assert table["stage"].to_dict() == {
        "P1": "Prospect", "P3": "Prospect", "F2": "Prospect", "X": "Prospect", "F1": "First-time", "R1": "Repeat", "R0": "Repeat",
        "C1": "Client", "C2": "Client", "A3": "Client", "A5": "Client", "A6": "Client",
        "A1": "Advocate", "A2": "Advocate", "A4": "Advocate"}
    assert table["stage"].to_dict() == expected_stages(ref, AS_OF)      # the same from the reference model
    assert table.at["C1", "quarters"] == 3 and table.at["A4", "referrals"] == 1 and table.at["A5", "referrals"] == 0
    assert table.at["A3", "latest_nps"] == 5


def test_counts_and_funnel(store, add, mk):
    load(add, mk)
    counts = stages.stage_counts(store, YEAR)
    assert counts == {"Prospect": 4, "First-time": 1, "Repeat": 2, "Client": 5, "Advocate": 3}
    table = stages.funnel(counts)
    assert table["at_or_beyond"].tolist() == [15, 11, 10, 8, 3]
    assert table["conversion"].tolist()[1:] == pytest.approx([11 / 15, 10 / 11, 8 / 10, 3 / 8])
    assert pd.isna(table["conversion"].tolist()[0])


def test_history_month_by_month_matches_the_reference(store, add, mk, ref):
    load(add, mk)
    history = stages.stage_history(store, YEAR, months=12)
    assert list(history["month_end"].drop_duplicates()) == month_ends(AS_OF, 12)
    for at, rows in history.groupby("month_end"):
        expected = expected_stages(ref, at)
        want = {s: sum(1 for v in expected.values() if v == s) for s in stages.STAGES}
        assert dict(zip(rows["stage"], rows["customers"])) == want, at


def test_transitions_between_two_month_ends(store, add, mk, ref):
    load(add, mk)
    before, after = date(2024, 6, 30), date(2024, 12, 31)
    moves = stages.stage_transitions(store, YEAR, before, after)
    then, now = expected_stages(ref, before), expected_stages(ref, after)
    want: dict[tuple, int] = {}
    for c, stage in now.items():
        key = (then.get(c, "Not yet known"), stage)
        want[key] = want.get(key, 0) + 1
    assert {(r.stage_before, r.stage_after): r.customers for r in moves.itertuples()} == want
    # for example C1: Repeat at the end of June (Feb and May orders: 2 quarters), Client by December
    assert ("Repeat", "Client") in want


def test_transitions_from_a_month_end_to_itself_count_each_customer_once(store, add, mk, ref):
    load(add, mk)   # the funnel page lets both select boxes show the same month end
    at = date(2024, 6, 30)
    moves = stages.stage_transitions(store, YEAR, at, at)
    then = expected_stages(ref, at)
    assert {(r.stage_before, r.stage_after): r.customers for r in moves.itertuples()} == {
        (s, s): sum(1 for v in then.values() if v == s) for s in set(then.values())}


def test_a_quarter_boundary_inside_a_month_splits_its_orders(store, add, mk):
    # as of 20 November the quarters start on 21 Nov 2023, 21 Feb, 21 May and 21 Aug: May's orders on the 10th
    # and the 25th fall in two quarters, which with November's order makes three (the rollup keeps May as one month)
    add("orders", [mk.order("L", day, 10) for day in ("2024-05-10", "2024-05-25", "2024-11-05")])
    at = date(2024, 11, 20)
    table = stages.customer_stages(store, Period(date(2024, 1, 1), at, at)).set_index("customer_id")
    assert table.at["L", "quarters"] == 3 and table.at["L", "stage"] == "Client"


@pytest.mark.parametrize("as_of", [AS_OF, date(2024, 11, 20)])       # a month end, and a day within a month
def test_overview_equals_counts_history_and_default_movement(store, add, mk, as_of):
    load(add, mk)
    period = Period(date(2024, 1, 1), as_of, as_of)
    overview = stages.stage_overview(store, period)
    ends = month_ends(as_of, 13)
    assert (overview.before, overview.after) == (ends[0], ends[-1])
    assert overview.counts == stages.stage_counts(store, period)
    pd.testing.assert_frame_equal(overview.history, stages.stage_history(store, period), check_dtype=False)
    pd.testing.assert_frame_equal(overview.moves, stages.stage_transitions(store, period, ends[0], ends[-1]),
                                  check_dtype=False)

def test_a_referrer_is_an_advocate_from_its_first_referral(store, add, mk):
    """R (a client through its maintenance plan) referred X2, created on 31 August, and X3 on 15 November; U's
    referral V has no date (no created_at, no order), so it counts at every date."""
    add("orders", [mk.order(c, day, 10) for c in ("R", "U") for day in ("2022-01-05", "2022-02-05")])
    add("customers", [{"customer_id": "R", "on_maintenance_plan": True},
                      {"customer_id": "U", "on_maintenance_plan": True},
                      {"customer_id": "X2", "created_at": date(2024, 8, 31), "referred_by": "R"},
                      {"customer_id": "X3", "created_at": date(2024, 11, 15), "referred_by": "R"},
                      {"customer_id": "V", "referred_by": "U"}])
    assert stages.customer_stage_history(store, YEAR, "R", months=6)["stage"].tolist() == ["Client"] + ["Advocate"] * 5
    history = stages.stage_history(store, YEAR, months=6)                       # July .. December 2024
    counts = {at: dict(zip(rows["stage"], rows["customers"])) for at, rows in history.groupby("month_end")}
    july = {"Prospect": 1, "First-time": 0, "Repeat": 0, "Client": 1, "Advocate": 1}       # V; R; U
    august = {"Prospect": 2, "First-time": 0, "Repeat": 0, "Client": 0, "Advocate": 2}     # V, X2; R, U
    november = {**august, "Prospect": 3}                                                    # and X3
    assert [counts[at] for at in month_ends(AS_OF, 6)] == [july] + [august] * 3 + [november] * 2


def test_one_customers_history(store, add, mk):
    load(add, mk)
    history = stages.customer_stage_history(store, YEAR, "F1", months=8)       # May .. December 2024
    assert history["month_end"].tolist() == month_ends(AS_OF, 8)
    assert history["stage"].tolist() == ["—"] + ["First-time"] * 7             # first order on 15 June
    c1 = stages.customer_stage_history(store, YEAR, "C1", months=12)["stage"].tolist()
    # C1 orders Feb, May, Nov 2024: First-time in Feb-Apr, Repeat May-Oct, Client from November
    assert c1 == ["—", "First-time", "First-time", "First-time", "Repeat", "Repeat", "Repeat", "Repeat", "Repeat",
                  "Repeat", "Client", "Client"]


def test_filters(store, add, mk):
    load(add, mk)
    north = stages.stage_counts(store, Period(YEAR.start, YEAR.end, AS_OF, Filters(regions=("North",))))
    assert north == {"Prospect": 1, "First-time": 0, "Repeat": 0, "Client": 0, "Advocate": 1}   # P1 and A1
    web = stages.stage_counts(store, Period(YEAR.start, YEAR.end, AS_OF, Filters(channels=("web",))))
    assert web["Prospect"] == 0 and sum(web.values()) == 11          # an order filter leaves prospects out
    nothing = stages.stage_counts(store, Period(YEAR.start, YEAR.end, AS_OF, Filters(sales_reps=("Nobody",))))
    assert sum(nothing.values()) == 0



def test_an_order_filter_dates_a_customer_by_its_orders_alone(store, add, mk):
    """Q is in the customers table from 15 January and orders on the web on 10 June: without filters a prospect
    from January, with an order filter unknown until its first order in scope (no prospects then)."""
    add("orders", [mk.order("Q", "2024-06-10", 10, channel="web")])
    add("customers", [{"customer_id": "Q", "created_at": date(2024, 1, 15)}])
    unfiltered = stages.customer_stage_history(store, YEAR, "Q", months=12)["stage"].tolist()
    assert unfiltered == ["Prospect"] * 5 + ["First-time"] * 7
    web = Period(YEAR.start, YEAR.end, AS_OF, Filters(channels=("web",)))
    assert stages.customer_stage_history(store, web, "Q", months=12)["stage"].tolist() == ["—"] * 5 + ["First-time"] * 7

def test_availability_names_what_holds_customers_back(store, add, mk):
    add("orders", [mk.order("A", "2024-01-01", 1)])
    missing = stages.stage_availability(store)
    assert str(missing["Prospect"]) == "not available: needs customers.customer_id"
    assert str(missing["Client"]) == "not available: needs customers.on_maintenance_plan"
    assert missing["Advocate"] is not None and missing["Repeat"] is None
    load(add, mk)
    assert all(v is None for v in stages.stage_availability(store).values())
