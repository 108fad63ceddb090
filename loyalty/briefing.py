"""The executive briefing: the scorecard with its trends, period, targets, top movers and at-risk super
customers, as a PDF (reportlab, no browser needed) or a self-contained HTML page. Built from the same
engine functions and number formats as the scorecard page, so the figures agree."""
from __future__ import annotations

import html
import io
from dataclasses import dataclass

import duckdb
import pandas as pd
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, PolyLine
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .db import Call, side_by_side
from .formatting import compact, fmt, fmt_delta
from .metrics.experience import bad_experiences_unavailable
from .metrics.movers import top_movers
from .metrics.scope import Unavailable
from .metrics.scorecard import monthly_periods, scorecard
from .metrics.super_customers import at_risk_super_customers
from .palette import SERIES, STATUS
from .period import Period


@dataclass
class Briefing:
    period: Period
    cards: list[dict]
    months: list[str]
    movers: pd.DataFrame
    at_risk: pd.DataFrame   # every at-risk super customer (the page lists them all)
    at_risk_missing: Unavailable | None   # set when no kind of bad experience can be counted

    @property
    def top_at_risk(self) -> pd.DataFrame:
        """The ten largest at-risk super customers: what the briefing's files list."""
        return self.at_risk.head(10)

    @property
    def at_risk_empty_note(self) -> str:
        """What the briefing says when it lists no super customer at risk."""
        return self.at_risk_missing.sentence() if self.at_risk_missing else "None."

    @property
    def title(self) -> str:
        return f"Customer loyalty briefing, {self.period.start:%d %b %Y} – {self.period.end:%d %b %Y}"

    @property
    def subtitle(self) -> str:
        prev = self.period.previous()
        return (f"As of {self.period.as_of:%d %b %Y}; changes against {prev.start:%d %b %Y} – {prev.end:%d %b %Y}. "
                "Status against target: ✓ on target, ≈ within 10%, ✗ off.")

    def rows(self) -> list[list[str]]:
        """The KPI table as shown: KPI, value, target, previous, change, status."""
        return [[c["label"], fmt(c["value"], c["unit"]), fmt(c["target"], c["unit"]), fmt(c["previous"], c["unit"]),
                 fmt_delta(c["delta"], c["unit"]) or "—", f"{STATUS[c['status']][1]} {c['status']}"] for c in self.cards]


def build_briefing(con: duckdb.DuckDBPyConnection, period: Period) -> Briefing:
    """Everything the briefing shows, from the engine: the scorecard, the top movers and the at-risk super
    customers computed side by side."""
    cards, movers, at_risk = side_by_side(con, [Call(scorecard, period), Call(top_movers, period),
                                                Call(at_risk_super_customers, period)])
    return Briefing(period=period, cards=cards, months=[f"{p.start:%b %y}" for p in monthly_periods(period)],
                    movers=movers, at_risk=at_risk, at_risk_missing=bad_experiences_unavailable(con))


HEADER = ["KPI", "Value", "Target", "Previous", "Change", "Status"]


# --------------------------------------------------------------------------------------------- PDF

def _sparkline(values: list, width: float = 30 * mm, height: float = 7 * mm) -> Drawing:
    drawing = Drawing(width, height)
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) >= 2:
        low, high = min(v for _, v in points), max(v for _, v in points)
        span = (high - low) or 1
        coords = []
        for i, v in points:
            coords += [i * width / (len(values) - 1), 1 + (v - low) / span * (height - 2)]
        drawing.add(PolyLine(coords, strokeColor=colors.HexColor(SERIES["revenue"]), strokeWidth=1))
    return drawing


