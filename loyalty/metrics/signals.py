"""Disloyalty signals per customer with an order up to the as-of date, each with a reason in plain words.

"The last 12 months" is after the same day a year before, up to the as-of date; likewise 6 months.
- overdue: ≥ 3 orders and more days since the last than 2× the customer's median gap between orders;
- declining spend: net revenue of the last 6 months < 70% of the 6 months before (which had revenue);
- routine-only: every order of the last 12 months placed by email, and no outreach ticket in them;
- no outreach in 90 days: ordered in the last 12 months, no outreach ticket in the last 90 days;
- discount-dependent: ≥ 80% of the last 12 months' net revenue from orders carrying a discount;
- single-contact account: an account team of one rep; without a team on record, all orders of the last
  12 months from one sales rep;
- price complaints: not in the data model (tickets carry a kind, not a topic), so always unavailable.
A signal whose inputs are absent is never raised; `signal_availability` says what it needs.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from .experience import BAD, bad_experiences_unavailable, bad_params
from .scope import Inputs, Unavailable, frame, held_at_latest, plural, store_at_latest

SIGNALS = ["overdue", "declining_spend", "routine_only", "no_outreach_90d", "discount_dependent",
           "single_contact", "price_complaints"]
PRICE_COMPLAINTS = Unavailable("a complaint topic on tickets (the data model has none)")
NEEDS = {  # signal -> its inputs (all needed; single contact: either)
    "overdue": (), "declining_spend": (),
    "routine_only": ("orders.channel", "tickets.kind"),
    "no_outreach_90d": ("tickets.kind",),
    "discount_dependent": ("orders.discount",),
    "single_contact": ("customers.account_team", "orders.sales_rep"),
}

ORDER_FACTS = """
recent AS (  -- per customer: the last 12 months' orders
    SELECT customer_id,
           sum(amount) FILTER (WHERE order_date > $as_of - INTERVAL 6 MONTH)::DOUBLE AS last_6m,
           sum(amount) FILTER (WHERE order_date <= $as_of - INTERVAL 6 MONTH)::DOUBLE AS prior_6m,
           count(*) AS orders_12m,
           count(*) FILTER (WHERE channel = 'email') AS email_orders_12m,
           sum(amount)::DOUBLE AS revenue_12m,
           sum(amount) FILTER (WHERE discount > 0)::DOUBLE AS discounted_12m,
           min(sales_rep) AS some_rep, min(sales_rep) = max(sales_rep) AS one_rep
    FROM orders_in_scope WHERE order_date > $as_of - INTERVAL 12 MONTH GROUP BY customer_id
),
order_facts AS (  -- per customer with an order: what its signals take from the orders
    SELECT b.customer_id, b.orders, b.last_order, b.median_gap, r.last_6m, r.prior_6m,
           coalesce(r.orders_12m, 0) AS orders_12m, r.email_orders_12m, coalesce(r.revenue_12m, 0) AS revenue_12m,
           r.discounted_12m, r.some_rep, r.one_rep
    FROM buyers_and_gaps b LEFT JOIN recent r USING (customer_id)
)"""

HELD_ORDER_FACTS = """
order_facts AS NOT MATERIALIZED (  -- the same as held by the rollup kept at the latest order date (`store_order_facts`)
    SELECT * FROM customer_order_facts
)"""

OTHER_FACTS = f"""
outreach AS (
    SELECT customer_id, max(opened_at)::DATE AS last_outreach FROM tickets_in_scope WHERE kind = 'outreach' GROUP BY customer_id
),
teams AS (
    SELECT customer_id, list_filter(string_split(account_team, ';'), lambda rep: trim(rep) <> '') AS team
    FROM customers_in_scope WHERE account_team IS NOT NULL
),
facts AS (
    SELECT f.customer_id, f.orders, date_diff('day', f.last_order, $as_of) AS days_since_last, f.median_gap,
           f.last_6m, f.prior_6m, f.orders_12m, f.email_orders_12m, f.revenue_12m, f.discounted_12m, o.last_outreach,
           t.team, f.some_rep, f.one_rep
    FROM order_facts f
    LEFT JOIN outreach o USING (customer_id) LEFT JOIN teams t USING (customer_id)
),
flagged AS (  -- one column per signal: its reason, or NULL (text joined by || where no thousands separator is needed:
              -- printf costs about 2.5 times as much a row)
    SELECT customer_id, revenue_12m,
        CASE WHEN orders >= 3 AND days_since_last > 2 * median_gap
             THEN 'overdue: ' || days_since_last || ' day' || {plural('days_since_last')} || ' since the last order, usually '
                  || CASE CAST(round(median_gap) AS INTEGER) WHEN 0 THEN 'several orders the same day'
                          WHEN 1 THEN 'one every day'
                          ELSE 'one every ' || CAST(round(median_gap) AS INTEGER) || ' days' END END AS overdue,
        CASE WHEN prior_6m > 0 AND coalesce(last_6m, 0) < 0.7 * prior_6m
             THEN printf('declining spend: %,.0f in the last 6 months against %,.0f before',
                         coalesce(last_6m, 0), prior_6m) END AS declining_spend,
        CASE WHEN $has_channels AND $has_tickets AND orders_12m > 0 AND email_orders_12m = orders_12m
                  AND (last_outreach IS NULL OR last_outreach <= $as_of - INTERVAL 12 MONTH)
             THEN printf('routine-only: all %d order%s of the last 12 months by email, no outreach', orders_12m,
                         {plural('orders_12m')}) END AS routine_only,
        CASE WHEN $has_tickets AND orders_12m > 0 AND (last_outreach IS NULL OR last_outreach <= $as_of - INTERVAL 90 DAY)
             THEN 'no outreach in 90 days'
                  || CASE WHEN last_outreach IS NULL THEN ' (never)' ELSE printf(' (last %s)', last_outreach) END
             END AS no_outreach_90d,
        CASE WHEN $has_discount AND revenue_12m > 0 AND coalesce(discounted_12m, 0) >= 0.8 * revenue_12m
             THEN printf('discount-dependent: %d%% of the last 12 months'' revenue discounted',
                         CAST(round(100 * discounted_12m / revenue_12m) AS INTEGER)) END AS discount_dependent,
        CASE WHEN len(team) = 1 THEN printf('single-contact account: a team of one (%s)', trim(team[1]))
             WHEN $has_reps AND team IS NULL AND one_rep  -- without sales reps on record, no rep is even looked for
             THEN printf('single-contact account: every order of the last 12 months from %s', some_rep)
             END AS single_contact
    FROM facts
),
signalled AS (
    SELECT *, (overdue IS NOT NULL)::INTEGER + (declining_spend IS NOT NULL)::INTEGER
              + (routine_only IS NOT NULL)::INTEGER + (no_outreach_90d IS NOT NULL)::INTEGER
              + (discount_dependent IS NOT NULL)::INTEGER + (single_contact IS NOT NULL)::INTEGER AS signals,
           concat_ws('; ', overdue, declining_spend, routine_only, no_outreach_90d, discount_dependent, single_contact) AS reasons
    FROM flagged
)
"""


def facts(held: bool) -> str:
    """The CTEs up to `signalled`, the orders' part from the rollup when `held` (`scope.held_at_latest`)."""
    return (HELD_ORDER_FACTS if held else ORDER_FACTS) + "," + OTHER_FACTS


