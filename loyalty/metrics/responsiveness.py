"""Responsiveness: how fast and how well customers are answered.

Tickets count by the day they were opened; outreach tickets (our own proactive contacts, not requests
to answer) are left out of the ticket figures.
- first-response and resolution time in hours: median and p90 (continuous quantile) over the tickets
  of the period that have the timestamp;
- share within the SLA (settings, default 4 h first response, 48 h resolution): of the tickets
  answered (resolved), plus those still unanswered (unresolved) at the end of the as-of day although
  the SLA has already passed, the share answered (resolved) within it;
- complaints (tickets of kind complaint) per 100 customers active in the period;
- open backlog: requests opened by the end of the as-of day and not resolved by then;
- reopen rate: reopened tickets ÷ tickets with a reopened flag;
- CSAT: every rating in the period, from tickets and survey answers pooled: mean and share of 4–5;
- NPS: survey answers in the period: % 9–10 minus % 0–6.
A figure whose input columns hold no value at all is an `Unavailable` (never a zero); a figure whose
inputs exist but that has nothing to measure in the period is None.

`responsiveness_by_window` computes all of it for several periods in one query (the scorecard's period,
previous period and monthly trend; the Responsiveness page's period and months, `responsiveness_overview`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import duckdb
import pandas as pd

from ..period import Period, month_end
from ..settings import get_settings
from .activity import active_by_window
from .scope import Inputs, anchor, available, frame, ratio, rows

TICKET_TIMES = """
ticket_times AS (  -- requests in scope with response and resolution times in hours and whether each met its SLA
    SELECT *, date_diff('second', opened_at, first_response_at) / 3600.0 AS first_hours,
              date_diff('second', opened_at, resolved_at) / 3600.0 AS resolution_hours,
              CASE WHEN first_response_at IS NOT NULL THEN first_response_at <= opened_at + to_seconds($sla_first * 3600)
                   WHEN $as_of + INTERVAL 1 DAY > opened_at + to_seconds($sla_first * 3600) THEN FALSE END AS first_sla_met,
              CASE WHEN resolved_at IS NOT NULL THEN resolved_at <= opened_at + to_seconds($sla_resolution * 3600)
                   WHEN $as_of + INTERVAL 1 DAY > opened_at + to_seconds($sla_resolution * 3600) THEN FALSE END AS resolution_sla_met
    FROM tickets_in_scope WHERE kind IS DISTINCT FROM 'outreach'
)
"""

BY_WINDOW = TICKET_TIMES + """,
window_tickets AS (  -- per window: the ticket figures of the requests opened in it
    SELECT w.w, count(t.opened_at) AS tickets,
           median(t.first_hours) AS first_response_median_hours,
           quantile_cont(t.first_hours, 0.9) AS first_response_p90_hours,
           count(*) FILTER (WHERE t.first_sla_met) / nullif(count(t.first_sla_met), 0) AS first_response_sla_share,
           median(t.resolution_hours) AS resolution_median_hours,
           quantile_cont(t.resolution_hours, 0.9) AS resolution_p90_hours,
           count(*) FILTER (WHERE t.resolution_sla_met) / nullif(count(t.resolution_sla_met), 0) AS resolution_sla_share,
           count(*) FILTER (WHERE t.kind = 'complaint') AS complaints,
           count(*) FILTER (WHERE t.reopened) / nullif(count(t.reopened), 0) AS reopen_rate
    FROM windows w LEFT JOIN ticket_times t ON t.opened_at >= w.w_start AND t.opened_at < w.w_end + INTERVAL 1 DAY
    GROUP BY w.w
),
backlog AS (  -- per window: requests open at the end of its as-of day (those resolved before the earliest such end
              -- are left out first: the range join then compares a few months of tickets, not all of them)
    SELECT w.w, count(t.opened_at) AS open_backlog
    FROM windows w LEFT JOIN (
        SELECT opened_at, coalesce(resolved_at, TIMESTAMP 'infinity') AS resolved_at FROM ticket_times
        WHERE coalesce(resolved_at, TIMESTAMP 'infinity') >= (SELECT min(w_as_of) FROM windows) + INTERVAL 1 DAY
    ) t ON t.opened_at < w.w_as_of + INTERVAL 1 DAY AND t.resolved_at >= w.w_as_of + INTERVAL 1 DAY
    GROUP BY w.w
),
ratings AS (  -- every CSAT rating (tickets and surveys) and NPS answer with its time
    SELECT opened_at AS at, csat, NULL::INTEGER AS nps FROM tickets_in_scope WHERE csat IS NOT NULL
    UNION ALL
    SELECT answered_at, csat, nps FROM surveys_in_scope WHERE csat IS NOT NULL OR nps IS NOT NULL
),
window_ratings AS (  -- per window: CSAT mean and share 4–5, NPS
    SELECT w.w, avg(r.csat)::DOUBLE AS csat_mean,
           count(*) FILTER (WHERE r.csat >= 4) / nullif(count(r.csat), 0) AS csat_share_4_5,
           count(r.csat) AS csat_answers,
           100.0 * (count(*) FILTER (WHERE r.nps >= 9) - count(*) FILTER (WHERE r.nps <= 6)) / nullif(count(r.nps), 0) AS nps,
           count(r.nps) AS nps_answers
    FROM windows w LEFT JOIN ratings r ON r.at >= w.w_start AND r.at < w.w_end + INTERVAL 1 DAY
    GROUP BY w.w
)
SELECT * FROM window_tickets JOIN backlog USING (w) JOIN window_ratings USING (w) ORDER BY w
"""

NEEDS = {  # figure -> input columns it needs (all of them; CSAT: either)
    "first_response_median_hours": ("tickets.first_response_at",),
    "first_response_p90_hours": ("tickets.first_response_at",),
    "first_response_sla_share": ("tickets.first_response_at",),
    "resolution_median_hours": ("tickets.resolved_at",),
    "resolution_p90_hours": ("tickets.resolved_at",),
    "resolution_sla_share": ("tickets.resolved_at",),
    "complaints": ("tickets.kind",),
    "complaints_per_100": ("tickets.kind",),
    "open_backlog": ("tickets.resolved_at",),
    "reopen_rate": ("tickets.reopened",),
    "nps": ("surveys.nps",),
}
CSAT = ("csat_mean", "csat_share_4_5")
# What BY_WINDOW counts in a store without a ticket or a survey answer (its other figures are then Unavailable).
NOTHING_TO_MEASURE = {"tickets": 0, "complaints": 0, "open_backlog": 0, "csat_answers": 0, "nps_answers": 0}
FIGURES = ["tickets", "first_response_median_hours", "first_response_p90_hours", "first_response_sla_share",
           "resolution_median_hours", "resolution_p90_hours", "resolution_sla_share", "complaints", "reopen_rate",
           "open_backlog", "csat_mean", "csat_share_4_5", "csat_answers", "nps", "nps_answers"]   # BY_WINDOW's columns


def _sla(con: duckdb.DuckDBPyConnection) -> dict:
    settings = get_settings(con)
    return {"sla_first": float(settings["sla_first_response_hours"]),
            "sla_resolution": float(settings["sla_resolution_hours"])}


def responsiveness_by_window(con: duckdb.DuckDBPyConnection, periods: list[Period], active: list[int] | None = None,
                             inputs: Inputs | None = None) -> list[dict]:
    """Every responsiveness figure for each period (see the module docstring). `active` (each period's
    active customers) and `inputs` spare their queries when the caller has them."""
    inputs = inputs or Inputs(con)
    active = active or active_customers(con, periods, inputs)
    return per_customer_and_input(service_by_window(con, periods, inputs), active, inputs)


def service_by_window(con: duckdb.DuckDBPyConnection, periods: list[Period], inputs: Inputs) -> list[dict]:
    """BY_WINDOW's figures for each period, as counted (`per_customer_and_input` completes them): a caller that
    counts the periods' active customers itself can run both queries side by side."""
    if inputs.has("tickets.customer_id") or inputs.has("surveys.customer_id"):
        return [{k: v for k, v in figures.items() if k != "w"}
                for figures in rows(con, BY_WINDOW, anchor(periods), windows=periods, **_sla(con))]
    return [{name: NOTHING_TO_MEASURE.get(name) for name in FIGURES} for _ in periods]   # no ticket, no answer: no query


