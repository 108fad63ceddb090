"""Responsiveness: how fast and how well customers are answered, for tickets opened in the period
(outreach tickets are our own proactive contacts, not requests to answer, so they are left out).

First-response and resolution times in hours (median, p90), shares within the SLA (settings, default
4 h and 48 h), complaints per 100 active customers, the open backlog at the as-of date, the reopen
rate, CSAT (tickets' and surveys' answers in the period: mean and share of 4–5) and NPS (survey
answers in the period: % 9–10 minus % 0–6). A figure whose inputs are absent is an `Unavailable`.
"""
from __future__ import annotations

import duckdb

from ..period import Period
from ..settings import get_settings
from .activity import activity
from .scope import Unavailable, column_counts, frame, missing_inputs, ratio, row

TICKETS = """
period_tickets AS (
    SELECT *, date_diff('second', opened_at, first_response_at) / 3600.0 AS first_hours,
              date_diff('second', opened_at, resolved_at) / 3600.0 AS resolution_hours
    FROM tickets_in_scope WHERE opened_at::DATE BETWEEN $start AND $end AND kind IS DISTINCT FROM 'outreach'
)
SELECT count(*) AS tickets,
       median(first_hours) AS first_response_median_hours,
       quantile_cont(first_hours, 0.9) AS first_response_p90_hours,
       count(*) FILTER (WHERE first_hours <= $sla_first) / nullif(count(first_hours), 0) AS first_response_sla_share,
       median(resolution_hours) AS resolution_median_hours,
       quantile_cont(resolution_hours, 0.9) AS resolution_p90_hours,
       count(*) FILTER (WHERE resolution_hours <= $sla_resolution) / nullif(count(resolution_hours), 0) AS resolution_sla_share,
       count(*) FILTER (WHERE kind = 'complaint') AS complaints,
       count(*) FILTER (WHERE reopened) / nullif(count(reopened), 0) AS reopen_rate,
       (SELECT count(*) FROM tickets_in_scope WHERE resolved_at IS NULL OR resolved_at >= $as_of + INTERVAL 1 DAY) AS open_backlog
FROM period_tickets
"""

SATISFACTION = """
answers AS (
    SELECT csat FROM tickets_in_scope WHERE opened_at::DATE BETWEEN $start AND $end AND csat IS NOT NULL
    UNION ALL
    SELECT csat FROM surveys_in_scope WHERE answered_at::DATE BETWEEN $start AND $end AND csat IS NOT NULL
),
nps_answers AS (SELECT nps FROM surveys_in_scope WHERE answered_at::DATE BETWEEN $start AND $end AND nps IS NOT NULL)
SELECT (SELECT avg(csat) FROM answers) AS csat_mean,
       (SELECT count(*) FILTER (WHERE csat >= 4) / nullif(count(*), 0) FROM answers) AS csat_share_4_5,
       (SELECT count(*) FROM answers) AS csat_answers,
       (SELECT 100.0 * (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6)) / nullif(count(*), 0)
        FROM nps_answers) AS nps,
       (SELECT count(*) FROM nps_answers) AS nps_answers
"""

NEEDS = {
    "first_response_median_hours": "tickets.first_response_at", "first_response_p90_hours": "tickets.first_response_at",
    "first_response_sla_share": "tickets.first_response_at", "resolution_median_hours": "tickets.resolved_at",
    "resolution_p90_hours": "tickets.resolved_at", "resolution_sla_share": "tickets.resolved_at",
    "complaints": "tickets.kind", "complaints_per_100": "tickets.kind", "reopen_rate": "tickets.reopened",
    "open_backlog": "tickets.opened_at",
}


def responsiveness(con: duckdb.DuckDBPyConnection, period: Period, active: int | None = None,
                   counts: dict[str, int] | None = None) -> dict:
    """Every responsiveness figure for the period; absent inputs give `Unavailable` values. `active`
    (the period's active customers) and `counts` (column_counts) spare queries when already known."""
    settings = get_settings(con)
    counts = counts if counts is not None else column_counts(con)
    out = row(con, TICKETS, period, sla_first=settings["sla_first_response_hours"],
              sla_resolution=settings["sla_resolution_hours"])
    if active is None:
        active = activity(con, period)["active"]
    out["complaints_per_100"] = None if out["complaints"] is None else ratio(out["complaints"] * 100, active)
    for name, needs in NEEDS.items():
        missing = missing_inputs(con, needs, counts=counts)
        if missing:
            out[name] = missing
    out.update(row(con, SATISFACTION, period))
    if out["csat_answers"] == 0:
        both_missing = missing_inputs(con, "tickets.csat", counts=counts) and missing_inputs(con, "surveys.csat", counts=counts)
        out["csat_mean"] = out["csat_share_4_5"] = Unavailable("tickets.csat or surveys.csat") if both_missing else None
    if out["nps_answers"] == 0:
        out["nps"] = missing_inputs(con, "surveys.nps", counts=counts) or None
    return out