def store_order_facts(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute `customer_order_facts` (every customer's `order_facts` as of the latest order date, without a
    filter) from the current orders and rollups."""
    store_at_latest(con, "customer_order_facts", ORDER_FACTS + " SELECT * FROM order_facts")


def signal_params(con: duckdb.DuckDBPyConnection, inputs: Inputs | None = None) -> dict:
    """Which signals the inputs allow."""
    inputs = inputs or Inputs(con)
    return {"has_channels": inputs.has("orders.channel"), "has_tickets": inputs.has("tickets.kind"),
            "has_discount": inputs.has("orders.discount"), "has_reps": inputs.has("orders.sales_rep")}


def customer_signals(con: duckdb.DuckDBPyConnection, period: Period, customer: str | None = None) -> pd.DataFrame:
    """One row per customer with at least one signal (or just `customer`): a column per signal holding its
    reason (or NULL), the number of signals, all reasons, and the last 12 months' revenue at stake, largest first."""
    return frame(con, facts(held_at_latest(con, period)) + """
        SELECT * FROM signalled WHERE signals > 0 AND ($customer IS NULL OR customer_id = $customer)
        ORDER BY revenue_12m DESC, customer_id""", period, customer=customer, **signal_params(con))


REASONS = ", ".join(f"s.{name}" for name in NEEDS)  # the signals' reason columns (price complaints never has one)

# AT_RISK and AT_RISK_BY_SIGNALS follow `facts(held)`.
AT_RISK = "," + BAD + f"""
SELECT coalesce(s.customer_id, b.customer_id) AS customer_id, coalesce(s.revenue_12m, r.revenue_12m, 0) AS revenue_12m,
       b.reason AS bad_experiences, {REASONS}
FROM (SELECT * FROM signalled WHERE signals > 0) s
FULL JOIN (SELECT * FROM bad_counts
           WHERE bad_experiences >= 2 AND customer_id IN (SELECT customer_id FROM known_customers)) b
  ON b.customer_id = s.customer_id
LEFT JOIN order_facts r ON r.customer_id = b.customer_id AND s.customer_id IS NULL   -- revenue of those without a signal
ORDER BY revenue_12m DESC, customer_id
"""

AT_RISK_BY_SIGNALS = f"""  -- the same when no kind of bad experience can be counted: signals alone
SELECT s.customer_id, s.revenue_12m, NULL::VARCHAR AS bad_experiences, {REASONS}
FROM signalled s WHERE signals > 0
ORDER BY revenue_12m DESC, customer_id
"""


def at_risk_customers(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Every customer with a disloyalty signal or 2+ bad experiences, largest revenue at stake (last 12
    months) first: one column per signal holding its reason (or NULL), `bad_experiences` holding what
    happened (or NULL below two; signals alone, without counting anybody's bad experiences, when none can
    be counted)."""
    inputs, held = Inputs(con), held_at_latest(con, period)
    if bad_experiences_unavailable(con, inputs):
        return frame(con, facts(held) + AT_RISK_BY_SIGNALS, period, many_rows=True, **signal_params(con, inputs))
    return frame(con, facts(held) + AT_RISK, period, many_rows=True, **signal_params(con, inputs),
                 **bad_params(con, period.as_of))


def signal_availability(con: duckdb.DuckDBPyConnection) -> dict[str, Unavailable | None]:
    """Per signal, and for the rule of 2+ bad experiences (`bad_experiences`), what is missing for it to be
    computed (None when it can be)."""
    inputs = Inputs(con)
    out = {name: (inputs.missing_all(*needs) if name == "single_contact" else inputs.missing(*needs))
           for name, needs in NEEDS.items()}
    out["price_complaints"] = PRICE_COMPLAINTS
    out["bad_experiences"] = bad_experiences_unavailable(con, inputs)
    return out
