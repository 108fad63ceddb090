"""The large-file import: `python -m bench.big_import --mb 1024` (not part of the test suite).

Writes an orders CSV of about the given size under bench/data/ (with DuckDB's COPY, so writing it takes
seconds), then imports it through the command line exactly as a scheduled job would
(`python -m loyalty import orders FILE --db DB`) in a child process, and reports the wall time, the
child's peak resident memory (getrusage RUSAGE_CHILDREN) and the import summary's counts. The result
is also written as JSON to bench/results/.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BYTES_PER_ROW = 55  # measured: 19,522,578 rows made 1,016 MiB

GENERATE_SQL = """
COPY (
    SELECT 'O' || lpad(range::VARCHAR, 10, '0') AS "Order ID",
           'K' || lpad((hash(range) % $customers)::VARCHAR, 7, '0') AS "Customer ID",
           (DATE '2016-01-01' + CAST(hash(range * 7) % 3650 AS INTEGER))::VARCHAR AS "Order Date",
           round((hash(range * 13) % 500000) / 100.0 + 1, 2) AS "Total",
           ['web', 'phone', 'email', 'edi'][CAST(1 + hash(range * 3) % 4 AS BIGINT)] AS "Channel",
           'Widget ' || (hash(range * 5) % 100)::VARCHAR AS "Product"
    FROM range($rows)
) TO '{path}' (HEADER, DELIMITER ',')
"""


def generate(path: Path, rows: int) -> None:
    """An orders export of `rows` rows with unique order ids over rows/20 customers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(GENERATE_SQL.replace("{path}", str(path).replace("'", "''")),
                {"rows": rows, "customers": max(1, rows // 20)})
    con.close()


def run_import(path: Path, db: Path) -> dict:
    """Import through the CLI in a child; its wall time, peak RSS and summary."""
    db.unlink(missing_ok=True)
    db.with_name(db.name + ".wal").unlink(missing_ok=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "loyalty", "import", "orders", str(path), "--db", str(db)],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stderr.strip()}")
    summary = json.loads(done.stdout)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(peak_kib / 1024), "rows_read": summary["rows_read"],
            "accepted": summary["accepted"], "rejected": summary["rejected"], "inserted": summary["inserted"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024, help="approximate file size in MB (default 1024)")
    args = parser.parse_args()
    rows = args.mb * 1024 * 1024 // BYTES_PER_ROW
    path = HERE / "data" / f"orders_{args.mb}mb.csv"
    started = time.perf_counter()
    generate(path, rows)
    generated = time.perf_counter() - started
    size_mb = path.stat().st_size / 1024 / 1024
    result = {"file_mb": round(size_mb), "rows": rows, "generate_seconds": round(generated, 1),
              **run_import(path, HERE / "data" / "big_import.duckdb")}
    assert result["rows_read"] == result["accepted"] == result["inserted"] == rows, result
    print(json.dumps(result, indent=2))
    out = HERE / "results" / f"big_import_{args.mb}mb.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
