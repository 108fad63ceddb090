"""Disloyalty signals per customer, as of the as-of date, each with a reason in plain words.

- overdue: ≥ 3 orders and more days since the last than 2× the customer's median gap;
- declining spend: revenue of the last 6 months < 70% of the 6 months before (which had revenue);
- routine-only: every order of the last 12 months by email and no outreach ticket in them;
- no outreach in 90 days: ordered in the last 12 months, no outreach ticket in the last 90 days;
- discount-dependent: ≥ 80% of the last 12 months' revenue from discounted orders;
- single-contact account: an account team of one rep (or, without teams, orders from ≤ 1 rep);
- price complaints: not in the data model (tickets carry a kind, not a topic), so always unavailable.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from .scope import Unavailable, column_counts, frame, missing_inputs

SIGNALS = ["overdue", "declining_spend", "routine_only", "no_outreach_90d", "discount_dependent",
           "single_contact", "price_complaints"]
PRICE_COMPLAINTS = Unavailable("a complaint topic on tickets (the data model has none)")

FACTS = """
gaps AS (
    SELECT customer_id, date_diff('day', lag(order_date) OVER (PARTITION BY customer_id ORDER BY order_date), order_date) AS gap
    FROM orders_in_scope
),
own_gap AS (SELECT customer_id, median(gap) AS median_gap FROM gaps WHERE gap IS NOT NULL GROUP BY customer_id),
recent AS (
    SELECT customer_id,
           sum(amount) FILTER (WHERE order_date > $as_of - INTERVAL 6 MONTH)::DOUBLE AS last_6m,
           sum(amount) FILTER (WHERE order_date <= $as_of - INTERVAL 6 MONTH)::DOUBLE AS prior_6m,
           count(*) AS orders_12m,
           count(*) FILTER (WHERE channel = 'email') AS email_orders_12m,
           sum(amount)::DOUBLE AS revenue_12m,
           sum(amount) FILTER (WHERE discount > 0)::DOUBLE AS discounted_12m,
           count(DISTINCT sales_rep) AS order_reps
    FROM orders_in_scope WHERE order_date > $as_of - INTERVAL 12 MONTH GROUP BY customer_id
),
outreach AS (
    SELECT customer_id, max(opened_at)::DATE AS last_outreach FROM tickets_in_scope WHERE kind = 'outreach' GROUP BY customer_id
),
facts AS (
    SELECT b.customer_id, b.orders, date_diff('day', b.last_order, $as_of) AS days_since_last, g.median_gap,
           r.last_6m, r.prior_6m, coalesce(r.orders_12m, 0) AS orders_12m, r.email_orders_12m, coalesce(r.revenue_12m, 0) AS revenue_12m,
           r.discounted_12m, o.last_outreach,
           CASE WHEN c.account_team IS NOT NULL THEN len(string_split(c.account_team, ';')) ELSE r.order_reps END AS reps
    FROM buyers b
    LEFT JOIN own_gap g USING (customer_id) LEFT JOIN recent r USING (customer_id)
    LEFT JOIN outreach o USING (customer_id) LEFT JOIN customers_in_scope c USING (customer_id)
),
flagged AS (
    SELECT customer_id, revenue_12m,
        CASE WHEN orders >= 3 AND days_since_last > 2 * median_gap
             THEN printf('overdue: %d days since the last order, usually every %d', days_since_last, CAST(median_gap AS INTEGER)) END AS overdue,
        CASE WHEN prior_6m > 0 AND coalesce(last_6m, 0) < 0.7 * prior_6m
             THEN printf('declining spend: %,.0f in the last 6 months against %,.0f before', coalesce(last_6m, 0), prior_6m) END AS declining_spend,
        CASE WHEN $has_channels AND $has_tickets AND orders_12m > 0 AND email_orders_12m = orders_12m
                  AND (last_outreach IS NULL OR last_outreach <= $as_of - INTERVAL 12 MONTH)
             THEN printf('routine-only: all %d orders of the last 12 months by email, no outreach', orders_12m) END AS routine_only,
        CASE WHEN $has_tickets AND orders_12m > 0 AND (last_outreach IS NULL OR last_outreach <= $as_of - INTERVAL 90 DAY)
             THEN 'no outreach in 90 days' || CASE WHEN last_outreach IS NULL THEN ' (never)' ELSE printf(' (last %s)', last_outreach) END END AS no_outreach_90d,
        CASE WHEN revenue_12m > 0 AND coalesce(discounted_12m, 0) >= 0.8 * revenue_12m
             THEN printf('discount-dependent: %d%% of the last 12 months'' revenue discounted', CAST(round(100 * discounted_12m / revenue_12m) AS INTEGER)) END AS discount_dependent,
        CASE WHEN reps <= 1 THEN 'single-contact account: one rep' END AS single_contact
    FROM facts
)
"""


def customer_signals(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """One row per customer with at least one signal: a column per signal holding its reason (or
    NULL), the number of signals and the last 12 months' revenue at stake."""
    counts = column_counts(con)
    has_channels = missing_inputs(con, "orders.channel", counts=counts) is None
    has_tickets = missing_inputs(con, "tickets.kind", counts=counts) is None
    return frame(con, FACTS + """,
        counted AS (
            SELECT *, (overdue IS NOT NULL)::INTEGER + (declining_spend IS NOT NULL)::INTEGER
                      + (routine_only IS NOT NULL)::INTEGER + (no_outreach_90d IS NOT NULL)::INTEGER
                      + (discount_dependent IS NOT NULL)::INTEGER + (single_contact IS NOT NULL)::INTEGER AS signals,
                   concat_ws('; ', overdue, declining_spend, routine_only, no_outreach_90d, discount_dependent, single_contact) AS reasons
            FROM flagged)
        SELECT * FROM counted WHERE signals > 0 ORDER BY revenue_12m DESC, customer_id""",
        period, has_channels=has_channels, has_tickets=has_tickets)


def signal_availability(con: duckdb.DuckDBPyConnection) -> dict[str, Unavailable | None]:
    """Per signal, what is missing for it to be computed (None when it can be)."""
    counts = column_counts(con)
    return {
        "overdue": None, "declining_spend": None,
        "routine_only": missing_inputs(con, "orders.channel", "tickets.kind", counts=counts),
        "no_outreach_90d": missing_inputs(con, "tickets.kind", counts=counts),
        "discount_dependent": missing_inputs(con, "orders.discount", counts=counts),
        "single_contact": (missing_inputs(con, "customers.account_team", counts=counts)
                           and missing_inputs(con, "orders.sales_rep", counts=counts)),
        "price_complaints": PRICE_COMPLAINTS,
    }
