"""Invariants of the engine on random stores (hypothesis), each checked against plain pandas or the contract.

One store per test is emptied between examples (a new file per example would cost more than the check)."""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.access import LOCAL_USER
from loyalty.db import session
from loyalty.importer import import_files
from loyalty.metrics import activity, cohorts, concentration, movers, rfm, stages
from loyalty.metrics.activity import activity_by_window
from loyalty.metrics.scorecard import kpi_values_by_window
from loyalty.period import Filters, Period, default_period, month_ends
from loyalty.report import build_report

AS_OF = date(2024, 12, 31)
PERIOD = Period(date(2024, 1, 1), AS_OF, AS_OF)
START = date(2022, 1, 1)

orders_strategy = st.lists(
    st.tuples(st.integers(0, 11),                      # customer
              st.integers(0, 3 * 365 + 30),            # day offset from 2022-01-01 (a few after the as-of date)
              st.integers(-50, 500)),                  # amount, refunds included
    min_size=0, max_size=40)
prospects_strategy = st.lists(st.tuples(st.integers(8, 16), st.integers(0, 3 * 365 + 30) | st.none()),
                              max_size=6, unique_by=lambda p: p[0])
PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def load(con, mk, orders, prospects=()) -> list[dict]:
    mk.clear(con)
    rows = [{"order_id": f"O{i}", "customer_id": f"C{c}", "order_date": START + timedelta(days=d), "amount": a}
            for i, (c, d, a) in enumerate(orders)]
    mk.insert(con, "orders", rows)
    mk.insert(con, "customers", [{"customer_id": f"C{c}", "created_at": None if d is None else START + timedelta(days=d)}
                                 for c, d in prospects])
    return rows


@PROPERTY
@given(orders=orders_strategy, prospects=prospects_strategy)
def test_stages_partition_the_known_customers_and_the_funnel_never_grows(store, mk, orders, prospects):
    rows = load(store, mk, orders, prospects)
    buyers = {r["customer_id"] for r in rows if r["order_date"] <= AS_OF}
    waiting = {f"C{c}" for c, d in prospects if d is None or START + timedelta(days=d) <= AS_OF}
    table = stages.customer_stages(store, PERIOD)
    assert sorted(table["customer_id"]) == sorted(buyers | waiting)              # each known customer exactly once
    counts = stages.stage_counts(store, PERIOD)
    assert sum(counts.values()) == len(buyers | waiting)
    assert counts["Prospect"] == len(waiting - buyers)
    at_or_beyond = stages.funnel(counts)["at_or_beyond"].tolist()
    assert all(a >= b for a, b in zip(at_or_beyond, at_or_beyond[1:]))


@PROPERTY
@given(orders=orders_strategy, prospects=prospects_strategy)
def test_stage_history_agrees_with_the_stages_at_each_month_end(store, mk, ref, orders, prospects):
    rows = load(store, mk, orders, prospects)
    history = stages.stage_history(store, PERIOD, months=3)
    for at in (date(2024, 10, 31), date(2024, 12, 31)):
        shown = history[history["month_end"] == at].set_index("stage")["customers"].to_dict()
        assert shown == stages.stage_counts(store, Period(PERIOD.start, at, at))
        dates: dict[str, list] = {}
        for r in rows:
            dates.setdefault(r["customer_id"], []).append(r["order_date"])
        expected = [ref.stage(v, at) for v in dates.values() if min(v) <= at]
        for stage in ("First-time", "Repeat", "Client"):
            assert shown[stage] == expected.count(stage)


SNAPSHOT_DAYS = [date(2024, 7, 31), date(2024, 8, 31), date(2024, 9, 30), date(2024, 10, 31), date(2024, 11, 20),
                 date(2024, 11, 30), AS_OF]             # the dates the stage test computes, as of either as-of date
late_2024 = (st.integers((date(2024, 6, 1) - START).days, (AS_OF - START).days + 30)
             | st.sampled_from(sorted({(day - START).days + delta for day in SNAPSHOT_DAYS for delta in (-1, 0, 1)})))
