"""The speed benchmark: `make bench N=1000000` (or `python -m bench.run --orders N [--repeats R]`).

1. Data: N orders over 500,000 customers (N/20 customers below 10M orders) with a realistic skew
   (log-normal order values, 2% refunds, Pareto-like order counts per customer), and their support tickets
   (6 per 100 orders, each within 30 days after an order of its customer: requests of every kind with
   log-normal response and resolution times, outreach, CSAT ratings), seeded, written as CSV and Parquet
   under bench/data/ by a child process and kept there, keyed by N and seed, for the next run. No customers
   file, survey answers or delivery dates: what needs them is unavailable on both sides.
2. Import: both formats through the product's import path (`loyalty.importer.import_files`), each into a
   fresh database: the orders (the issue's import target), then the tickets (a row of their own), each
   timed once.
3. Pages: every analytics page's calls on first load with the default widgets (bench/pages.py, the
   same functions and arguments as the page's `cached(...)` and `cached_together(...)` calls), at the
   default period:
   cold = the engine calls straight, as after new data, when every cached call misses;
   warm = the calls through a cache keyed like `loyalty.ui.cached` (data version read once per page
   load, results stored pickled as `st.cache_data` does). Calls run on one open connection, as a page's
   script run shares one for all its calls (the calls a page makes together run side by side on cursors of
   it, as in the app) while the database stays attached, as the app keeps it between runs
   (`loyalty.db.hold_open`); the app opens it once per run, so that cost is its own row ("open a session",
   with the hold of the run before). The first page's row "after a pause" is its first run once that hold
   has ended: the database attached afresh (~20 ms) and its data read into memory again, the open included.
   Model-backed calls (lifetime value, clusters, churn model, rules of thumb) are trained once per data
   version: each is timed once, cold, in its own "Predictions: …" row naming the pages that use it, and
   is not part of any page row.
4. Baseline: the same figures per page in plain pandas (bench/baseline.py), timed in a separate
   process from the generated Parquet files, and checked against the engine's (bench/agreement.py:
   counts exactly, money to the cent, shares to 1e-9); the run stops with the differences on any
   disagreement. Ratio = pandas median ÷ engine cold median, per page.
5. Memory: the peak resident memory of this process (import, pages, models; generation and the
   baseline run in child processes).

Prints a table (figure, median, min–max, × faster than pandas, target, met?) and writes it with the
machine and the date to bench/results/bench_<N>.json. The targets are the issue's: import ≤ 6 s from
CSV, ≤ 3 s from Parquet; a page cold ≤ 300 ms at 10M orders and more, ≤ 60 ms below; all pages cold
≤ 1.5 s; warm ≤ 30 ms a page; each page ≥ 8× faster than pandas at 10M orders and more (the issue
sets that ratio among its 10M targets; below, a page has its time target only, and the ratio is shown);
peak memory ≤ 3 GB. The models have no target.

`python -m bench.run --models-customers 500000` times only the models, at that many customers.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pickle
import platform
import resource
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pandas as pd

from loyalty.access import ADMIN, User
from loyalty.db import Call, data_version, hold_open, release_hold, session, side_by_side
from loyalty.importer import import_files
from loyalty.period import Period, default_period

from . import baseline
from .agreement import ENGINE_FIGURES, disagreements
from .pages import MODELS, PAGES

HERE = Path(__file__).resolve().parent
BENCH_USER = User("bench", ADMIN)
SEED = 11
START = np.datetime64("2016-11-01")
END = np.datetime64("2026-11-17")   # mid-month, as real data is: the default as-of is then no month end
FULL_SIZE = 10_000_000     # from this many orders: 500,000 customers and the 10M targets
GB = 2**30


class Disagreement(Exception):
    """The engine and the pandas baseline give different figures."""


# ------------------------------------------------------------------------------------------------ data

def customers_for(orders: int) -> int:
    return 500_000 if orders >= FULL_SIZE else max(1, orders // 20)


def generate(orders: int, seed: int = SEED) -> pd.DataFrame:
    """N orders over `customers_for(N)` customers: a few customers order very often, most rarely."""
    rng = np.random.default_rng(seed)
    customers = customers_for(orders)
    weight = rng.pareto(1.2, customers) + 0.05
    who = rng.choice(customers, orders, p=weight / weight.sum())
    days = rng.integers(0, int((END - START).astype(int)) + 1, orders)
    return pd.DataFrame({
        "order_id": [f"B{i:09d}" for i in range(orders)],
        "customer_id": [f"K{c:07d}" for c in who],
        "order_date": (START + days.astype("timedelta64[D]")).astype("datetime64[D]").astype(str),
        "amount": np.round(rng.lognormal(4.5, 1.0, orders) * np.where(rng.random(orders) < 0.02, -1, 1), 2),
        "channel": rng.choice(["web", "phone", "email", "edi"], orders, p=[0.4, 0.25, 0.25, 0.1]),
    })


TICKETS_PER_ORDER = 0.06   # 600,000 tickets at 10M orders
TICKET_KINDS = {"inquiry": 0.45, "complaint": 0.15, "outreach": 0.2, "praise": 0.05, "other": 0.15}


def hours(rng: np.random.Generator, median: float, n: int) -> np.ndarray:
    """n log-normal durations (a long tail) with the given median in hours, to the second."""
    return np.round(rng.lognormal(np.log(median), 1.1, n) * 3600).astype("timedelta64[s]")


def generate_tickets(orders: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """Support tickets for the orders: one per ~17 orders, each opened within 30 days after an order of its
    customer (so busy customers ask more), up to the last order day; outreach tickets (our own contacts) have
    no response times; some requests of the last two weeks are still unanswered or unresolved (a few older
    ones too); a third of the tickets carry a CSAT rating."""
    rng = np.random.default_rng(seed + 1)
    n = round(len(orders) * TICKETS_PER_ORDER)
    source = rng.integers(0, len(orders), n)
    order_day = orders["order_date"].to_numpy()[source].astype("datetime64[D]")
    day = np.minimum(order_day + rng.integers(0, 31, n).astype("timedelta64[D]"), END)
    opened = day.astype("datetime64[s]") + rng.integers(0, 86400, n).astype("timedelta64[s]")
    kind = rng.choice(list(TICKET_KINDS), n, p=list(TICKET_KINDS.values()))
    request = kind != "outreach"
    recent = day > END - np.timedelta64(14, "D")   # most open requests are recent ones
    first = opened + hours(rng, 3.0, n)
    answered = request & (rng.random(n) >= np.where(recent, 0.1, 0.002))
    resolved = first + hours(rng, 20.0, n)
    closed = answered & (rng.random(n) >= np.where(recent, 0.3, 0.003))
    csat = pd.array(rng.choice([1, 2, 3, 4, 5], n, p=[0.06, 0.08, 0.16, 0.35, 0.35]), dtype="Int64")
    csat[rng.random(n) >= 0.35] = pd.NA
    channel = rng.choice(["email", "phone", "web", "other", ""], n, p=[0.4, 0.3, 0.2, 0.08, 0.02])   # the stored vocabulary
    return pd.DataFrame({
        "ticket_id": [f"T{i:09d}" for i in range(n)],
        "customer_id": orders["customer_id"].to_numpy()[source],
        "opened_at": opened,
        "first_response_at": np.where(answered, first, np.datetime64("NaT")),
        "resolved_at": np.where(closed, resolved, np.datetime64("NaT")),
        "channel": pd.Series(channel).replace("", None),
        "kind": kind,
        "csat": csat,
        "reopened": closed & (rng.random(n) < 0.07),
    })


def write_dataset(orders: int, seed: int, files: dict[str, dict[str, Path]]) -> None:
    """Generate the orders and their tickets and write each as CSV and Parquet, under a temporary name first
    (a half-written file is never reused)."""
    frames = {"orders": generate(orders, seed)}
    frames["tickets"] = generate_tickets(frames["orders"], seed)
    for kind, frame in frames.items():
        for path, write in ((files[kind]["CSV"], frame.to_csv), (files[kind]["Parquet"], frame.to_parquet)):
            partial = path.with_name(path.name + ".partial")
            write(partial, index=False)
            partial.replace(path)


def in_child(fn: Callable, *args):
    """fn(*args) in a fresh child process (its memory is not this process's), returning its result."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def dataset(orders: int, seed: int, folder: Path) -> tuple[dict[str, dict[str, Path]], bool]:
    """The files of N orders and their tickets for a seed ({"orders": {"CSV": path, "Parquet": path},
    "tickets": …}), generated (in a child process) only when missing; also whether they were generated now."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {kind: {"CSV": folder / f"{kind}_{orders}_seed{seed}_{END}.csv",
                    "Parquet": folder / f"{kind}_{orders}_seed{seed}_{END}.parquet"} for kind in ("orders", "tickets")}
    if all(path.exists() for formats in files.values() for path in formats.values()):
        return files, False
    in_child(write_dataset, orders, seed, files)
    return files, True


# ------------------------------------------------------------------------------------------------ timing

def timed(fn: Callable, repeats: int) -> tuple[list[float], object]:
    """Wall times of `repeats` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


class EngineCalls:
    """A page's `cached(fn, *args, **kwargs)` as a straight engine call (cold), and its `cached_together`
    as the same calls side by side (`loyalty.db.side_by_side`, as the app computes them)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def __call__(self, fn: Callable, *args, **kwargs):
        return fn(self.con, *args, **kwargs)

    def together(self, *calls: Call | None) -> list:
        return side_by_side(self.con, calls)


class WarmCache:
    """`loyalty.ui.cached` without Streamlit: results kept pickled under the function's name, the data
    version and the arguments; `page_load` reads the data version once, as every script run does, and
    `together` looks several up side by side, as `cached_together` does."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con, self.results, self.version = con, {}, None

    def page_load(self) -> "WarmCache":
        self.version = data_version(self.con)
        return self

    def __call__(self, fn: Callable, *args, **kwargs):
        return self.lookup(Call(fn, *args, **kwargs), self.con)

    def together(self, *calls: Call | None) -> list:
        return side_by_side(self.con, [None if c is None else (lambda cursor, c=c: self.lookup(c, cursor))
                                       for c in calls])

    def lookup(self, call: Call, con: duckdb.DuckDBPyConnection):
        key = (self.version, *call.key)
        if key not in self.results:
            self.results[key] = pickle.dumps(call(con))
        return pickle.loads(self.results[key])


def pandas_side(orders: Path, tickets: Path, period: Period, repeats: int) -> dict:
    """In a child process: the raw orders and tickets from the generated Parquet files, the time to prepare
    them, each page's baseline times and figures, and the child's peak memory."""
    frames = pd.read_parquet(orders), pd.read_parquet(tickets)
    prepare_times, data = timed(lambda: baseline.prepare(*frames), repeats)
    pages = {}
    for page, compute in baseline.PAGES.items():
        pages[page] = timed(lambda compute=compute: compute(data, period), repeats)
    return {"prepare": prepare_times, "pages": pages,
            "peak_gb": own_peak_memory()}


def own_peak_memory() -> float:
    """This process's peak resident memory in GB. In a child, ru_maxrss starts from the parent's peak (Linux
    carries it over fork and exec), so the child's own high-water mark (VmHWM) is read where there is one."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / GB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GB


# ------------------------------------------------------------------------------------------------ the run

def page_cold_target(orders: int) -> float:
    return 0.3 if orders >= FULL_SIZE else 0.06


RATIO_TARGET = 8.0


def ratio_target(orders: int) -> float | None:
    return RATIO_TARGET if orders >= FULL_SIZE else None


def row(figure: str, times: list[float] | None, target: float | None = None, median: float | None = None,
        **extra) -> dict:
    """A table row: times in seconds, their median (or the given one), min and max; met when the median is
    within the target."""
    median = statistics.median(times) if times else median
    return {"figure": figure, "times": times, "median": median, "min": min(times) if times else None,
            "max": max(times) if times else None, "target": target,
            "met": None if target is None else median <= target, **extra}


IMPORT_TARGETS = {"CSV": 6.0, "Parquet": 3.0}   # the orders' import; the tickets' has no target of its own


def import_rows(files: dict[str, dict[str, Path]], folder: Path) -> list[dict]:
    """Each format into a fresh database (bench_csv / bench_parquet.duckdb): the orders, then their tickets,
    each import timed once."""
    rows = []
    for fmt, target in IMPORT_TARGETS.items():
        db = folder / f"bench_{fmt.lower()}.duckdb"
        db.unlink(missing_ok=True)
        with session(db) as con:
            for kind, label, goal in (("orders", f"import from {fmt}", target),
                                      ("tickets", f"import tickets from {fmt}", None)):
                times, _ = timed(lambda: import_files(con, kind, [files[kind][fmt]], user=BENCH_USER), 1)
                rows.append(row(label, times, goal))
    return rows


def page_rows(con: duckdb.DuckDBPyConnection, period: Period, orders: int, repeats: int) -> tuple[list[dict], dict]:
    """Each page cold and warm and the models once each; and each page's engine output."""
    rows, outputs = [], {}
    cache = WarmCache(con)
    for page, compute in PAGES.items():
        times, outputs[page] = timed(lambda: compute(EngineCalls(con), period), repeats)
        rows.append(row(f"{page}, cold", times, page_cold_target(orders), page=page))
        compute(cache.page_load(), period)   # the first load fills the cache
        times, _ = timed(lambda: compute(cache.page_load(), period), repeats)
        rows.append(row(f"{page}, warm", times, 0.03))
    cold = [r for r in rows if r["figure"].endswith(", cold")]
    rows.append(row("all pages, cold (sum of medians)", None, 1.5, median=sum(r["median"] for r in cold)))
    for label, (train, pages) in MODELS.items():
        times, _ = timed(lambda: train(EngineCalls(con), period), 1)
        rows.append(row(label, times, pages=pages))
    return rows, outputs


def open_session(db: Path) -> None:
    """What `loyalty.ui` does once in a page's script run: open the database, then close it, keeping it attached
    for the next run (`hold_open`, as `loyalty.ui.end_run`)."""
    with session(db):
        hold_open(db)


def after_a_pause(db: Path, period: Period, page: str, repeats: int) -> list[float]:
    """The page's first run once the app's hold on the database has ended (a pause of more than
    `hold_seconds()`): the database attached afresh (the open included) and the page's engine calls on it."""
    times = []
    for _ in range(repeats):
        release_hold()
        started = time.perf_counter()
        with session(db) as con:
            PAGES[page](EngineCalls(con), period)
        times.append(time.perf_counter() - started)
    return times


def check_agreement(outputs: dict, theirs: dict) -> None:
    """Stop (Disagreement) when any page's engine figures differ from its baseline's."""
    problems = []
    for page, output in outputs.items():
        lines = disagreements(ENGINE_FIGURES[page](output), theirs[page][1])
        problems += [f"{page}: {line}" for line in lines[:10]]
    if problems:
        raise Disagreement("The engine and the pandas baseline disagree:\n  " + "\n  ".join(problems))


def add_ratios(rows: list[dict], pandas: dict, orders: int) -> None:
    """Per page cold row: the pandas median, the ratio and whether its targets (time; ratio at 10M) are met."""
    for r in rows:
        if "page" in r:
            r["pandas"] = statistics.median(pandas["pages"][r["page"]][0])
            r["ratio"] = r["pandas"] / r["median"]
            r["ratio_target"] = ratio_target(orders)
            r["met"] = r["met"] and (r["ratio_target"] is None or r["ratio"] >= r["ratio_target"])


def machine() -> dict:
    return {"cores": os.cpu_count(), "python": platform.python_version(), "duckdb": duckdb.__version__,
            "pandas": pd.__version__, "numpy": np.__version__, "platform": platform.platform()}


def run(orders: int, repeats: int = 3, seed: int = SEED) -> list[dict]:
    data = HERE / "data"
    files, generated = dataset(orders, seed, data)
    rows = import_rows(files, data)
    db = data / "bench_parquet.duckdb"
    with session(db) as con:
        period = default_period(con)
        more, outputs = page_rows(con, period, orders, repeats)
    rows += more
    rows.append(row("open a session (once a page run)", timed(lambda: open_session(db), repeats)[0]))
    first = next(iter(PAGES))
    rows.append(row(f"{first}, after a pause (open included)", after_a_pause(db, period, first, repeats)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GB
    rows.append(row("peak memory of this process (GB)", None, 3.0, median=peak, unit="GB"))
    pandas = in_child(pandas_side, files["orders"]["Parquet"], files["tickets"]["Parquet"], period, repeats)
    check_agreement(outputs, pandas["pages"])
    add_ratios(rows, pandas, orders)
    rows.append(row("pandas: prepare the data (not in the pages)", pandas["prepare"]))
    rows.append(row("pandas: peak memory of its process (GB)", None, median=pandas["peak_gb"], unit="GB"))
    header = (f"{orders:,} orders, {customers_for(orders):,} customers (seed {seed}, "
              f"{'generated now' if generated else 'reused from ' + str(data)}); period {period.start} – "
              f"{period.end}, as of {period.as_of}. Engine and pandas agree on every page's figures.")
    print(header)
    print("Page rows hold the pages' analytics without the models: each model is trained once per data version "
          "and timed once in its own 'Predictions: …' row.")
    print_table(rows)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"bench_{orders}.json").write_text(json.dumps(
        {"orders": orders, "customers": customers_for(orders), "seed": seed, "repeats": repeats,
         "period": {"start": period.start, "end": period.end, "as_of": period.as_of},
         "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(), "rows": rows},
        indent=2, default=str))
    return rows


def seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def target_text(r: dict) -> str:
    if r["target"] is None:
        return ""
    text = f"≤ {r['target']:g} GB" if r.get("unit") == "GB" else (
        f"≤ {r['target'] * 1000:g} ms" if r["target"] < 1 else f"≤ {r['target']:g} s")
    return text + (f", ≥ {r['ratio_target']:g}×" if r.get("ratio_target") else "")


def print_table(rows: list[dict]) -> None:
    print(f"{'figure':46} {'median':>9} {'min–max':>17} {'× pandas':>9} {'target':>14} {'met?':>4}  pages")
    for r in rows:
        median = f"{r['median']:.2f} GB" if r.get("unit") == "GB" else seconds(r["median"])
        spread = f"{seconds(r['min'])}–{seconds(r['max'])}" if r["min"] is not None else ""
        ratio = "" if "ratio" not in r else f"{r['ratio']:.1f}×" if r["ratio"] >= 1 else f"{r['ratio']:.2f}×"
        met = {None: "", True: "yes", False: "NO"}[r["met"]]
        print(f"{r['figure']:46} {median:>9} {spread:>17} {ratio:>9} {target_text(r):>14} {met:>4}  "
              f"{', '.join(r.get('pages', []))}")


def run_models(customers: int, seed: int = SEED) -> list[dict]:
    """Only the models, at a given customer count (20 orders each, imported from Parquet): each trained once."""
    data = HERE / "data"
    orders = customers * 20
    files, _ = dataset(orders, seed, data)
    db = data / "bench_models.duckdb"
    db.unlink(missing_ok=True)
    with session(db) as con:
        import_files(con, "orders", [files["orders"]["Parquet"]], user=BENCH_USER)
        period = default_period(con)
        rows = [row(label, timed(lambda: train(EngineCalls(con), period), 1)[0], pages=pages)
                for label, (train, pages) in MODELS.items()]
    print(f"{orders:,} orders, {customers_for(orders):,} customers")
    print_table(rows)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"bench_models_{customers}.json").write_text(json.dumps(
        {"customers": customers_for(orders), "orders": orders, "machine": machine(),
         "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "rows": rows}, indent=2, default=str))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--models-customers", type=int, help="time only the models, at this many customers")
    args = parser.parse_args()
    try:
        if args.models_customers:
            run_models(args.models_customers, args.seed)
        else:
            run(args.orders, args.repeats, args.seed)
    except Disagreement as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