def _revenue_chart(briefing: Briefing) -> Drawing:
    revenue = next(c for c in briefing.cards if c["name"] == "revenue")["trend"]
    drawing = Drawing(250 * mm, 55 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 18 * mm, 8 * mm, 225 * mm, 42 * mm
    chart.data = [[v or 0 for v in revenue]]
    chart.categoryAxis.categoryNames = briefing.months
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = lambda v: compact(v)
    chart.valueAxis.valueMin = min(0, *chart.data[0])
    chart.bars[0].fillColor = colors.HexColor(SERIES["revenue"])
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    return drawing


def _table(rows: list[list], widths: list[float] | None = None, status_column: int | None = None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8), ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
             ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("ALIGN", (1, 1), (-2, -1), "RIGHT"), ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F2F5F8")])]
    if status_column is not None:
        for i, row in enumerate(rows[1:], start=1):
            status = str(row[status_column]).split(" ", 1)[1]
            style.append(("TEXTCOLOR", (status_column, i), (status_column, i), colors.HexColor(STATUS[status][0])))
    table.setStyle(TableStyle(style))
    return table


def _frame_rows(frame: pd.DataFrame, money: tuple[str, ...]) -> list[list]:
    rows = [list(frame.columns)]
    for record in frame.to_dict("records"):
        rows.append([compact(v) if k in money and v is not None else str(v) for k, v in record.items()])
    return rows


def briefing_pdf(briefing: Briefing) -> bytes:
    """The briefing as a landscape A4 PDF."""
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=landscape(A4), title=briefing.title, author="Loyalty Lens",
                                 leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm)
    kpis = [HEADER + ["Last 12 months"]] + [row + [_sparkline(card["trend"])] for row, card in zip(briefing.rows(), briefing.cards)]
    story = [Paragraph(html.escape(briefing.title), styles["Title"]),
             Paragraph(html.escape(briefing.subtitle.replace("✓", "").replace("≈", "").replace("✗", "")), styles["Normal"]),
             Spacer(1, 4 * mm),
             _table(kpis, [60 * mm, 28 * mm, 28 * mm, 28 * mm, 28 * mm, 32 * mm, 34 * mm], status_column=5),
             Spacer(1, 4 * mm),
             KeepTogether([Paragraph("Revenue by month", styles["Heading3"]), _revenue_chart(briefing)]),
             Paragraph("Top movers against the previous period", styles["Heading3"]),
             _table(_frame_rows(briefing.movers, ("revenue", "previous_revenue", "change")))
             if not briefing.movers.empty else Paragraph("No customer's revenue changed.", styles["Normal"]),
             Paragraph("Super customers at risk (two or more bad experiences in 12 months)", styles["Heading3"]),
             _table(_frame_rows(briefing.top_at_risk, ("revenue",)))
             if not briefing.at_risk.empty else Paragraph(html.escape(briefing.at_risk_empty_note), styles["Normal"])]
    document.build(story)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------- HTML

def _svg_sparkline(values: list, width: int = 120, height: int = 24) -> str:
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return ""
    low, high = min(v for _, v in points), max(v for _, v in points)
    span = (high - low) or 1
    path = " ".join(f"{i * width / (len(values) - 1):.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in points)
    return (f'<svg width="{width}" height="{height}" role="img" aria-label="trend">'
            f'<polyline fill="none" stroke="{SERIES["revenue"]}" stroke-width="1.5" points="{path}"/></svg>')


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def briefing_html(briefing: Briefing) -> str:
    """The briefing as one self-contained HTML page (no script, no external file)."""
    kpi_rows = []
    for row, card in zip(briefing.rows(), briefing.cards):
        colour = STATUS[card["status"]][0]
        cells = [html.escape(c) for c in row]
        cells[-1] = f'<span style="color:{colour};font-weight:600">{cells[-1]}</span>'
        kpi_rows.append(cells + [_svg_sparkline(card["trend"])])

    def frame_table(frame: pd.DataFrame, money: tuple[str, ...], empty: str = "None.") -> str:
        rows = _frame_rows(frame, money)
        return (_html_table(rows[0], [[html.escape(str(c)) for c in r] for r in rows[1:]]) if len(rows) > 1
                else f"<p>{html.escape(empty)}</p>")

    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(briefing.title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; color: #1B2733; margin: 2rem auto; max-width: 1100px; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; font-size: 0.9rem; }}
th, td {{ padding: 0.3rem 0.6rem; border-bottom: 1px solid #dde3ea; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
tbody tr:nth-child(even) {{ background: #F2F5F8; }}
</style></head><body>
<h1>{html.escape(briefing.title)}</h1>
<p>{html.escape(briefing.subtitle)}</p>
{_html_table(HEADER + ["Last 12 months"], kpi_rows)}
<h2>Top movers against the previous period</h2>
{frame_table(briefing.movers, ("revenue", "previous_revenue", "change"))}
<h2>Super customers at risk</h2>
{frame_table(briefing.top_at_risk, ("revenue",), briefing.at_risk_empty_note)}
<p><small>Made by Loyalty Lens from the same figures as the scorecard page.</small></p>
</body></html>
"""

