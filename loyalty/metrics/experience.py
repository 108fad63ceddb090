"""Bad experiences per customer over the 12 months up to the as-of date, and the at-risk list.

A bad experience, each counted once per occurrence in the trailing 12 months (after the same day a year
before, up to the end of the as-of day):
- a late delivery: an order delivered (delivered_date in the window) after its promised date;
- a complaint: a ticket of kind complaint opened in the window;
- a first response over the SLA: a request (not an outreach ticket) opened in the window whose first
  response came after the SLA, or that is still unanswered at the end of the as-of day with the SLA passed;
- a CSAT of 2 or less (a ticket's or a survey answer's) and an NPS answer of 6 or less, in the window.
Customers with 2 or more are at risk (about 42% of customers stop buying after two bad experiences).
Each customer carries a reason listing what happened. A kind of bad experience whose inputs are absent
is an empty column (and named by `bad_experience_availability`), not a zero.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from .responsiveness import TICKET_TIMES, _sla
from .scope import Inputs, Unavailable, frame, plural

BAD_OF = TICKET_TIMES + f""",
late AS (
    SELECT customer_id, count(*) AS late_deliveries FROM orders_in_scope
    WHERE delivered_date > promised_date
      AND delivered_date > $window_end - INTERVAL 12 MONTH AND delivered_date <= $window_end
    GROUP BY customer_id
),
ticket_events AS (
    SELECT customer_id, count(*) FILTER (WHERE kind = 'complaint') AS complaints,
           count(*) FILTER (WHERE NOT first_sla_met) AS slow_responses
    FROM ticket_times
    WHERE opened_at >= $window_end - INTERVAL 12 MONTH + INTERVAL 1 DAY AND opened_at < $window_end + INTERVAL 1 DAY
    GROUP BY customer_id
),
rating_events AS (
    SELECT customer_id, count(*) FILTER (WHERE csat <= 2) AS low_csat, count(*) FILTER (WHERE nps <= 6) AS low_nps
    FROM (SELECT customer_id, opened_at AS happened_at, csat, NULL::INTEGER AS nps FROM tickets_in_scope WHERE csat <= 2
          UNION ALL
          SELECT customer_id, answered_at, csat, nps FROM surveys_in_scope WHERE csat <= 2 OR nps <= 6)
    WHERE happened_at >= $window_end - INTERVAL 12 MONTH + INTERVAL 1 DAY AND happened_at < $window_end + INTERVAL 1 DAY
    GROUP BY customer_id
),
counted AS (  -- the customers with an event counted in the window (every other one counts none), known or not:
              -- each reader keeps to known customers its own way (super customers, the previous period's, ...)
    SELECT customer_id FROM late UNION SELECT customer_id FROM ticket_events UNION SELECT customer_id FROM rating_events
),
events AS (  -- per customer of {{customers}}: each kind of bad experience (NULL when its inputs are absent)
    SELECT k.customer_id,
           CASE WHEN $has_late THEN coalesce(l.late_deliveries, 0) END AS late_deliveries,
           CASE WHEN $has_complaints THEN coalesce(t.complaints, 0) END AS complaints,
           CASE WHEN $has_responses THEN coalesce(t.slow_responses, 0) END AS slow_responses,
           CASE WHEN $has_csat THEN coalesce(r.low_csat, 0) END AS low_csat,
           CASE WHEN $has_nps THEN coalesce(r.low_nps, 0) END AS low_nps
    FROM {{customers}} k
    LEFT JOIN late l USING (customer_id) LEFT JOIN ticket_events t USING (customer_id)
    LEFT JOIN rating_events r USING (customer_id)
),
bad_counts AS (  -- the total and the reason
    SELECT *, coalesce(late_deliveries, 0) + coalesce(complaints, 0) + coalesce(slow_responses, 0)
              + coalesce(low_csat, 0) + coalesce(low_nps, 0) AS bad_experiences,
           concat_ws(', ',
               CASE WHEN late_deliveries > 0 THEN late_deliveries || ' late deliver' || {plural('late_deliveries', 'y', 'ies')} END,
               CASE WHEN complaints > 0 THEN complaints || ' complaint' || {plural('complaints')} END,
               CASE WHEN slow_responses > 0 THEN slow_responses || ' slow first response' || {plural('slow_responses')} END,
               CASE WHEN low_csat > 0 THEN low_csat || ' CSAT ≤ 2' END,
               CASE WHEN low_nps > 0 THEN low_nps || ' NPS ≤ 6' END) AS reason
    FROM events
)
"""
BAD = BAD_OF.format(customers="counted")   # enough for whoever needs 2 or more, of customers it knows
BAD_FOR_EVERYONE = BAD_OF.format(customers="known_customers")   # zeros included

KINDS = {  # bad-experience column -> the inputs it needs (all of them; CSAT: either)
    "late_deliveries": ("orders.promised_date", "orders.delivered_date"),
    "complaints": ("tickets.kind",),
    "slow_responses": ("tickets.first_response_at",),
    "low_csat": ("tickets.csat", "surveys.csat"),
    "low_nps": ("surveys.nps",),
}


NOTHING_TO_COUNT = Unavailable("delivery dates on orders, support tickets or survey answers")


def bad_experience_availability(con: duckdb.DuckDBPyConnection, inputs: Inputs | None = None) -> dict[str, Unavailable | None]:
    """Per kind of bad experience, what is missing for it to be counted (None when it can be)."""
    inputs = inputs or Inputs(con)
    return {kind: inputs.missing_all(*needs) if kind == "low_csat" else inputs.missing(*needs)
            for kind, needs in KINDS.items()}


def bad_experiences_unavailable(con: duckdb.DuckDBPyConnection, inputs: Inputs | None = None) -> Unavailable | None:
    """NOTHING_TO_COUNT when no kind of bad experience can be counted (a count would be a zero that means
    nothing), else None."""
    return NOTHING_TO_COUNT if all(bad_experience_availability(con, inputs).values()) else None


def bad_params(con: duckdb.DuckDBPyConnection, window_end, inputs: Inputs | None = None) -> dict:
    """The parameters of BAD: the window's last day, the SLA, and which kinds can be counted."""
    missing = bad_experience_availability(con, inputs)
    return {"window_end": window_end, **_sla(con), "has_late": missing["late_deliveries"] is None,
            "has_complaints": missing["complaints"] is None, "has_responses": missing["slow_responses"] is None,
            "has_csat": missing["low_csat"] is None, "has_nps": missing["low_nps"] is None}


def bad_experiences(con: duckdb.DuckDBPyConnection, period: Period, at_risk_only: bool = False) -> pd.DataFrame:
    """Per known customer: each kind of bad experience in the trailing 12 months, the total and a reason,
    largest revenue at stake (last 12 months) first; with `at_risk_only`, just the customers with 2 or more."""
    return frame(con, BAD_FOR_EVERYONE + """,
        recent_revenue AS (
            SELECT customer_id, sum(amount)::DOUBLE AS revenue_12m FROM orders_in_scope
            WHERE order_date > $window_end - INTERVAL 12 MONTH AND order_date <= $window_end GROUP BY customer_id
        )
        SELECT b.*, coalesce(m.revenue_12m, 0) AS revenue_12m
        FROM bad_counts b LEFT JOIN recent_revenue m USING (customer_id)
        WHERE NOT $at_risk_only OR b.bad_experiences >= 2
        ORDER BY revenue_12m DESC, customer_id""", period, at_risk_only=at_risk_only,
        **bad_params(con, period.as_of))


CHURN_BY_EXPERIENCE = BAD + """
SELECT CASE WHEN c.bad_experiences >= 2 THEN '2 or more bad experiences' ELSE 'fewer than 2' END AS customers_with,
       count(*) AS customers, count(*) FILTER (WHERE NOT w.active_now) AS churned,
       count(*) FILTER (WHERE NOT w.active_now) / count(*) AS churn_rate
FROM previous_customers w LEFT JOIN bad_counts c USING (customer_id)   -- (known: they ordered in the previous period)
GROUP BY ALL ORDER BY customers_with
"""


def churn_by_experience(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Of the customers active in the previous period, the share who did not order in this one, for those
    with 2+ bad experiences in the 12 months up to the previous period's end against the rest."""
    prev = period.previous()
    return frame(con, CHURN_BY_EXPERIENCE, period, **bad_params(con, prev.end))
