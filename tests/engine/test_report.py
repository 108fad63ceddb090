"""The report: the contract's JSON keys, the same figures as the engine, and CSV rows that agree."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loyalty.metrics import activity, concentration, rfm, stages
from loyalty.metrics.scorecard import scorecard
from loyalty.report import build_report, report_rows

ROOT = Path(__file__).resolve().parents[2]


def test_report_figures_equal_the_engine(shop, year):
    report = build_report(shop)                                   # defaults: as of 2024-12-31, calendar 2024
    assert set(report) == {"period", "customers", "orders", "revenue", "repeat_customer_rate",
                           "top20_revenue_share", "segments", "stages", "kpis"}
    assert report["period"] == {"from": "2024-01-01", "to": "2024-12-31", "as_of": "2024-12-31"}
    act = activity.activity(shop, year)
    assert (report["customers"], report["orders"], report["revenue"]) == (4, 7, 1610.0)
    assert (act["active"], act["orders"], act["revenue"]) == (4, 7, 1610.0)
    assert report["repeat_customer_rate"] == pytest.approx(act["repeat_customer_rate"])
    assert report["top20_revenue_share"] == pytest.approx(concentration.revenue_concentration(shop, year).top20_share)
    summary = rfm.segment_overview(shop, year).summary
    assert report["segments"] == dict(zip(summary["segment"], summary["customers"]))
    assert report["stages"] == stages.stage_counts(shop, year)
    for card in scorecard(shop, year, trend_months=0):
        kpi = report["kpis"][card["name"]]
        assert kpi["status"] == card["status"] and kpi["target"] == card["target"]
        if isinstance(card["value"], float):
            assert kpi["value"] == pytest.approx(card["value"], abs=1e-6)


def test_csv_rows_carry_the_same_figures(shop):
    report = build_report(shop)
    rows = report_rows(report)
    assert rows[0] == ("section", "name", "value", "target", "previous", "status")
    by_key = {(r[0], r[1]): r for r in rows[1:]}
    assert by_key[("summary", "revenue")][2] == report["revenue"]
    assert by_key[("stage", "Advocate")][2] == report["stages"]["Advocate"]
    assert list(by_key[("kpi", "retention")][2:]) == [report["kpis"]["retention"][k] for k in ("value", "target", "previous", "status")]


def test_cli_report_json_and_csv(shop, db_file, tmp_path):
    shop.close()   # let the CLI process have the file
    env = {**os.environ}
    run = lambda *a: subprocess.run([sys.executable, "-m", "loyalty", "report", "--db", str(db_file), *a],  # noqa: E731
                                    cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    done = run("--from", "2024-05-01", "--to", "2024-05-31")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # May 2024: C's order (80) and refund (-30); the as-of date stays the latest order date
    assert report["period"] == {"from": "2024-05-01", "to": "2024-05-31", "as_of": "2024-12-31"}
    assert (report["customers"], report["orders"], report["revenue"]) == (1, 2, 50.0)
    out = tmp_path / "report.csv"
    assert run("--format", "csv", "--out", str(out)).returncode == 0
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert ["summary", "revenue", "1610.0", "", "", ""] in rows
    bad = run("--from", "2024-13-01")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