customer_rows_strategy = st.lists(
    st.tuples(st.integers(0, 15),                               # customer (12 to 15 never order)
              st.none() | late_2024,                            # created_at (None: undated)
              st.none() | st.booleans(), st.none() | st.booleans(),   # on a maintenance plan, reference-willing
              st.none() | st.integers(0, 3)),                   # referred by (a few referrers, often several times)
    max_size=12, unique_by=lambda c: c[0])
answers_strategy = st.lists(st.tuples(st.integers(0, 15), late_2024, st.integers(0, 23), st.integers(0, 10)),
                            max_size=12, unique_by=lambda a: a[:3])       # customer, day, hour, NPS


def ref_stages_with_every_input(rows, customer_rows, answers, at: date, as_of: date, ref) -> dict[str, str]:
    """Each customer known at `at` (on or before `as_of`) and its stage there, from the contract's wording
    (every input present)."""
    dates: dict[str, list] = {}
    for r in rows:
        if r["order_date"] <= as_of:
            dates.setdefault(r["customer_id"], []).append(r["order_date"])
    listed = {c["customer_id"]: c for c in customer_rows}
    known = {c for c, v in dates.items() if min(v) <= at}
    known |= {c for c, row in listed.items() if row["created_at"] is None or row["created_at"] <= at}

    def referred_on(row):                      # created_at, else the first order; undated: always counts
        ordered = dates.get(row["customer_id"])
        return row["created_at"] or (min(ordered) if ordered else date.min)

    day_after = datetime.combine(at, datetime.min.time()) + timedelta(days=1)    # answers by the end of `at`
    out = {}
    for c in known:
        row = listed.get(c, {})
        referrals = sum(1 for r in customer_rows if r["referred_by"] == c and r["customer_id"] != c
                        and referred_on(r) <= at)
        mine = sorted((a["answered_at"], a["nps"]) for a in answers
                      if a["customer_id"] == c and a["answered_at"] < day_after)
        out[c] = ref.stage(dates.get(c, []), at, maintenance=bool(row.get("on_maintenance_plan")),
                           reference=bool(row.get("reference_willing")), referrals=referrals,
                           nps=mine[-1][1] if mine else None)
    return out


@PROPERTY
@given(orders=orders_strategy, customer_rows=customer_rows_strategy, answers=answers_strategy,
       as_of=st.sampled_from([AS_OF, date(2024, 11, 20)]))
def test_stage_counts_and_movement_with_every_input_match_the_reference(store, mk, ref, orders, customer_rows, answers,
                                                                         as_of):
    """Maintenance plans, reference-willingness, referrals (dated or not) and NPS answers change stages between
    the dates: the counts and the movement (computed per group of alike customers) and each customer's stage
    must match the reference at every date."""
    rows = load(store, mk, orders)
    customer_rows = [{"customer_id": f"C{c}", "created_at": None if day is None else START + timedelta(days=day),
                      "on_maintenance_plan": plan, "reference_willing": willing,
                      "referred_by": None if by is None else f"C{by}"} for c, day, plan, willing, by in customer_rows]
    answers = [{"customer_id": f"C{c}", "answered_at": datetime.combine(START + timedelta(days=day), datetime.min.time())
                + timedelta(hours=hour), "nps": nps} for c, day, hour, nps in answers]
    mk.insert(store, "customers", customer_rows)
    mk.insert(store, "surveys", answers)
    period = Period(date(2024, 1, 1), as_of, as_of)
    overview = stages.stage_overview(store, period, months=3)
    ends = month_ends(as_of, 4)
    expected = {at: ref_stages_with_every_input(rows, customer_rows, answers, at, as_of, ref) for at in {*ends, as_of}}
    for at in ends[1:]:
        shown = overview.history[overview.history["month_end"] == at].set_index("stage")["customers"].to_dict()
        assert shown == {s: Counter(expected[at].values())[s] for s in stages.STAGES}
    assert overview.counts == {s: Counter(expected[as_of].values())[s] for s in stages.STAGES}
    pairs = Counter((expected[ends[0]].get(c, "Not yet known"), stage) for c, stage in expected[ends[-1]].items())
    assert {(m.stage_before, m.stage_after): m.customers for m in overview.moves.itertuples()} == pairs
    by_customer = stages.customer_stages(store, period)
    assert dict(zip(by_customer["customer_id"], by_customer["stage"])) == expected[as_of]


