"""The least any import into a DuckDB store can take here: `python -m bench.floor --orders N` (not part of the suite).

The benchmark's N-order file (generated like `make bench` when missing), CSV and Parquet, read straight into a
stored table of the five columns (no header mapping, parsing beyond DuckDB's own, keys, checks, history or sort)
and grouped into one customer-by-month rollup (orders and revenue: fewer figures than the product keeps), in one
transaction into a new database: once with DuckDB's defaults, once with its string compression turned off (a
store several times larger). What no import of these files into such a store can go below on this machine, set
against the import targets of the benchmark (`bench.run`). Prints a line per format and setting, and the JSON.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from .run import SEED, dataset

HERE = Path(__file__).resolve().parent
SETTINGS = {"defaults": [], "strings uncompressed": ["PRAGMA force_compression = 'uncompressed'"]}
READERS = {"CSV": "read_csv($path)", "Parquet": "read_parquet($path)"}


def least_import(path: Path, file_format: str, settings: list[str]) -> dict[str, float]:
    """Seconds to store the file's orders, to build the rollup, and to commit, in a new database."""
    with tempfile.TemporaryDirectory(prefix="loyalty-floor-") as folder:
        con = duckdb.connect(str(Path(folder) / "floor.duckdb"))
        for setting in settings:
            con.execute(setting)
        con.execute("""CREATE TABLE orders (order_id VARCHAR, customer_id VARCHAR, order_date DATE,
                                            amount DECIMAL(18, 2), channel VARCHAR)""")
        con.execute("""CREATE TABLE customer_months (customer_id VARCHAR, month DATE, orders BIGINT,
                                                     revenue DECIMAL(38, 2))""")
        started = time.perf_counter()
        con.execute("BEGIN TRANSACTION")
        con.execute(f"""INSERT INTO orders SELECT order_id, customer_id, order_date, amount, channel
                        FROM {READERS[file_format]}""", {"path": str(path)})
        stored = time.perf_counter()
        con.execute("""INSERT INTO customer_months
                       SELECT customer_id, date_trunc('month', order_date)::DATE, count(*), sum(amount)
                       FROM orders GROUP BY ALL""")
        rolled = time.perf_counter()
        con.execute("COMMIT")
        done = time.perf_counter()
        con.close()
    return {"store": stored - started, "rollup": rolled - stored, "commit": done - rolled, "total": done - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    files, _ = dataset(args.orders, SEED, HERE / "data")
    results = []
    for file_format in READERS:
        for name, settings in SETTINGS.items():
            runs = [least_import(files["orders"][file_format], file_format, settings) for _ in range(args.repeats)]
            median = {step: statistics.median(run[step] for run in runs) for step in runs[0]}
            results.append({"format": file_format, "setting": name, "orders": args.orders, **median,
                            "totals": [run["total"] for run in runs]})
            totals = ", ".join(f"{run['total']:.2f}" for run in runs)
            print(f"{file_format:8} {name:21} store {median['store']:5.2f} s  rollup {median['rollup']:5.2f} s  "
                  f"commit {median['commit']:4.2f} s  total {median['total']:5.2f} s  (runs: {totals})", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
