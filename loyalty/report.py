"""The scorecard and segment figures for a period, as JSON or CSV (DESIGN section 6). The same engine
functions feed the pages, so every figure agrees between page, download, report and CLI."""
from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date

import duckdb

from .briefing import briefing_html, briefing_pdf, build_briefing
from .metrics.activity import activity
from .metrics.concentration import revenue_concentration
from .metrics.rfm import segment_overview
from .metrics.scope import Unavailable
from .metrics.scorecard import scorecard
from .metrics.stages import stage_counts
from .period import Filters, default_period


def _json_value(value):
    """A figure as JSON: unavailable figures as their sentence, floats to 6 decimals."""
    if isinstance(value, Unavailable):
        return str(value)
    if isinstance(value, float):
        return round(value, 6)
    return value


def build_report(con: duckdb.DuckDBPyConnection, as_of: date | None = None, start: date | None = None,
                 end: date | None = None, filters: Filters | None = None) -> dict:
    """The report's figures (DESIGN section 6), from the same engine functions as the pages:
    `period` {from, to, as_of}; `customers` (≥1 order in the period), `orders` (in the period),
    `revenue` (their net sum, rounded to the cent); `repeat_customer_rate` (of those customers, the
    share with ≥2 orders up to the as-of date; null without customers); `top20_revenue_share`;
    `segments` (RFM segment → customers with an order up to the as-of date, every segment listed);
    `stages` (stage → customers known at the as-of date); `kpis` (name → value, target, previous,
    status; an unavailable figure is its "not available: needs …" sentence)."""
    period = default_period(con, as_of=as_of, start=start, end=end, filters=filters)
    act = activity(con, period)
    segments = segment_overview(con, period).summary
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(), "as_of": period.as_of.isoformat()},
        "customers": act["active"],
        "orders": act["orders"],
        "revenue": round(act["revenue"], 2),
        "repeat_customer_rate": _json_value(act["repeat_customer_rate"]),
        "top20_revenue_share": _json_value(revenue_concentration(con, period).top20_share),
        "segments": {s: int(n) for s, n in zip(segments["segment"], segments["customers"])},
        "stages": {s: int(n) for s, n in stage_counts(con, period).items()},
        "kpis": {card["name"]: {key: _json_value(card[key]) for key in ("value", "target", "previous", "status")}
                 for card in scorecard(con, period, trend_months=0)},
    }


REPORT_HEADER = ("section", "name", "value", "target", "previous", "status")


def report_rows(report: dict) -> list[tuple]:
    """The report as CSV rows (header first): section, name, value, target, previous, status; one row per
    period field, summary figure, segment, stage and KPI, with empty cells for missing values."""
    rows = [("period", key, value, None, None, None) for key, value in report["period"].items()]
    rows += [("summary", key, report[key], None, None, None)
             for key in ("customers", "orders", "revenue", "repeat_customer_rate", "top20_revenue_share")]
    rows += [("segment", name, n, None, None, None) for name, n in report["segments"].items()]
    rows += [("stage", name, n, None, None, None) for name, n in report["stages"].items()]
    rows += [("kpi", name, k["value"], k["target"], k["previous"], k["status"]) for name, k in report["kpis"].items()]
    return [REPORT_HEADER] + [tuple("" if v is None else v for v in r) for r in rows]


def write_report(con: duckdb.DuckDBPyConnection, fmt: str = "json", out: str | None = None, as_of=None,
                 start=None, end=None, filters: Filters | None = None) -> None:
    """Write the report as JSON or CSV, or the executive briefing as PDF or HTML, to `out` (standard
output when None; a PDF needs a file)."""
    parse = lambda d: date.fromisoformat(d) if isinstance(d, str) else d  # noqa: E731
    if fmt in ("pdf", "html"):
        report = None
    else:
        report = build_report(con, parse(as_of), parse(start), parse(end), filters)
    if fmt == "json":
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(report_rows(report))
        text = buffer.getvalue()
    elif fmt in ("pdf", "html"):
        period = default_period(con, as_of=parse(as_of), start=parse(start), end=parse(end), filters=filters)
        briefing = build_briefing(con, period)
        if fmt == "pdf":
            data = briefing_pdf(briefing)
            if not out:
                raise ValueError("A PDF briefing needs --out FILE.")
            with open(out, "wb") as fh:
                fh.write(data)
            return
        text = briefing_html(briefing)
    else:
        raise ValueError(f"Unknown report format '{fmt}': use json, csv, pdf or html.")
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