days_in_2024 = st.integers((date(2024, 1, 1) - START).days, (AS_OF - START).days)


@PROPERTY
@given(days=st.lists(days_in_2024, min_size=2, max_size=2).map(sorted), same_month=st.booleans(), data=st.data())
def test_stage_movement_between_any_two_days_matches_the_reference(store, mk, ref, days, same_month, data):
    """Days inside months cut the quarters inside months, twice when both fall in one month; with orders a
    few days either side of the quarter boundaries, every customer's pair of stages, and how many of its last
    4 quarters it ordered in at each day, must match the reference."""
    before, after = (START + timedelta(days=d) for d in days)
    if same_month:
        before = before.replace(year=after.year, month=after.month, day=min(before.day, after.day))
    near = sorted({ref.months_back(at, 3 * k) + timedelta(days=delta)
                   for at in (before, after) for k in range(5) for delta in range(-2, 3)})
    orders = data.draw(st.lists(st.tuples(st.integers(0, 7), st.sampled_from(near)), max_size=30))
    rows = load(store, mk, [(c, (day - START).days, 10) for c, day in orders])
    moves = stages.stage_transitions(store, Period(PERIOD.start, after, after), before, after)
    dates: dict[str, list] = {}
    for r in rows:
        dates.setdefault(r["customer_id"], []).append(r["order_date"])
    expected: dict[tuple, int] = {}
    for v in dates.values():
        if min(v) <= after:
            pair = (ref.stage(v, before) if min(v) <= before else "Not yet known", ref.stage(v, after))
            expected[pair] = expected.get(pair, 0) + 1
    assert {(m.stage_before, m.stage_after): m.customers for m in moves.itertuples()} == expected
    quarters = stages._staged(store, Period(PERIOD.start, after, after), [before, after],
                              " SELECT snap, customer_id, quarters FROM staged_at WHERE orders > 0")
    shown = {(r.snap.date(), r.customer_id): r.quarters for r in quarters.itertuples()}
    want = {}
    for at in {before, after}:
        bounds = [ref.months_back(at, 3 * k) for k in range(5)]      # bounds[k]: k quarters back
        for c, v in dates.items():
            if min(v) <= at:
                want[(at, c)] = sum(any(bounds[k + 1] < x <= bounds[k] for x in v) for k in range(4))
    assert shown == want


@PROPERTY
@given(orders=orders_strategy)
def test_rfm_scores_and_segments_match_the_reference(store, mk, ref, orders):
    rows = load(store, mk, orders)
    scored = rfm.rfm_customers(store, PERIOD).set_index("customer_id").sort_index()
    expected = ref.rfm(rows, AS_OF).sort_index()
    assert list(scored.index) == list(expected.index)
    for column in ("r", "f", "m"):
        assert scored[column].tolist() == expected[column].tolist()
    assert scored["segment"].tolist() == [ref.segment(r, f) for r, f in zip(expected["r"], expected["f"])]
    overview = rfm.segment_overview(store, PERIOD)
    cells = expected.groupby(["r", "f"]).size()
    assert {(g.r, g.f): g.customers for g in overview.grid.itertuples() if g.customers} == cells.to_dict()
    assert all(g.segment == ref.segment(g.r, g.f) for g in overview.grid.itertuples())
    segments = expected.groupby([ref.segment(r, f) for r, f in zip(expected["r"], expected["f"])])["monetary"]
    summary = overview.summary.set_index("segment")
    assert summary.loc[summary["customers"] > 0, "customers"].to_dict() == segments.size().to_dict()
    assert summary["revenue"].to_dict() == pytest.approx({s: segments.sum().get(s, 0) for s in summary.index})
    assert summary["customers"].tolist() == sorted(summary["customers"], reverse=True)  # largest first