def per_customer_and_input(out: list[dict], active: list[int | None], inputs: Inputs) -> list[dict]:
    """`service_by_window`'s figures with complaints per 100 of each period's `active` customers, and an
    `Unavailable` for each figure whose inputs are absent."""
    for figures, customers in zip(out, active):
        figures["complaints_per_100"] = ratio(figures["complaints"] * 100, customers)
        for name, needs in NEEDS.items():
            figures[name] = inputs.missing(*needs) or figures[name]
        for name in CSAT:
            figures[name] = inputs.missing_all("tickets.csat", "surveys.csat") or figures[name]
    return out


def active_customers(con: duckdb.DuckDBPyConnection, periods: list[Period], inputs: Inputs) -> list[int | None]:
    """Each period's active customers, what complaints per 100 divides by (None each without ticket kinds: the
    figure is then unavailable)."""
    if not inputs.has("tickets.kind"):
        return [None] * len(periods)
    return active_by_window(con, periods)


def responsiveness(con: duckdb.DuckDBPyConnection, period: Period) -> dict:
    """Every responsiveness figure for the period; absent inputs give `Unavailable` values (the page takes them
    with the months' from `responsiveness_overview`)."""
    return responsiveness_by_window(con, [period])[0]


def period_months(period: Period) -> list[Period]:
    """The calendar months the period touches, each cut to the period and as of its own last day."""
    months, start = [], period.start
    while start <= period.end:
        end = min(month_end(start), period.end)
        months.append(Period(start, end, end, period.filters))
        start = end + timedelta(days=1)
    return months


