"""Rollups and caches stay right through imports and undo: orders imported in two batches (the second
changes some orders of the first and adds new ones; their tickets beside them), then one batch undone, and
after every write each page's figures equal a plain-pandas recomputation (bench/baseline.py, no DuckDB) from
the raw rows left in `orders` and `tickets` — straight engine calls and calls through a cache keyed on the
data version alike. The rollup
tables themselves are checked against a pandas grouping of the same raw rows; the second batch moves the latest
order into a later month, so the spans of `customer_spans` move with it (and back when it is undone)."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from bench import baseline
from bench.agreement import ENGINE_FIGURES, disagreements
from bench.pages import PAGES
from bench.run import BENCH_USER, EngineCalls, WarmCache, generate, generate_tickets
from loyalty.db import data_version, session
from loyalty.importer import import_files, undo_batch
from loyalty.metrics import rfm, signals, stages, super_customers
from loyalty.metrics.scope import held_at_latest
from loyalty.period import Filters, Period, default_period


def raw_orders(con) -> pd.DataFrame:
    return con.execute("""SELECT order_id, customer_id, strftime(order_date, '%Y-%m-%d') AS order_date,
                                 amount::DOUBLE AS amount, channel FROM orders""").df()


def raw_tickets(con) -> pd.DataFrame:
    return con.execute("""SELECT ticket_id, customer_id, opened_at, first_response_at, resolved_at, channel, kind, csat,
                                 reopened FROM tickets""").df()


def expected_rollup(raw: pd.DataFrame) -> pd.DataFrame:
    """customer_months worked out with pandas: per customer and month, orders, cents, first/second/last day, and
    whether the customer has a row for the month before."""
    frame = raw.assign(day=pd.to_datetime(raw["order_date"]), cents=np.round(raw["amount"] * 100).astype(int))
    frame["month"] = frame["day"].dt.to_period("M").dt.to_timestamp()
    frame = frame.sort_values(["customer_id", "day"])
    grouped = frame.groupby(["customer_id", "month"])
    out = grouped.agg(orders=("day", "size"), cents=("cents", "sum"), first_day=("day", "min"), last_day=("day", "max"))
    out["second_day"] = grouped["day"].agg(lambda days: days.iloc[1] if len(days) > 1 else pd.NaT)
    out = out.reset_index()
    held = set(zip(out["customer_id"], out["month"]))
    out["active_before"] = [(c, m - pd.DateOffset(months=1)) in held for c, m in zip(out["customer_id"], out["month"])]
    return out.sort_values(["customer_id", "month"]).reset_index(drop=True)


def stored_rollup(con) -> pd.DataFrame:
    out = con.execute("""SELECT customer_id, month::TIMESTAMP AS month, orders, (revenue * 100)::BIGINT AS cents,
                                first_day::TIMESTAMP AS first_day, last_day::TIMESTAMP AS last_day,
                                second_day::TIMESTAMP AS second_day, active_before
                         FROM customer_months ORDER BY customer_id, month""").df()
    return out


def expected_spans(raw: pd.DataFrame) -> pd.DataFrame:
    """customer_spans worked out with pandas: the 12 full months before the latest order's month (or up to it, on
    a month end) and the two 12-month spans before, per customer with an order in one: orders, cents, and whether it
    has an order in the span before (None in the oldest)."""
    frame = raw.assign(day=pd.to_datetime(raw["order_date"]), cents=np.round(raw["amount"] * 100).astype(int))
    latest = frame["day"].max()
    end = latest if latest.is_month_end else latest.replace(day=1) - pd.Timedelta(days=1)
    parts = []
    for years_back in range(3):
        span_end = end - pd.DateOffset(months=12 * years_back) + pd.offsets.MonthEnd(0)
        span_start = span_end + pd.Timedelta(days=1) - pd.DateOffset(months=12)
        inside = frame[frame["day"].between(span_start, span_end)]
        grouped = inside.groupby("customer_id").agg(orders=("day", "size"), cents=("cents", "sum")).reset_index()
        parts.append(grouped.assign(span_start=span_start, span_end=span_end))
    for later, earlier in zip(parts, parts[1:]):
        later["active_before"] = later["customer_id"].isin(earlier["customer_id"]).astype("boolean")
    parts[-1]["active_before"] = pd.NA
    out = pd.concat(parts)[["span_start", "span_end", "customer_id", "orders", "cents", "active_before"]]
    out["active_before"] = out["active_before"].astype("boolean")
    return out.sort_values(["span_start", "customer_id"]).reset_index(drop=True)


def stored_spans(con) -> pd.DataFrame:
    return con.execute("""SELECT span_start::TIMESTAMP AS span_start, span_end::TIMESTAMP AS span_end, customer_id,
                                 orders, (revenue * 100)::BIGINT AS cents, active_before
                          FROM customer_spans ORDER BY span_start, customer_id""").df()


def check_every_page(con, cache: WarmCache) -> None:
    raw = raw_orders(con)
    data = baseline.prepare(raw, raw_tickets(con))
    latest = default_period(con)
    mid = latest.as_of - timedelta(days=40)   # an as-of before the latest order: earlier months from the rollup, its month from the orders
    for period in (latest, Period(mid - timedelta(days=200), mid, mid)):
        for page, compute in PAGES.items():
            theirs = baseline.PAGES[page](data, period)
            for output in (compute(EngineCalls(con), period), compute(cache.page_load(), period)):
                assert disagreements(ENGINE_FIGURES[page](output), theirs) == [], (page, period)
    expected = expected_rollup(raw)
    stored = stored_rollup(con)
    pd.testing.assert_frame_equal(stored[expected.columns], expected, check_dtype=False)
    pd.testing.assert_frame_equal(stored_spans(con), expected_spans(raw), check_dtype=False)


@pytest.fixture
def batches(tmp_path):
    frame = generate(3000, seed=5)
    first = frame.iloc[:2000]
    second = frame.iloc[1500:].copy()
    changed = second.index < 2000          # orders of the first batch the second one changes
    second.loc[changed, "amount"] = second.loc[changed, "amount"] + 7.5
    second.loc[second.index % 7 == 0, "customer_id"] = "K_MOVED"    # some orders move to another customer
    second.loc[second.index % 11 == 0, "order_date"] = "2026-11-16"  # and some to the latest day
    second.loc[second.index % 13 == 0, "order_date"] = "2026-12-02"  # or a later month: the default period moves
    paths = []
    for name, part in (("first", first), ("second", second), ("tickets", generate_tickets(frame, seed=5))):
        paths.append(tmp_path / f"{name}.parquet")
        part.to_parquet(paths[-1], index=False)
    return paths


def test_rollups_and_cached_pages_follow_imports_and_undo(tmp_path, batches):
    with session(tmp_path / "store.duckdb") as con:
        cache = WarmCache(con)
        versions = []
        first = import_files(con, "orders", [batches[0]], user=BENCH_USER)[0].batch_id
        import_files(con, "tickets", [batches[2]], user=BENCH_USER)   # stay through every undo of orders below
        second = import_files(con, "orders", [batches[1]], user=BENCH_USER)[0]
        assert second.updated == 500 and second.inserted == 1000
        versions.append(data_version(con))
        check_every_page(con, cache)

        undo_batch(con, second.batch_id, user=BENCH_USER)    # the first batch's versions come back
        versions.append(data_version(con))
        check_every_page(con, cache)
        assert raw_orders(con)["customer_id"].ne("K_MOVED").all()

        again = import_files(con, "orders", [batches[1]], user=BENCH_USER)[0].batch_id
        undo_batch(con, first, user=BENCH_USER)              # the older batch goes; the newer one's orders stay
        versions.append(data_version(con))
        check_every_page(con, cache)
        assert len(raw_orders(con)) == 1500 and again
        assert len(set(versions)) == len(versions)


def test_rollups_kept_at_the_latest_order_date_answer_as_computing_does(demo_db, monkeypatch):
    """The customer_scores, customer_order_facts and customer_stage_cells rollups give the default period's RFM,
    super-customer, at-risk and stage figures exactly as computing them at the as-of date does (the engine's own
    computation, forced), and answer no other period."""
    with session(demo_db) as con:
        period = default_period(con)
        assert held_at_latest(con, period)   # (the same condition for both rollups)
        assert not held_at_latest(con, replace(period, as_of=period.as_of - timedelta(days=1)))
        assert not held_at_latest(con, replace(period, as_of=period.as_of + timedelta(days=1)))
        assert not held_at_latest(con, replace(period, filters=Filters(regions=("North",))))
        assert not held_at_latest(con, replace(period, filters=Filters(channels=("web",))))
        first = rfm.rfm_customers(con, period)["customer_id"].iloc[0]
        funnel = stages.funnel_dates(period.as_of)
        figures = {"super": lambda: super_customers.super_customers(con, period, only_super=False),
                   "at_risk": lambda: super_customers.at_risk_super_customers(con, period),
                   "rfm": lambda: rfm.rfm_customers(con, period),
                   "grid": lambda: rfm.segment_overview(con, period).grid,
                   "segments": lambda: rfm.segment_overview(con, period).summary,
                   "one": lambda: rfm.customer_segment(con, period, first),
                   "at_risk_customers": lambda: signals.at_risk_customers(con, period),
                   "signals": lambda: signals.customer_signals(con, period),
                   "stage_counts": lambda: stages.stage_overview(con, period).history,
                   "stage_moves": lambda: stages.stage_overview(con, period).moves,
                   "stage_history": lambda: stages.stage_history(con, period),
                   "stages_of_one": lambda: stages.customer_stage_history(con, period, first),
                   "moves_between": lambda: stages.stage_transitions(con, period, *funnel[2:4]),
                   "other_dates": lambda: stages.stage_history(con, period, dates=[funnel[3] - timedelta(days=45),
                                                                                   period.as_of])}
        held = {name: figure() for name, figure in figures.items()}
        assert held["super"]["bringing_others"].any() and held["super"]["regular"].any() and len(held["at_risk"])
        raised = held["at_risk_customers"][list(signals.NEEDS)].notna()
        assert raised.any().all() and not raised.all().any()   # each signal raised for some customers, not all
        at_as_of = stages.stage_overview(con, period).counts
        assert all(at_as_of[stage] for stage in ("First-time", "Repeat", "Client"))   # quarters tell Client from Repeat
        monkeypatch.setattr(rfm, "held_at_latest", lambda con, period: False)
        monkeypatch.setattr(super_customers, "held_at_latest", lambda con, period: False)
        monkeypatch.setattr(signals, "held_at_latest", lambda con, period: False)
        monkeypatch.setattr(stages, "held_at_latest", lambda con, period: False)
        for name, figure in figures.items():   # revenue sums may add up in another order: equal to 1e-12
            pd.testing.assert_frame_equal(held[name], figure(), rtol=1e-12, obj=name)


@pytest.mark.parametrize("table, least", [("customer_scores", 100), ("customer_order_facts", 100),
                                          ("customer_stage_cells", 50)])   # (its dates reach two years back: 84 rows)
def test_a_store_made_before_a_rollup_existed_gets_it_built_when_opened(tmp_path, batches, table, least):
    """A database without one of the rollups kept at the latest date (made by an older version) gets it on
    opening, with the rows an import builds."""
    path = tmp_path / "store.duckdb"
    with session(path) as con:
        import_files(con, "orders", [batches[0]], user=BENCH_USER)
        built = con.execute(f"SELECT * FROM {table} ORDER BY customer_id").df()
        assert len(built) > least
        con.execute(f"DROP TABLE {table}")
    with session(path) as con:
        pd.testing.assert_frame_equal(con.execute(f"SELECT * FROM {table} ORDER BY customer_id").df(), built)


@pytest.mark.parametrize("table, order", [("customer_months", "customer_id, month"),
                                          ("customer_spans", "span_start, customer_id")])
def test_a_store_made_before_a_rollup_column_existed_gets_the_rollup_rebuilt_when_opened(tmp_path, batches, table,
                                                                                       order):
    """A rollup table without a column it has now (made by an older version) is built again on opening, with the
    rows an import builds."""
    path = tmp_path / "store.duckdb"
    with session(path) as con:
        import_files(con, "orders", [batches[0]], user=BENCH_USER)
        built = con.execute(f"SELECT * FROM {table} ORDER BY {order}").df()
        assert built["active_before"].any() and not built["active_before"].all()
        con.execute(f"ALTER TABLE {table} DROP COLUMN active_before")
    with session(path) as con:
        pd.testing.assert_frame_equal(con.execute(f"SELECT * FROM {table} ORDER BY {order}").df(), built)


def test_the_rollups_kept_at_the_latest_date_are_rebuilt_only_when_orders_change(tmp_path, batches, monkeypatch):
    """An orders import or undo rebuilds customer_scores, customer_order_facts and customer_stage_cells; a
    customers or tickets import leaves them as they are (the orders' rollups alone feed them)."""
    from loyalty.metrics import scores_rollup

    built = []
    monkeypatch.setattr(scores_rollup, "store_scores", lambda con, real=scores_rollup.store_scores: (
        built.append("scores"), real(con)))
    monkeypatch.setattr(signals, "store_order_facts", lambda con, real=signals.store_order_facts: (
        built.append("facts"), real(con)))
    monkeypatch.setattr(stages, "store_stage_cells", lambda con, real=stages.store_stage_cells: (
        built.append("cells"), real(con)))
    customers = tmp_path / "customers.csv"
    customers.write_text("customer_id,region\nK000001,North\n")
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("ticket_id,customer_id,opened_at,kind\nT1,K000001,2026-01-05 10:00:00,complaint\n")
    with session(tmp_path / "store.duckdb") as con:
        built.clear()   # (opening a new store builds its rollups, empty)
        batch = import_files(con, "orders", [batches[0]], user=BENCH_USER)[0].batch_id
        assert built == ["scores", "facts", "cells"]
        import_files(con, "customers", [customers], user=BENCH_USER)
        import_files(con, "tickets", [tickets], user=BENCH_USER)
        assert built == ["scores", "facts", "cells"]
        undo_batch(con, batch, user=BENCH_USER)
        assert built == ["scores", "facts", "cells"] * 2
        assert con.execute("SELECT count(*) FROM customer_scores").fetchall() == [(0,)]