MONTHLY = """
period_tickets AS (
    SELECT date_trunc('month', opened_at)::DATE AS month, kind, csat,
           date_diff('second', opened_at, first_response_at) / 3600.0 AS first_hours,
           date_diff('second', opened_at, resolved_at) / 3600.0 AS resolution_hours
    FROM tickets_in_scope WHERE opened_at::DATE BETWEEN $start AND $end AND kind IS DISTINCT FROM 'outreach'
),
ticket_months AS (
    SELECT month, count(*) AS tickets, median(first_hours) AS first_response_median_hours,
           count(*) FILTER (WHERE first_hours <= $sla_first) / nullif(count(first_hours), 0) AS first_response_sla_share,
           count(*) FILTER (WHERE resolution_hours <= $sla_resolution) / nullif(count(resolution_hours), 0) AS resolution_sla_share,
           count(*) FILTER (WHERE kind = 'complaint') AS complaints
    FROM period_tickets GROUP BY month
),
survey_months AS (
    SELECT date_trunc('month', answered_at)::DATE AS month, avg(csat) AS survey_csat,
           100.0 * (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6)) / nullif(count(nps), 0) AS nps
    FROM surveys_in_scope WHERE answered_at::DATE BETWEEN $start AND $end GROUP BY month
)
SELECT coalesce(t.month, s.month) AS month, t.tickets, t.first_response_median_hours, t.first_response_sla_share,
       t.resolution_sla_share, t.complaints, s.survey_csat, s.nps
FROM ticket_months t FULL JOIN survey_months s USING (month) ORDER BY month
"""

BY_CHANNEL = """
period_tickets AS (
    SELECT coalesce(channel, 'unknown') AS channel,
           date_diff('second', opened_at, first_response_at) / 3600.0 AS first_hours,
           date_diff('second', opened_at, resolved_at) / 3600.0 AS resolution_hours
    FROM tickets_in_scope WHERE opened_at::DATE BETWEEN $start AND $end AND kind IS DISTINCT FROM 'outreach'
)
SELECT channel, count(*) AS tickets, median(first_hours) AS first_response_median_hours,
       count(*) FILTER (WHERE first_hours <= $sla_first) / nullif(count(first_hours), 0) AS first_response_sla_share,
       count(*) FILTER (WHERE resolution_hours <= $sla_resolution) / nullif(count(resolution_hours), 0) AS resolution_sla_share
FROM period_tickets GROUP BY channel ORDER BY tickets DESC
"""

DISTRIBUTION = """
period_tickets AS (
    SELECT date_diff('second', opened_at, first_response_at) / 3600.0 AS first_hours,
           date_diff('second', opened_at, resolved_at) / 3600.0 AS resolution_hours
    FROM tickets_in_scope WHERE opened_at::DATE BETWEEN $start AND $end AND kind IS DISTINCT FROM 'outreach'
),
bins AS (SELECT * FROM (VALUES (1, 'under 1 h', 0, 1), (2, '1–4 h', 1, 4), (3, '4–8 h', 4, 8), (4, '8–24 h', 8, 24),
                               (5, '1–2 days', 24, 48), (6, '2–7 days', 48, 168), (7, 'over 7 days', 168, 1e9))
          AS b(position, bucket, low, high))
SELECT b.position, b.bucket,
       (SELECT count(*) FROM period_tickets WHERE first_hours >= b.low AND first_hours < b.high) AS first_response,
       (SELECT count(*) FROM period_tickets WHERE resolution_hours >= b.low AND resolution_hours < b.high) AS resolution
FROM bins b ORDER BY b.position
"""


def _sla(con: duckdb.DuckDBPyConnection) -> dict:
    settings = get_settings(con)
    return {"sla_first": settings["sla_first_response_hours"], "sla_resolution": settings["sla_resolution_hours"]}


def responsiveness_by_month(con: duckdb.DuckDBPyConnection, period: Period):
    """Per month of the period: tickets, median first response, SLA shares, complaints, survey CSAT, NPS."""
    return frame(con, MONTHLY, period, **_sla(con))


def responsiveness_by_channel(con: duckdb.DuckDBPyConnection, period: Period):
    """Per ticket channel: tickets, median first response and SLA shares."""
    return frame(con, BY_CHANNEL, period, **_sla(con))


def response_time_distribution(con: duckdb.DuckDBPyConnection, period: Period):
    """Tickets of the period by first-response and resolution time, in fixed buckets."""
    return frame(con, DISTRIBUTION, period)
