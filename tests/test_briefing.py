"""The executive briefing and the CSV downloads: same figures as the page, safe to open in a spreadsheet."""
from __future__ import annotations

import html
import subprocess
import sys
from pathlib import Path

import pandas as pd

from loyalty.briefing import briefing_html, briefing_pdf, build_briefing
from loyalty.formatting import fmt
from loyalty.downloads import spreadsheet_safe

from .shop import YEAR_2024, insert, order

ROOT = Path(__file__).resolve().parent.parent


def test_html_briefing_carries_the_scorecard_figures(shop):
    briefing = build_briefing(shop, YEAR_2024)
    page = briefing_html(briefing)
    assert "Customer loyalty briefing, 01 Jan 2024 – 31 Dec 2024" in page
    for card in briefing.cards:
        row = f"<td>{html.escape(card['label'])}</td><td>{html.escape(fmt(card['value'], card['unit']))}</td>"
        assert row in page
    assert "<td>Revenue</td><td>1,610</td><td>—</td><td>150</td><td>+1,460</td>" in page   # hand-worked shop
    assert "<script" not in page


def test_without_tickets_surveys_or_deliveries_the_briefing_says_at_risk_is_not_available(con):
    insert(con, "orders", [order("A", "2024-02-01", 100), order("A", "2024-06-01", 80)])
    briefing = build_briefing(con, YEAR_2024)
    note = "Not available: needs delivery dates on orders, support tickets or survey answers."
    assert briefing.at_risk.empty and briefing.at_risk_empty_note == note
    assert f"<h2>Super customers at risk</h2>\n<p>{note}</p>" in briefing_html(briefing)
    assert briefing_pdf(briefing).startswith(b"%PDF-")


def test_with_tickets_the_briefing_counts_bad_experiences(shop):
    briefing = build_briefing(shop, YEAR_2024)
    # A: 2 late deliveries, a complaint and a CSAT of 2 (tests/engine/test_metrics.py)
    assert briefing.at_risk_missing is None and briefing.at_risk["customer_id"].tolist() == ["A"]


def test_pdf_briefing_is_a_pdf(shop):
    data = briefing_pdf(build_briefing(shop, YEAR_2024))
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF") and len(data) > 2000


def test_cli_writes_the_briefing(shop, db_file, tmp_path):
    shop.close()
    out = tmp_path / "briefing.pdf"
    done = subprocess.run([sys.executable, "-m", "loyalty", "report", "--db", str(db_file), "--format", "pdf",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    refused = subprocess.run([sys.executable, "-m", "loyalty", "report", "--db", str(db_file), "--format", "pdf"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "needs --out" in refused.stderr


def test_csv_downloads_neutralise_formulas():
    frame = pd.DataFrame({"name": ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "plain", None], "amount": [-5, 1, 2, 3, 4, 5]})
    safe = spreadsheet_safe(frame)
    assert safe["name"].tolist()[:5] == ["'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "plain"]
    assert safe["amount"].tolist() == [-5, 1, 2, 3, 4, 5]          # numbers stay numbers
    assert frame["name"].iloc[0] == "=HYPERLINK(\"x\")"             # the original is untouched
