"""The benchmark runs end to end on a small N: it imports through the product path, times every analytics
page cold and warm and each model in its own row, and each page's engine figures agree with the plain-pandas
baseline (the run stops otherwise); the agreement check itself catches a wrong figure."""
from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from bench import agreement, baseline
from bench import run as bench
from bench.pages import MODELS, PAGES
from loyalty import ui
from loyalty.db import Call, session
from loyalty.period import default_period

from .test_pages import APP


SMALL = 20_000   # orders: 1,000 customers, 1,200 tickets (enough for every kind of ticket figure to count some)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    here = tmp_path_factory.mktemp("bench")
    patch = pytest.MonkeyPatch()
    patch.setattr(bench, "HERE", here)
    try:
        yield here, bench.run(SMALL, repeats=1)
    finally:
        patch.undo()


def test_every_page_and_model_has_its_rows_and_targets(small_run, capsys):
    here, rows = small_run
    by_figure = {r["figure"]: r for r in rows}
    assert [(r["figure"], r["target"]) for r in rows[:4]] == [
        ("import from CSV", 6), ("import tickets from CSV", None), ("import from Parquet", 3),
        ("import tickets from Parquet", None)]
    assert set(PAGES) == set(baseline.PAGES) == {"Executive scorecard", "Super customers", "Loyalty funnel",
                                                  "Responsiveness", "At-risk customers", "Customer 360"}
    for page in PAGES:
        cold, warm = by_figure[f"{page}, cold"], by_figure[f"{page}, warm"]
        assert cold["pandas"] > 0 and cold["ratio"] == pytest.approx(cold["pandas"] / cold["median"])
        assert cold["ratio_target"] is None and cold["met"] == (cold["median"] <= 0.06)   # the ratio: a 10M target
        assert warm["target"] == 0.03 and warm["met"] == (warm["median"] <= 0.03)
    total = by_figure["all pages, cold (sum of medians)"]
    assert total["median"] == pytest.approx(sum(by_figure[f"{p}, cold"]["median"] for p in PAGES))
    assert "Super customers" in by_figure["Predictions: lifetime value"]["pages"]
    assert set(MODELS) <= set(by_figure) and 0 < by_figure["peak memory of this process (GB)"]["median"] < 3
    saved = json.loads((here / "results" / f"bench_{SMALL}.json").read_text())
    assert saved["orders"] == SMALL and saved["customers"] == 1000 and saved["machine"]["cores"] >= 1
    assert [r["figure"] for r in saved["rows"]] == [r["figure"] for r in rows]


def test_data_is_generated_once_per_size_and_seed(small_run):
    here, _ = small_run
    files, generated = bench.dataset(SMALL, bench.SEED, here / "data")
    assert not generated and all(path.exists() for formats in files.values() for path in formats.values())
    assert bench.generate(2000).equals(bench.generate(2000))
    orders, tickets = bench.generate(2000), bench.generate_tickets(bench.generate(2000))
    assert tickets.equals(bench.generate_tickets(orders)) and len(tickets) == 120
    assert set(tickets["customer_id"]) <= set(orders["customer_id"])
    assert (tickets["opened_at"] < np.datetime64(bench.END) + np.timedelta64(1, "D")).all()
    outreach = tickets["kind"] == "outreach"
    assert tickets.loc[outreach, ["first_response_at", "resolved_at"]].isna().all().all()
    assert (tickets["first_response_at"].dropna() >= tickets["opened_at"][tickets["first_response_at"].notna()]).all()
    assert (tickets["resolved_at"].dropna() >= tickets["first_response_at"][tickets["resolved_at"].notna()]).all()
    assert bench.generate(2000)["customer_id"].nunique() <= 100 == bench.customers_for(2000)
    assert bench.customers_for(10_000_000) == bench.customers_for(20_000_000) == 500_000
    assert bench.ratio_target(10_000_000) == 8 and bench.ratio_target(9_999_999) is None


def test_agreement_catches_a_wrong_figure():
    theirs = {"revenue": agreement.Money(100.0), "share": agreement.Share(0.5), "rows": [["K1", 3]]}
    assert agreement.disagreements(dict(theirs, revenue=agreement.Money(100.004)), theirs) == []
    assert agreement.disagreements(dict(theirs, revenue=agreement.Money(100.01)), theirs)
    assert agreement.disagreements(dict(theirs, share=agreement.Share(0.5 + 1e-8)), theirs)
    assert agreement.disagreements(dict(theirs, rows=[["K1", 4]]), theirs)
    assert agreement.disagreements(dict(theirs, rows=[]), theirs)


def test_baseline_scores_tie_fairly_and_counts_months_like_duckdb():
    scores = baseline.tie_fair_score(np.array([10, 10, 20, 30, 40]), worse_first_ascending=True)
    assert scores.tolist() == [1, 1, 3, 4, 5]   # ranks 1, 1, 3, 4, 5 of 5: 1 + ⌊5 × (rank − 1) ÷ 5⌋
    assert baseline.tie_fair_score(np.array([0, 7, 7, 30]), worse_first_ascending=False).tolist() == [4, 2, 2, 1]
    assert baseline.months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert baseline.months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)


APP_PAGES = {"Executive scorecard": "scorecard", "Super customers": "super_customers", "Loyalty funnel": "funnel",
             "Responsiveness": "responsiveness", "At-risk customers": "at_risk", "Customer 360": "customer_360"}


class Recording:
    """Page calls (see bench/pages.py `PageCalls`) that note each call's key, and each side-by-side group's
    keys, in order, then hand the call to `one` or the group to `together` (None: nothing is computed)."""

    def __init__(self, one=None, together=None):
        self.one, self.group, self.log = one, together, []

    def __call__(self, fn, *args, **kwargs):
        self.log.append(("one", Call(fn, *args, **kwargs).key))
        return self.one(fn, *args, **kwargs) if self.one else None

    def together(self, *calls):
        self.log.append(("together", tuple(None if c is None else c.key for c in calls)))
        return self.group(*calls) if self.group else [None] * len(calls)


def test_the_benchmark_times_what_each_page_computes_on_its_first_load(demo_db, monkeypatch):
    """bench/pages.py lists each page's engine calls by hand: they are the calls, arguments and side-by-side
    groups the app's page makes on its first load, in its order, but for the model calls, which have their
    own rows naming the page (MODELS)."""
    monkeypatch.setenv("LOYALTY_DB", str(demo_db))
    models = {}
    for compute, pages in MODELS.values():
        probe = Recording()
        compute(probe, None)
        models[probe.log[0][1][0]] = pages
    app = Recording(ui.cached, ui.cached_together)   # the app's own calls, noted on their way
    monkeypatch.setattr(ui, "cached", app)
    monkeypatch.setattr(ui, "cached_together", app.together)
    for page, compute in PAGES.items():
        app.log.clear()
        AppTest.from_file(APP, default_timeout=90).switch_page(f"app_pages/{APP_PAGES[page]}.py").run()
        made = [(kind, key) for kind, key in app.log if kind != "one" or key[0] not in models]
        assert all(page in models[key[0]] for kind, key in app.log if kind == "one" and key[0] in models), page
        with session(demo_db) as con:
            engine = bench.EngineCalls(con)
            bench_calls = Recording(engine, engine.together)
            compute(bench_calls, default_period(con))
        assert made == bench_calls.log, page
