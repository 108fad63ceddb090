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

from dataclasses import dataclass

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
flagged AS (  -- the facts, with a flag per signal: raised or not (never NULL)
    SELECT *,
        coalesce(orders >= 3 AND days_since_last > 2 * median_gap, FALSE) AS overdue,
        coalesce(prior_6m > 0 AND coalesce(last_6m, 0) < 0.7 * prior_6m, FALSE) AS declining_spend,
        coalesce($has_channels AND $has_tickets AND orders_12m > 0 AND email_orders_12m = orders_12m
                 AND (last_outreach IS NULL OR last_outreach <= $as_of - INTERVAL 12 MONTH), FALSE) AS routine_only,
        coalesce($has_tickets AND orders_12m > 0
                 AND (last_outreach IS NULL OR last_outreach <= $as_of - INTERVAL 90 DAY), FALSE) AS no_outreach_90d,
        coalesce($has_discount AND revenue_12m > 0 AND coalesce(discounted_12m, 0) >= 0.8 * revenue_12m, FALSE)
            AS discount_dependent,
        coalesce(len(team) = 1 OR ($has_reps AND team IS NULL AND one_rep), FALSE) AS single_contact
            -- without sales reps on record, no rep is even looked for
    FROM facts
)
"""

# A select list over rows of `flagged`: each raised signal's reason in plain words, else NULL (text joined by ||
# where no thousands separator is needed: printf costs about 2.5 times as much a row).
REASONS = f"""
    CASE WHEN overdue
         THEN 'overdue: ' || days_since_last || ' day' || {plural('days_since_last')} || ' since the last order, usually '
              || CASE CAST(round(median_gap) AS INTEGER) WHEN 0 THEN 'several orders the same day'
                      WHEN 1 THEN 'one every day'
                      ELSE 'one every ' || CAST(round(median_gap) AS INTEGER) || ' days' END END AS overdue,
    CASE WHEN declining_spend
         THEN printf('declining spend: %,.0f in the last 6 months against %,.0f before', coalesce(last_6m, 0), prior_6m)
         END AS declining_spend,
    CASE WHEN routine_only
         THEN printf('routine-only: all %d order%s of the last 12 months by email, no outreach', orders_12m,
                     {plural('orders_12m')}) END AS routine_only,
    CASE WHEN no_outreach_90d
         THEN 'no outreach in 90 days' || CASE WHEN last_outreach IS NULL THEN ' (never)' ELSE printf(' (last %s)', last_outreach) END
         END AS no_outreach_90d,
    CASE WHEN discount_dependent
         THEN printf('discount-dependent: %d%% of the last 12 months'' revenue discounted',
                     CAST(round(100 * discounted_12m / revenue_12m) AS INTEGER)) END AS discount_dependent,
    CASE WHEN single_contact
         THEN CASE WHEN len(team) = 1 THEN printf('single-contact account: a team of one (%s)', trim(team[1]))
                   WHEN $has_reps THEN printf('single-contact account: every order of the last 12 months from %s', some_rep)
                   END END AS single_contact"""

ANY_SIGNAL = " OR ".join(NEEDS)   # over a row of `flagged`: some signal is raised


def facts(held: bool) -> str:
    """The CTEs up to `flagged`, the orders' part from the rollup when `held` (`scope.held_at_latest`)."""
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
    raised = " + ".join(f"{name}::INTEGER" for name in NEEDS)
    return frame(con, facts(held_at_latest(con, period)) + f"""
        SELECT *, concat_ws('; ', {", ".join(NEEDS)}) AS reasons
        FROM (SELECT customer_id, revenue_12m, {REASONS}, {raised} AS signals FROM flagged
              WHERE ({ANY_SIGNAL}) AND ($customer IS NULL OR customer_id = $customer))
        ORDER BY revenue_12m DESC, customer_id""", period, customer=customer, **signal_params(con))


AT_RISK_REASONS = ("bad_experiences", *NEEDS)   # what puts a customer on the at-risk list (price complaints never can)

# AT_RISK and AT_RISK_BY_SIGNALS follow `facts(held)`; AT_RISK_ROWS or AT_RISK_PAGE follow them.
AT_RISK = "," + BAD + f""",
at_risk AS (  -- every customer with a signal or 2+ bad experiences: what happened (`bad_experiences`, else NULL), the
              -- flags and the facts they rest on (NULL for a prospect)
    SELECT coalesce(f.customer_id, b.customer_id) AS customer_id, coalesce(f.revenue_12m, 0) AS revenue_12m,
           b.reason AS bad_experiences, f.* EXCLUDE (customer_id, revenue_12m)
    FROM flagged f
    FULL JOIN (SELECT customer_id, reason FROM bad_counts
               WHERE bad_experiences >= 2 AND customer_id IN (SELECT customer_id FROM known_customers)) b
      ON b.customer_id = f.customer_id
    WHERE b.customer_id IS NOT NULL OR {ANY_SIGNAL}
)"""

AT_RISK_BY_SIGNALS = f""",
at_risk AS (  -- the same when no kind of bad experience can be counted: signals alone
    SELECT customer_id, revenue_12m, NULL::VARCHAR AS bad_experiences, * EXCLUDE (customer_id, revenue_12m)
    FROM flagged WHERE {ANY_SIGNAL}
)"""

