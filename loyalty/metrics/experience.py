"""Bad experiences per customer over the 12 months up to the as-of date (`$window_end`), and the at-risk list.

A bad experience is a late delivery (delivered after promised), a complaint, a first response over
the SLA, a CSAT of 2 or less (ticket or survey), or an NPS of 6 or less. Customers with 2 or more are
at risk. Each customer carries a reason listing what happened.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from ..settings import get_settings
from .scope import frame

BAD = """
since AS (SELECT $window_end - INTERVAL 365 DAY AS day),
late AS (
    SELECT customer_id, count(*) AS late_deliveries FROM orders_in_scope
    WHERE order_date > (SELECT day FROM since) AND order_date <= $window_end AND delivered_date > promised_date GROUP BY customer_id
),
ticket_events AS (
    SELECT customer_id,
           count(*) FILTER (WHERE kind = 'complaint') AS complaints,
           count(*) FILTER (WHERE date_diff('second', opened_at, first_response_at) > $sla_first * 3600) AS slow_responses,
           count(*) FILTER (WHERE csat <= 2) AS low_csat_tickets
    FROM tickets_in_scope WHERE opened_at::DATE > (SELECT day FROM since) AND opened_at::DATE <= $window_end GROUP BY customer_id
),
survey_events AS (
    SELECT customer_id, count(*) FILTER (WHERE csat <= 2) AS low_csat_surveys, count(*) FILTER (WHERE nps <= 6) AS detractor_answers
    FROM surveys_in_scope WHERE answered_at::DATE > (SELECT day FROM since) AND answered_at::DATE <= $window_end GROUP BY customer_id
),
recent_revenue AS (
    SELECT customer_id, sum(amount)::DOUBLE AS revenue_12m FROM orders_in_scope
    WHERE order_date > (SELECT day FROM since) AND order_date <= $window_end GROUP BY customer_id
),
events AS (
    SELECT k.customer_id,
           coalesce(l.late_deliveries, 0) AS late_deliveries, coalesce(t.complaints, 0) AS complaints,
           coalesce(t.slow_responses, 0) AS slow_responses,
           coalesce(t.low_csat_tickets, 0) + coalesce(s.low_csat_surveys, 0) AS low_csat,
           coalesce(s.detractor_answers, 0) AS low_nps,
           coalesce(r.revenue_12m, 0) AS revenue_12m
    FROM known_customers k
    LEFT JOIN late l USING (customer_id) LEFT JOIN ticket_events t USING (customer_id)
    LEFT JOIN survey_events s USING (customer_id) LEFT JOIN recent_revenue r USING (customer_id)
),
counted AS (
    SELECT *, late_deliveries + complaints + slow_responses + low_csat + low_nps AS bad_experiences,
           concat_ws(', ',
               CASE WHEN late_deliveries > 0 THEN late_deliveries || ' late deliver' || CASE WHEN late_deliveries = 1 THEN 'y' ELSE 'ies' END END,
               CASE WHEN complaints > 0 THEN complaints || ' complaint' || CASE WHEN complaints = 1 THEN '' ELSE 's' END END,
               CASE WHEN slow_responses > 0 THEN slow_responses || ' slow first response' || CASE WHEN slow_responses = 1 THEN '' ELSE 's' END END,
               CASE WHEN low_csat > 0 THEN low_csat || ' CSAT ≤ 2' END,
               CASE WHEN low_nps > 0 THEN low_nps || ' NPS ≤ 6' END) AS reason
    FROM events
)
"""


def bad_experiences(con: duckdb.DuckDBPyConnection, period: Period, at_risk_only: bool = False) -> pd.DataFrame:
    """Per customer: each kind of bad experience in the trailing 12 months, the total and a reason;
    with `at_risk_only`, just the customers with 2 or more, by revenue at stake."""
    sla = get_settings(con)["sla_first_response_hours"]
    return frame(con, BAD + """
        SELECT * FROM counted WHERE NOT $at_risk_only OR bad_experiences >= 2
        ORDER BY revenue_12m DESC, customer_id""", period, sla_first=sla, at_risk_only=at_risk_only,
        window_end=period.as_of)


CHURN_BY_EXPERIENCE = BAD + """,
now AS (SELECT DISTINCT customer_id FROM orders_in_scope WHERE order_date BETWEEN $start AND $end),
before AS (SELECT DISTINCT customer_id FROM orders_in_scope WHERE order_date BETWEEN $prev_start AND $prev_end)
SELECT CASE WHEN c.bad_experiences >= 2 THEN '2 or more bad experiences' ELSE 'fewer than 2' END AS customers_with,
       count(*) AS customers, count(*) FILTER (WHERE n.customer_id IS NULL) AS churned,
       count(*) FILTER (WHERE n.customer_id IS NULL) / count(*) AS churn_rate
FROM before b JOIN counted c USING (customer_id) LEFT JOIN now n USING (customer_id)
GROUP BY ALL ORDER BY customers_with
"""


def churn_by_experience(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Of the customers active in the previous period, the share who did not order in this one, for those
    with 2+ bad experiences in the 12 months up to the previous period's end against the rest."""
    prev = period.previous()
    sla = get_settings(con)["sla_first_response_hours"]
    return frame(con, CHURN_BY_EXPERIENCE, period, sla_first=sla, prev_start=prev.start, prev_end=prev.end,
                 window_end=prev.end)
