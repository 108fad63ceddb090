"""The load test: `python -m bench.load` (not part of the test suite; localhost only, bounded in time).

Builds a demo database under bench/data/load/, starts the app on a free localhost port (as the browser
tests do), and drives N concurrent browser sessions (default 20: contexts of ONE headless chromium)
that open the app's pages in turn until the time is up (default 3 minutes). A page load is timed from
navigation until the page's heading is shown, the script run has ended and every chart and grid has
drawn (the browser tests' `SETTLED`); it counts as an error when an exception box (stException) is on
the page or it takes longer than the page timeout.
Part-way through (default 40 % of the time) a command-line import of new orders runs against the same
database, as a scheduled monthly import would. Prints per page the loads, errors, median and worst
time, then the totals and the import's outcome; writes the same as JSON to bench/results/.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from tests.e2e.conftest import CHROMIUM_FLAGS, SETTLED, serve

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PAGES = {"": "Executive scorecard", "super_customers": "Super customers", "funnel": "Loyalty funnel",
         "responsiveness": "Responsiveness", "at_risk": "At-risk customers", "customer_360": "Customer 360",
         "predictions": "Predictions", "data": "Data", "settings": "Settings"}
PAGE_TIMEOUT_MS = 120_000


def demo_database(folder: Path, customers: int) -> Path:
    db = folder / "load.duckdb"
    subprocess.run([sys.executable, "-m", "loyalty", "demo", "--customers", str(customers), "--db", str(db)],
                   cwd=ROOT, check=True, capture_output=True)
    return db


def orders_file(folder: Path, rows: int) -> Path:
    """New orders (ids L0…) for the mid-run import."""
    import duckdb

    path = folder / "new_orders.csv"
    con = duckdb.connect()
    con.execute(
        """COPY (SELECT 'L' || range AS "Order ID", 'C' || lpad((range % 1500)::VARCHAR, 5, '0') AS "Customer ID",
                        DATE '2026-10-01' + CAST(range % 30 AS INTEGER) AS "Order Date", range % 500 + 0.99 AS "Total"
                 FROM range($rows)) TO '""" + str(path).replace("'", "''") + "' (HEADER)",
        {"rows": rows},
    )
    con.close()
    return path


async def load_page(tab, url: str, heading: str) -> tuple[float, str | None]:
    """Seconds until the page is drawn and idle, and the error (None when fine)."""
    started = time.perf_counter()
    try:
        await tab.goto(url, timeout=PAGE_TIMEOUT_MS)
        await tab.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=PAGE_TIMEOUT_MS)
        await tab.wait_for_timeout(300)  # let a rerun start before asking whether it has ended
        await tab.wait_for_function(SETTLED, timeout=PAGE_TIMEOUT_MS)
        seconds = time.perf_counter() - started
        exceptions = tab.locator("[data-testid=stException]")
        if await exceptions.count():
            return seconds, "exception: " + (await exceptions.first.inner_text())[:200]
        return seconds, None
    except Exception as exc:  # a timeout or a crashed tab: counted, reported, the session goes on
        return time.perf_counter() - started, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


async def browse(browser, base: str, index: int, deadline: float, records: list[dict]) -> None:
    """One session: the pages in turn (each session starting at a different one) until the deadline."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = await context.new_page()
    paths = list(PAGES)
    turn = index
    while time.monotonic() < deadline:
        path = paths[turn % len(paths)]
        seconds, error = await load_page(tab, f"{base}/{path}", PAGES[path])
        records.append({"session": index, "page": path or "scorecard", "seconds": round(seconds, 3), "error": error,
                        "at": round(time.monotonic(), 3)})
        turn += 1
    await context.close()


async def run_import(db: Path, csv: Path, delay: float, outcome: dict) -> None:
    """The command-line import, started `delay` seconds into the run."""
    await asyncio.sleep(delay)
    outcome["started"] = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loyalty", "import", "orders", str(csv), "--db", str(db), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    outcome["finished"] = time.monotonic()
    outcome["seconds"] = round(outcome["finished"] - outcome["started"], 1)
    outcome["returncode"] = proc.returncode
    outcome["inserted"] = json.loads(out)["inserted"] if proc.returncode == 0 else None
    outcome["stderr"] = err.decode().strip()[-300:]


async def drive(base: str, db: Path, csv: Path, sessions: int, seconds: float, import_at: float) -> tuple[list[dict], dict]:
    from playwright.async_api import async_playwright

    records: list[dict] = []
    outcome: dict = {}
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        deadline = time.monotonic() + seconds
        await asyncio.gather(run_import(db, csv, seconds * import_at, outcome),
                             *(browse(browser, base, i, deadline, records) for i in range(sessions)))
        await browser.close()
    return records, outcome


def summarise(records: list[dict], outcome: dict) -> dict:
    pages = {}
    for page in dict.fromkeys(r["page"] for r in records):
        rows = [r for r in records if r["page"] == page]
        ok = [r["seconds"] for r in rows if r["error"] is None]
        pages[page] = {"loads": len(rows), "errors": len(rows) - len(ok),
                       "median_s": round(statistics.median(ok), 2) if ok else None,
                       "worst_s": round(max(ok), 2) if ok else None}
    ok = [r["seconds"] for r in records if r["error"] is None]
    during = [r for r in records if outcome.get("started", 0) <= r["at"] <= outcome.get("finished", 0)]
    return {"pages": pages,
            "total": {"loads": len(records), "errors": len(records) - len(ok),
                      "median_s": round(statistics.median(ok), 2) if ok else None,
                      "worst_s": round(max(ok), 2) if ok else None,
                      "loads_finished_during_import": len(during)},
            "errors": sorted({r["error"] for r in records if r["error"]}),
            "import": {k: v for k, v in outcome.items() if k not in ("started", "finished")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--customers", type=int, default=1500, help="demo data size")
    parser.add_argument("--import-rows", type=int, default=200_000, help="orders in the mid-run import")
    parser.add_argument("--import-at", type=float, default=0.4, help="when the import starts, as a share of the time")
    args = parser.parse_args()
    folder = HERE / "data" / "load"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    db = demo_database(folder, args.customers)
    csv = orders_file(folder, args.import_rows)
    with serve(db, folder / "server.log") as base:
        records, outcome = asyncio.run(drive(base, db, csv, args.sessions, args.seconds, args.import_at))
    result = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "settings": vars(args),
              **summarise(records, outcome)}
    print(f"{'page':<16}{'loads':>7}{'errors':>8}{'median s':>10}{'worst s':>9}")
    for page, row in [*result["pages"].items(), ("TOTAL", result["total"])]:
        print(f"{page:<16}{row['loads']:>7}{row['errors']:>8}{row['median_s'] or '-':>10}{row['worst_s'] or '-':>9}")
    print("import:", json.dumps(result["import"]))
    for error in result["errors"]:
        print("error:", error)
    out = HERE / "results" / f"load_{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({**result, "loads": records}, indent=2))
    print("written:", out.relative_to(ROOT))


if __name__ == "__main__":
    main()
