"""The speed benchmark: `make bench N=1000000` (or `python -m bench.run --orders N`).

It generates N orders over N/20 customers with a realistic skew (log-normal order values, Pareto-like
order counts), writes them as CSV and Parquet under bench/data/, imports both through the product's
import path, then times each page's analytics exactly as the pages call them: cold (straight engine
calls, as after new data) and warm (the data-version cache the pages use), and trains each model of the
Predictions page once (clusters, churn model, lifetime value). In the same run it computes
the same figures with plain pandas, checks that both agree, and prints a table of figure, median,
min–max and the ratio to pandas; the table is also written as JSON to bench/results/.

`python -m bench.run --models-customers 500000` times only the models, at that many customers.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from loyalty.access import ADMIN, User
from loyalty.db import data_version, session
from loyalty.importer import import_files
from loyalty.metrics import activity, concentration, rfm, stages
from loyalty.metrics.scorecard import scorecard
from loyalty.metrics.signals import customer_signals
from loyalty.metrics.super_customers import super_customers
from loyalty.models.churn import train_churn_model
from loyalty.models.clusters import customer_clusters
from loyalty.models.value import customer_value
from loyalty.period import default_period

HERE = Path(__file__).resolve().parent
BENCH_USER = User("bench", ADMIN)
START = np.datetime64("2016-11-01")
END = np.datetime64("2026-10-31")


def generate(orders: int, seed: int = 11) -> pd.DataFrame:
    """N orders over N/20 customers: a few customers order very often, most rarely."""
    rng = np.random.default_rng(seed)
    customers = max(1, orders // 20)
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


def timed(fn: Callable, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


# ------------------------------------------------------------------------------------- pandas baseline

def pandas_figures(frame: pd.DataFrame, start: date, end: date, as_of: date) -> dict:
    """The same headline figures, computed with plain pandas from the raw orders."""
    orders = frame.assign(order_date=pd.to_datetime(frame["order_date"]).dt.date)
    orders = orders[orders["order_date"] <= as_of]
    in_period = orders[(orders["order_date"] >= start) & (orders["order_date"] <= end)]
    first = orders.groupby("customer_id")["order_date"].min()
    count = orders.groupby("customer_id").size()
    active = in_period["customer_id"].unique()
    revenue = in_period.groupby("customer_id")["amount"].sum().sort_values(ascending=False, kind="stable")
    top = revenue.head(int(np.ceil(0.2 * len(revenue))))
    return {
        "active": len(active),
        "new": int((first.loc[active] >= start).sum()),
        "revenue": round(float(in_period["amount"].sum()), 2),
        "repeat_active": int((count.loc[active] >= 2).sum()),
        "top20_share": round(float(top.sum() / revenue.sum()), 6),
        "buyers": int(orders["customer_id"].nunique()),
    }


def engine_figures(con, period) -> dict:
    act = activity.activity(con, period)
    return {"active": act["active"], "new": act["new"], "revenue": round(act["revenue"], 2),
            "repeat_active": act["repeat_active"], "top20_share": round(concentration.top20_share(con, period), 6),
            "buyers": int(rfm.segment_summary(con, period)["customers"].sum())}


PAGES = {  # the analytics each page runs, as the pages call them
    "Executive scorecard": lambda con, p: scorecard(con, p),
    "Super customers": lambda con, p: (rfm.rfm_grid(con, p), rfm.segment_summary(con, p),
                                       concentration.pareto_curve(con, p), super_customers(con, p)),
    "Loyalty funnel": lambda con, p: (stages.stage_counts(con, p), stages.stage_history(con, p)),
    "At-risk customers": lambda con, p: customer_signals(con, p),
}

MODELS = {  # the models of the Predictions page, each trained once per data version (timed cold, once)
    "Predictions: clusters": customer_clusters,
    "Predictions: churn model": train_churn_model,
    "Predictions: lifetime value": customer_value,
}


def run(orders: int, repeats: int = 3) -> list[dict]:
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    frame = generate(orders)
    csv_path, parquet_path = data / f"orders_{orders}.csv", data / f"orders_{orders}.parquet"
    frame.to_csv(csv_path, index=False)
    frame.to_parquet(parquet_path, index=False)
    rows = []
    for label, path in (("import from CSV", csv_path), ("import from Parquet", parquet_path)):
        db = data / f"bench_{path.suffix[1:]}.duckdb"
        db.unlink(missing_ok=True)
        with session(db) as con:
            started = time.perf_counter()
            import_files(con, "orders", [path], user=BENCH_USER)
            rows.append({"figure": label, "times": [time.perf_counter() - started]})
    with session(data / "bench_parquet.duckdb") as con:
        period = default_period(con)
        cache: dict = {}
        for page, analytics in PAGES.items():
            rows.append({"figure": f"{page}, cold", "times": timed(lambda: analytics(con, period), repeats)})

            def warm(page=page, analytics=analytics):
                key = (page, data_version(con), period)
                if key not in cache:
                    cache[key] = analytics(con, period)
                return cache[key]
            warm()
            rows.append({"figure": f"{page}, warm", "times": timed(warm, repeats)})
        for label, train in MODELS.items():
            rows.append({"figure": label, "times": timed(lambda: train(con, period), 1)})
        ours = engine_figures(con, period)
        engine_times = timed(lambda: engine_figures(con, period), repeats)
    tracemalloc.start()
    pandas_times = timed(lambda: pandas_figures(frame, period.start, period.end, period.as_of), repeats)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    theirs = pandas_figures(frame, period.start, period.end, period.as_of)
    assert ours == theirs, f"engine and pandas disagree: {ours} != {theirs}"
    rows.append({"figure": "headline figures (activity, top 20%, RFM)", "times": engine_times,
                 "pandas": statistics.median(pandas_times)})
    for row in rows:
        row["median"] = statistics.median(row["times"])
    print(f"{orders:,} orders, {max(1, orders // 20):,} customers; engine and pandas agree: {ours}")
    print(f"{'figure':38} {'median':>9} {'min–max':>17} {'× faster than pandas':>21}")
    for row in rows:
        ratio = f"{row['pandas'] / row['median']:.1f}" if "pandas" in row else ""
        print(f"{row['figure']:38} {row['median']:8.3f}s {min(row['times']):7.3f}–{max(row['times']):7.3f}s {ratio:>21}")
    print(f"peak Python memory during the pandas baseline: {peak / 2**20:,.0f} MiB")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"bench_{orders}.json").write_text(json.dumps({"orders": orders, "rows": rows}, indent=2))
    return rows


def run_models(customers: int) -> list[dict]:
    """Only the models, at a given customer count (20 orders each, imported from Parquet): each trained once."""
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    path, db = data / f"orders_models_{customers}.parquet", data / "bench_models.duckdb"
    generate(customers * 20).to_parquet(path, index=False)
    db.unlink(missing_ok=True)
    with session(db) as con:
        import_files(con, "orders", [path], user=BENCH_USER)
        period = default_period(con)
        rows = [{"figure": label, "times": timed(lambda: train(con, period), 1)} for label, train in MODELS.items()]
    print(f"{customers * 20:,} orders, {customers:,} customers")
    for row in rows:
        row["median"] = row["times"][0]
        print(f"{row['figure']:38} {row['median']:8.3f}s")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"bench_models_{customers}.json").write_text(json.dumps({"customers": customers, "rows": rows}, indent=2))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models-customers", type=int, help="time only the models, at this many customers")
    args = parser.parse_args()
    if args.models_customers:
        run_models(args.models_customers)
    else:
        run(args.orders, args.repeats)


if __name__ == "__main__":
    main()