@PROPERTY
@given(orders=st.lists(st.tuples(st.integers(0, 11), days_in_2024, st.integers(-50, 500)), max_size=40))
def test_revenue_concentration_matches_the_reference(store, mk, orders):
    """The share read off the ranked curve, the scorecard's share found without ranking (its windows), and a
    plain sort of the period's customers by revenue must agree, refunds and ties included."""
    rows = load(store, mk, orders)
    quarter = Period(date(2024, 10, 1), AS_OF, AS_OF)
    windowed = [w["top20_revenue_share"] for w in kpi_values_by_window(store, [PERIOD, quarter])]
    for period, top20_by_window in zip((PERIOD, quarter), windowed):
        in_period = [r for r in rows if period.start <= r["order_date"] <= period.end]
        revenue = sorted((sum(r["amount"] for r in in_period if r["customer_id"] == c)
                          for c in {r["customer_id"] for r in in_period}), reverse=True)
        n, total = len(revenue), sum(revenue)
        share = sum(revenue[:math.ceil(0.2 * n)]) / total if total > 0 else None
        out = concentration.revenue_concentration(store, period)
        assert out.top20_share == pytest.approx(share) and top20_by_window == pytest.approx(share)
        assert out.curve["customer_share"].tolist() == pytest.approx([k / n for k in range(n + 1)] if n else [0.0])
        shares = [0.0] + [sum(revenue[:k]) / total if total else None for k in range(1, n + 1)]
        assert [None if math.isnan(s) else s for s in out.curve["revenue_share"]] == pytest.approx(shares)


@PROPERTY
@given(orders=orders_strategy)
def test_segment_movement_agrees_with_the_segments_at_each_month_end(store, mk, orders):
    """The month-end snapshots (running figures per customer) and the as-of scoring are two formulations:
    at each month end, the customers by segment after the move, and by segment before it, must agree."""
    load(store, mk, orders)
    moves = rfm.segment_movement(store, PERIOD, months=3).moves
    ends = rfm.month_ends(AS_OF, 4)
    for before, after in zip(ends, ends[1:]):
        shown = moves[moves["month_end"].dt.date == after]
        for column, day in (("segment", after), ("segment_before", before)):
            summary = rfm.segment_overview(store, Period(PERIOD.start, day, day)).summary
            expected = {s: n for s, n in zip(summary["segment"], summary["customers"]) if n}
            counted = shown[shown[column] != "New"].groupby(column)["customers"].sum().to_dict()
            assert counted == expected


@PROPERTY
@given(orders=orders_strategy)
def test_revenue_equals_the_sum_of_order_amounts(store, mk, ref, orders):
    rows = load(store, mk, orders)
    out = activity.activity(store, PERIOD)
    expected = ref.activity(rows, PERIOD.start, PERIOD.end, PERIOD.as_of)
    assert out["revenue"] == expected["revenue"]                              # exact: decimals summed in DuckDB
    assert {k: out[k] for k in expected} == expected
    months = PERIOD.months(12)
    by_window = activity_by_window(store, [PERIOD, *months])
    assert sum(w["revenue"] for w in by_window[1:]) == out["revenue"]
    assert sum(w["orders"] for w in by_window[1:]) == out["orders"]
    half_year = Period(date(2024, 1, 1), date(2024, 6, 30), AS_OF)          # second orders after its end count
    odd_days = Period(date(2024, 3, 10), date(2024, 9, 20), AS_OF)           # not whole months: read from the orders
    latest = default_period(store)    # as of the latest order: the rollup's spans hold it and the two before it
    for windows in ([PERIOD, PERIOD.previous(), *months], [half_year, *months], [odd_days, odd_days.previous()],
                    [latest, latest.previous(), *latest.months()]):
        for window, figures in zip(windows, activity_by_window(store, windows)):
            expected = {**ref.activity(rows, window.start, window.end, window.as_of),
                        **ref.retention(rows, window.previous().start, window.start, window.end, window.as_of)}
            assert {k: figures[k] for k in expected} == expected