@dataclass(frozen=True)
class ResponsivenessOverview:
    """The period's figures (as `responsiveness` gives them) and, per month of the period that has tickets or
    ratings, the same figures (Unavailable ones left empty), with the month's first day in `month`."""
    figures: dict
    monthly: pd.DataFrame


def responsiveness_overview(con: duckdb.DuckDBPyConnection, period: Period) -> ResponsivenessOverview:
    """What the Responsiveness page shows first, the period and its months (`period_months`) as windows of one
    query for their active customers and one for their service figures. Every window is judged as of the
    period's as-of date, as the scorecard's months are (a request still unanswered then has missed its SLA once
    its hours are up, whichever month it was opened in); each month's backlog is counted at the month's end."""
    months = period_months(period)
    inputs = Inputs(con)
    # the months' active customers counted with the page's as-of date: a month counts no order after its end either
    # way, and the rollups then answer as they are (as of each month's end they would sum every customer's months)
    active = active_customers(con, [period, *(replace(month, as_of=period.as_of) for month in months)], inputs)
    figures, *rows = responsiveness_by_window(con, [period, *months], active, inputs)
    table = pd.DataFrame([{"month": month.start, **{k: (v if available(v) else None) for k, v in by_month.items()}}
                          for month, by_month in zip(months, rows)])
    table = table[(table["tickets"] > 0) | (table["csat_answers"] > 0) | (table["nps_answers"] > 0)]
    return ResponsivenessOverview(figures, table.reset_index(drop=True))


BY_CHANNEL = TICKET_TIMES + """
SELECT coalesce(channel, 'unknown') AS channel, count(*) AS tickets,
       median(first_hours) AS first_response_median_hours,
       count(*) FILTER (WHERE first_sla_met) / nullif(count(first_sla_met), 0) AS first_response_sla_share,
       count(*) FILTER (WHERE resolution_sla_met) / nullif(count(resolution_sla_met), 0) AS resolution_sla_share
FROM ticket_times WHERE opened_at >= $start AND opened_at < $end + INTERVAL 1 DAY
GROUP BY ALL ORDER BY tickets DESC, channel
"""


def responsiveness_by_channel(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Per ticket channel, for the requests opened in the period: tickets, median first response, SLA shares."""
    return frame(con, BY_CHANNEL, period, **_sla(con))


DISTRIBUTION = TICKET_TIMES + """,
buckets AS (
    SELECT * FROM (VALUES (1, 'under 1 h', 0, 1), (2, '1–4 h', 1, 4), (3, '4–8 h', 4, 8), (4, '8–24 h', 8, 24),
                          (5, '1–2 days', 24, 48), (6, '2–7 days', 48, 168), (7, 'over 7 days', 168, 'infinity'::DOUBLE))
             AS b(position, bucket, low, high)
),
period_times AS (
    SELECT first_hours, resolution_hours FROM ticket_times WHERE opened_at >= $start AND opened_at < $end + INTERVAL 1 DAY
),
first_counts AS (
    SELECT b.position, count(*) AS first_response FROM period_times t JOIN buckets b
      ON t.first_hours >= b.low AND t.first_hours < b.high GROUP BY b.position
),
resolution_counts AS (
    SELECT b.position, count(*) AS resolution FROM period_times t JOIN buckets b
      ON t.resolution_hours >= b.low AND t.resolution_hours < b.high GROUP BY b.position
)
SELECT b.position, b.bucket, coalesce(f.first_response, 0) AS first_response, coalesce(r.resolution, 0) AS resolution
FROM buckets b LEFT JOIN first_counts f USING (position) LEFT JOIN resolution_counts r USING (position)
ORDER BY b.position
"""


def response_time_distribution(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Requests opened in the period by first-response and resolution time, in fixed buckets."""
    return frame(con, DISTRIBUTION, period, **_sla(con))