CHOSEN = " OR ".join(  # over a row of `at_risk`: it has one of the reasons listed in $reasons
    ["(list_contains($reasons, 'bad_experiences') AND bad_experiences IS NOT NULL)"]
    + [f"(list_contains($reasons, '{name}') AND {name})" for name in NEEDS])

SHOWN_ROWS = f"""  -- $limit customers at risk for the chosen reasons from $offset (every one: NULL), their reasons worded
                 -- for those rows only
SELECT customer_id, revenue_12m, bad_experiences, {REASONS}
FROM (SELECT * FROM at_risk WHERE {CHOSEN} ORDER BY revenue_12m DESC, customer_id LIMIT $limit OFFSET $offset)"""

AT_RISK_ROWS = SHOWN_ROWS + """
ORDER BY revenue_12m DESC, customer_id"""

COUNTED = ", ".join(["bad_experiences IS NOT NULL AS with_bad_experiences"]
                    + [f"{name} IS TRUE AS with_{name}" for name in NEEDS])   # a flag per reason, over `at_risk`

AT_RISK_PAGE = SHOWN_ROWS + f"""
UNION ALL BY NAME   -- and a row per combination of reasons that occurs: how many customers it puts at risk
SELECT {COUNTED}, count(*) AS customers FROM at_risk GROUP BY ALL
ORDER BY customers NULLS FIRST, revenue_12m DESC, customer_id"""


def _at_risk(con: duckdb.DuckDBPyConnection, period: Period, select: str, **params) -> pd.DataFrame:
    """`select` over the at-risk customers (signals alone, without counting anybody's bad experiences, when
    none can be counted)."""
    inputs, held = Inputs(con), held_at_latest(con, period)
    if bad_experiences_unavailable(con, inputs):
        return frame(con, facts(held) + AT_RISK_BY_SIGNALS + select, period, **signal_params(con, inputs), **params)
    return frame(con, facts(held) + AT_RISK + select, period, **signal_params(con, inputs),
                 **bad_params(con, period.as_of, inputs), **params)


def at_risk_reasons(available: dict[str, Unavailable | None]) -> tuple[str, ...]:
    """The reasons of AT_RISK_REASONS that can be computed (`available`: as `signal_availability` gives it)."""
    return tuple(name for name in AT_RISK_REASONS if available[name] is None)


def at_risk_customers(con: duckdb.DuckDBPyConnection, period: Period,
                      reasons: tuple[str, ...] = AT_RISK_REASONS) -> pd.DataFrame:
    """Every customer at risk for any of `reasons` (AT_RISK_REASONS: 2+ bad experiences, each signal), largest
    revenue at stake (last 12 months) first: `bad_experiences` holding what happened (or NULL below two), and a
    column per signal holding its reason (or NULL). The page's download; the page shows `at_risk_overview`."""
    return _at_risk(con, period, AT_RISK_ROWS, many_rows=True, reasons=list(reasons), offset=0, limit=None)


@dataclass(frozen=True)
class AtRiskOverview:
    """What the At-risk page shows: `counts`, a row per combination of reasons that occurs (a flag per reason of
    AT_RISK_REASONS) with the `customers` it puts at risk, and `rows`, a page of `at_risk_customers`."""
    counts: pd.DataFrame
    rows: pd.DataFrame


def at_risk_overview(con: duckdb.DuckDBPyConnection, period: Period, reasons: tuple[str, ...], offset: int,
                     limit: int) -> AtRiskOverview:
    """`limit` rows of `at_risk_customers(reasons)` from `offset`, with the counts of every combination of reasons,
    from one statement: the signals' facts, the costly part, are computed once (as of an earlier date at 10M
    orders, two statements took 2.7 s where one whole list took 1.5 s)."""
    out = _at_risk(con, period, AT_RISK_PAGE, reasons=list(reasons), offset=offset, limit=limit)
    counted = out["customers"].notna()
    flags = {f"with_{name}": name for name in AT_RISK_REASONS}
    counts = (out.loc[counted, [*flags, "customers"]].rename(columns=flags)
              .astype({**{name: bool for name in AT_RISK_REASONS}, "customers": "int64"})
              .sort_values(list(AT_RISK_REASONS)).reset_index(drop=True))
    rows = out.loc[~counted, ["customer_id", "revenue_12m", "bad_experiences", *NEEDS]].reset_index(drop=True)
    return AtRiskOverview(counts, rows)


def signal_availability(con: duckdb.DuckDBPyConnection) -> dict[str, Unavailable | None]:
    """Per signal, and for the rule of 2+ bad experiences (`bad_experiences`), what is missing for it to be
    computed (None when it can be)."""
    inputs = Inputs(con)
    out = {name: (inputs.missing_all(*needs) if name == "single_contact" else inputs.missing(*needs))
           for name, needs in NEEDS.items()}
    out["price_complaints"] = PRICE_COMPLAINTS
    out["bad_experiences"] = bad_experiences_unavailable(con, inputs)
    return out