@PROPERTY
@given(orders=orders_strategy)
def test_a_region_filter_on_the_rollups_spans_matches_the_reference(store, mk, ref, orders):
    """With a region filter, the default period's windows (from the rollup's spans, cut to the region's customers)
    and its top movers agree with the reference over the region's orders alone."""
    rows = load(store, mk, orders)
    mk.insert(store, "customers", [{"customer_id": f"C{c}", "region": "North" if c % 3 else "South"} for c in range(12)])
    north = [r for r in rows if int(r["customer_id"][1:]) % 3]
    latest = default_period(store)
    filtered = [replace(p, filters=Filters(regions=("North",))) for p in (latest, latest.previous(), *latest.months())]
    for window, figures in zip(filtered, activity_by_window(store, filtered)):
        expected = {**ref.activity(north, window.start, window.end, window.as_of),
                    **ref.retention(north, window.previous().start, window.start, window.end, window.as_of)}
        assert {k: figures[k] for k in expected} == expected
    moved = movers.top_movers(store, filtered[0])
    assert set(moved["customer_id"]) <= {r["customer_id"] for r in north}


@PROPERTY
@given(orders=orders_strategy)
def test_top_movers_and_revenue_retention_match_the_reference(store, mk, orders):
    """Each customer's revenue in a period beside the previous one (read from the rollup's spans for the latest
    order's default period, grouped from the months or the orders otherwise) gives the movers, NRR and GRR."""
    rows = load(store, mk, orders)
    latest = default_period(store)
    odd_days = Period(date(2024, 3, 10), date(2024, 9, 20), AS_OF)
    for period in (latest, PERIOD, odd_days):
        previous = period.previous()

        def revenue(customer, span):
            return sum(r["amount"] for r in rows if r["customer_id"] == customer
                       and span.start <= r["order_date"] <= min(span.end, period.as_of))

        def active(customer, span):
            return any(r["customer_id"] == customer and span.start <= r["order_date"] <= min(span.end, period.as_of)
                       for r in rows)

        customers = sorted({r["customer_id"] for r in rows})
        changes = [(c, revenue(c, period), revenue(c, previous)) for c in customers
                   if revenue(c, period) != revenue(c, previous)]
        ups = sorted((m for m in changes if m[1] > m[2]), key=lambda m: (-(m[1] - m[2]), m[0]))[:5]
        downs = sorted((m for m in changes if m[1] < m[2]), key=lambda m: (m[1] - m[2], m[0]))[:5]
        expected = [("up", c, now, before, now - before) for c, now, before in ups]
        expected += [("down", c, now, before, now - before) for c, now, before in downs]
        table = movers.top_movers(store, period)
        assert list(table[["direction", "customer_id", "revenue", "previous_revenue", "change"]]
                    .itertuples(index=False, name=None)) == expected

        kept = [c for c in customers if active(c, previous)]
        total = cohorts.revenue_retention(store, period).total
        assert total["customers"] == len(kept)
        if kept:
            assert total["previous_revenue"] == sum(revenue(c, previous) for c in kept)
            assert total["retained_revenue"] == sum(revenue(c, period) for c in kept)
            assert total["capped_revenue"] == sum(min(max(revenue(c, period), 0), revenue(c, previous)) for c in kept)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 700), st.integers(1, 300)), min_size=1, max_size=30))
def test_reimporting_the_same_file_changes_no_figure(tmp_path_factory, orders):
    folder = tmp_path_factory.mktemp("p")
    path = folder / "orders.csv"
    lines = ["customer,date,amount"] + [f"c{c},{date(2023, 1, 1) + timedelta(days=d)},{a}" for c, d, a in orders]
    path.write_text("\n".join(lines) + "\n")
    with session(folder / "t.duckdb") as con:
        import_files(con, "orders", [path], user=LOCAL_USER)
        before = json.dumps(build_report(con), sort_keys=True)
        again = import_files(con, "orders", [path], user=LOCAL_USER)[0]
        assert again.inserted == 0
        assert json.dumps(build_report(con), sort_keys=True) == before
