"""What every metric query starts from: the customers, orders, tickets and survey answers in scope for
a period and its filters (one set of common table expressions, so the filter SQL is written once),
the windows a query can compute several periods in at once, the helpers that run a query, and the
`Unavailable` mechanism that says which inputs a figure lacks.

Values always arrive as named parameters ($as_of, $regions, …); the only names put into SQL text are
fixed table and column names from `loyalty.schema`.

Rollups (`loyalty.rollups`): `buyers`, `buyers_and_gaps` and `customer_months_in_scope` read the rollup
tables instead of every order when they hold the same answer (`rollups_answer`), which needs no channel or
sales-rep filter (the rollups keep neither). With an as-of date on or after the latest order in the store
(no order cut off) they read the customer totals and months as they are ("totals"); with an earlier as-of
date ("months"), the customer months before the as-of date's month come from the rollup and that month
from its orders up to the as-of date (the orders are stored in date order, so that reads a few blocks),
the customers' totals are summed from those months, and only the median gaps of `buyers_and_gaps` read
every order. Otherwise the same CTEs compute from `orders_in_scope`; a query reads the same columns either
way. The rollups kept at the latest order date (`held_at_latest`) answer only as of that date, unfiltered.
`dated_orders` (per customer and day: orders, revenue) likewise reads the customer months, each dated its
first day, when the rollups answer and the period spans whole months: a filter on whole months of the
period and the one before then holds the same orders as on the order dates.
`customer_spans_in_scope` holds each customer's orders and revenue per span of whole months, and whether it has
an order in the span of the same length before (`active_before`): every calendar month, and, when the rollups answer
as they are, the spans of the `customer_spans` rollup (the default period and the two before it). Computed from the
orders (an order filter), the months do not say who was active the month before (a window over every customer's
months made every filtered page slower: DuckDB materializes the months for each query that reads them twice), so a
windowed query then groups a calendar month with the month before like any other window (`spans_hold`).
`period_customers` (each customer's figures in the period and the previous one) pairs two spans' rows when both are
held (`spans_hold`), and groups `dated_orders` otherwise; `period_revenue` (each customer's net revenue in the
period, for the 80/20 curve) likewise takes the period's span rows or groups `dated_orders`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Callable

import duckdb
import pandas as pd

from ..period import Filters, Period, latest_order_date, month_end, resolve_period
from ..rollups import MEDIAN_GAPS, MONTH_FIGURES, TOTALS_OF_MONTHS, spans


GAPS_JOINED = f"""
own_gap AS (  -- per customer with 2 or more orders: the median number of days between consecutive orders
    {MEDIAN_GAPS.format(orders="orders_in_scope")}
),
buyers_and_gaps AS (  -- buyers with their median gap (NULL below 2 orders)
    SELECT b.*, g.median_gap FROM buyers b LEFT JOIN own_gap g USING (customer_id)
)"""

BUYERS_FROM_ORDERS = f"""
buyers AS (  -- one row per customer with an order in scope: totals up to the as-of date
    SELECT customer_id, count(*) AS orders, sum(amount) AS revenue, min(order_date) AS first_order,
           min(order_date, 2)[2] AS second_order, max(order_date) AS last_order, sum(quantity) AS quantity
    FROM orders_in_scope GROUP BY customer_id
),
{GAPS_JOINED},
customer_months_in_scope AS (  -- per customer and month: orders, revenue, quantity, first, second and last order day
                               -- (active_before unknown: no window reads these months as spans, see `spans_hold`)
    SELECT customer_id, {MONTH_FIGURES}, NULL::BOOLEAN AS active_before FROM orders_in_scope GROUP BY customer_id, month
)"""

BUYERS_FROM_ROLLUPS = """
buyers AS (  -- one row per customer with an order in scope: totals up to the as-of date (the rollup)
    SELECT customer_id, orders, revenue, first_order, second_order, last_order, quantity
    FROM customer_totals WHERE {customers}
),
buyers_and_gaps AS (  -- the same with each one's median number of days between consecutive orders (NULL below 2 orders)
    SELECT customer_id, orders, revenue, first_order, second_order, last_order, quantity, median_gap
    FROM customer_totals WHERE {customers}
),
customer_months_in_scope AS NOT MATERIALIZED (  -- per customer and month: orders, revenue, quantity, first, second and
                                                 -- last order day, whether an order in the month before (each reader
                                                 -- scans only its months)
    SELECT * FROM customer_months WHERE {customers}
)"""

BUYERS_FROM_MONTHS = f"""
customer_months_in_scope AS NOT MATERIALIZED (  -- per customer and month: the rollup's months before the as-of date's month,
                                                 -- that month from its orders (each reader scans them itself: one
                                                 -- shared copy of ~4.5M months at 10M orders cost ~100 ms more)
    SELECT * FROM customer_months WHERE month < date_trunc('month', $as_of) AND {{customers}}
    UNION ALL
    SELECT customer_id, {MONTH_FIGURES},
           customer_id IN (SELECT customer_id FROM customer_months   -- active_before: an order in the month before
                           WHERE month = date_trunc('month', $as_of) - INTERVAL 1 MONTH)
    FROM orders_in_scope WHERE order_date >= date_trunc('month', $as_of) GROUP BY customer_id, month
),
buyers AS (  -- one row per customer with an order in scope: totals up to the as-of date, from its months
    SELECT customer_id, {TOTALS_OF_MONTHS} FROM customer_months_in_scope GROUP BY customer_id
),
{GAPS_JOINED}"""


def rollups_answer(period: Period, latest: date | None) -> str | None:
    """How the rollups answer for this period in a store whose latest order is on `latest`: "totals", "months"
    or not at all (None); see the module docstring."""
    if period.filters.on_orders:
        return None
    return "totals" if latest is None or period.as_of >= latest else "months"


def spans_hold(period: Period, held: set[tuple[date, date]], months: bool = True) -> bool:
    """Whether `customer_spans_in_scope` holds every customer's figures for the period and for its previous
    one: each is one of the rollup's spans (`held`, as (first day, last day)) or a calendar month, when the months
    come from the rollup (`months`: computed from the orders, they do not say who was active the month before)."""
    def one(p: Period) -> bool:
        return p.whole_months and ((months and p.end == month_end(p.start)) or (p.start, p.end) in held)
    return one(period) and one(period.previous())


DATED_ORDERS = """
dated_orders AS NOT MATERIALIZED (  -- per customer and day: orders and net revenue (for filters on the period's dates)
    SELECT customer_id, order_date AS day, 1 AS orders, amount AS revenue FROM orders_in_scope
)"""

DATED_MONTHS = """
dated_orders AS NOT MATERIALIZED (  -- the same per customer and month, dated its first day (filters on whole months only)
    SELECT customer_id, month AS day, orders, revenue FROM customer_months_in_scope
)"""

CUSTOMER_SPANS = """
customer_spans_in_scope AS NOT MATERIALIZED (  -- per span of whole months (span_start, span_end) and customer with an order
                                                -- in it: orders, revenue, whether an order in the span before (of the
                                                -- same length); each calendar month, and the rollup's spans
    SELECT month AS span_start, last_day(month) AS span_end, customer_id, orders, revenue, active_before
    FROM customer_months_in_scope
    {stored}
)"""

PERIOD_CUSTOMERS_FROM_DAYS = """
period_customers AS (  -- per customer with an order in the period or the previous one: orders and net revenue in each
                       -- (revenue NULL without an order there)
    SELECT customer_id,
           coalesce(sum(orders) FILTER (WHERE day >= $start), 0) AS orders,
           sum(revenue) FILTER (WHERE day >= $start) AS revenue,
           coalesce(sum(orders) FILTER (WHERE day < $start), 0) AS previous_orders,
           sum(revenue) FILTER (WHERE day < $start) AS previous_revenue
    FROM dated_orders WHERE day BETWEEN $prev_start AND $end GROUP BY customer_id
)"""

PERIOD_CUSTOMERS_FROM_SPANS = """
period_customers AS (  -- the same from the customers' rows of the period's span beside those of the previous one's
    SELECT customer_id, coalesce(now.orders, 0) AS orders, now.revenue,
           coalesce(before.orders, 0) AS previous_orders, before.revenue AS previous_revenue
    FROM (SELECT customer_id, orders, revenue FROM customer_spans_in_scope
          WHERE span_start = $start AND span_end = $end) now
    FULL JOIN (SELECT customer_id, orders, revenue FROM customer_spans_in_scope
               WHERE span_start = $prev_start AND span_end = $prev_end) before USING (customer_id)
)"""


PERIOD_REVENUE_FROM_DAYS = """
period_revenue AS (  -- per customer active in the period: its net revenue in the period
    SELECT customer_id, sum(revenue) AS revenue FROM dated_orders WHERE day BETWEEN $start AND $end GROUP BY customer_id
)"""

PERIOD_REVENUE_FROM_SPANS = """
period_revenue AS (  -- the same: the customers' rows of the period's span
    SELECT customer_id, revenue FROM customer_spans_in_scope WHERE span_start = $start AND span_end = $end
)"""


def scope_sql(filters: Filters, rollups: str | None = None, by_month: bool = False, spanned: bool = False) -> str:
    """The common table expressions every metric query starts from, for a set of filters, reading the
    rollups as `rollups` says (see `rollups_answer`).

    `by_month`: `dated_orders` from the customer months (only with `rollups` and a period of whole months).
    `spanned`: `period_customers` and `period_revenue` from the spans (only when `spans_hold` for the period).

    Which predicates appear depends only on which filters are set (their values stay parameters), so
    an unfiltered query reads the tables straight; the `*_in_scope` expressions are inlined into each
    query that reads them (NOT MATERIALIZED), so every reader scans only the columns it needs."""
    customers = ["TRUE"]
    if filters.regions:
        customers.append("list_contains($regions, c.region)")
    if filters.industries:
        customers.append("list_contains($industries, c.industry)")
    orders = ["o.order_date <= $as_of"]
    if filters.channels:
        orders.append("list_contains($channels, o.channel)")
    if filters.sales_reps:
        orders.append("list_contains($reps, o.sales_rep)")
    if filters.on_customers:
        orders.append("o.customer_id IN (SELECT customer_id FROM customers_in_scope)")
    people = []  # who tickets and survey answers must belong to
    if filters.on_customers:
        people.append("customer_id IN (SELECT customer_id FROM customers_in_scope)")
    if filters.on_orders:
        people.append("customer_id IN (SELECT customer_id FROM buyers)")
    tickets = " AND ".join(["t.opened_at < $as_of + INTERVAL 1 DAY", *("t." + p for p in people)])
    surveys = " AND ".join(["s.answered_at < $as_of + INTERVAL 1 DAY", *("s." + p for p in people)])
    prospects = "FALSE" if filters.on_orders else "TRUE"
    in_scope = "customer_id IN (SELECT customer_id FROM customers_in_scope)" if filters.on_customers else "TRUE"
    buyers = {None: BUYERS_FROM_ORDERS, "totals": BUYERS_FROM_ROLLUPS.format(customers=in_scope),
              "months": BUYERS_FROM_MONTHS.format(customers=in_scope)}[rollups]
    dated = DATED_MONTHS if by_month else DATED_ORDERS
    stored = ("UNION ALL SELECT span_start, span_end, customer_id, orders, revenue, active_before FROM customer_spans "
              f"WHERE {in_scope}" if rollups == "totals" else "")
    period_customers = PERIOD_CUSTOMERS_FROM_SPANS if spanned else PERIOD_CUSTOMERS_FROM_DAYS
    period_revenue = PERIOD_REVENUE_FROM_SPANS if spanned else PERIOD_REVENUE_FROM_DAYS
    return f"""
customers_in_scope AS NOT MATERIALIZED (  -- rows of `customers` passing the region and industry filters
    SELECT c.* FROM customers c WHERE {" AND ".join(customers)}
),
orders_in_scope AS NOT MATERIALIZED (  -- orders up to the as-of date passing every filter
    SELECT o.* FROM orders o WHERE {" AND ".join(orders)}
),
{buyers},
{dated},
{CUSTOMER_SPANS.format(stored=stored)},
{period_customers},
{period_revenue},
previous_customers AS (  -- customers active in the previous period, and whether they ordered in this one
    SELECT customer_id, orders > 0 AS active_now FROM period_customers WHERE previous_orders > 0
),
known_since AS (  -- every customer in scope: the day it became known (its first order, or as a prospect its created_at
                  -- if earlier; undated: always), its first and second order, its revenue up to the as-of date (0 for
                  -- a prospect), and its maintenance and reference flags
    SELECT coalesce(b.customer_id, c.customer_id) AS customer_id,
           least(b.first_order, CASE WHEN {prospects} AND c.customer_id IS NOT NULL
                                     THEN coalesce(c.created_at, DATE '-infinity') END) AS since,
           b.first_order, b.second_order, coalesce(b.revenue, 0) AS revenue,
           coalesce(c.on_maintenance_plan, FALSE) AS maintenance, coalesce(c.reference_willing, FALSE) AS reference
    FROM buyers b FULL JOIN customers_in_scope c ON c.customer_id = b.customer_id
    WHERE b.customer_id IS NOT NULL OR {prospects}
),
known_customers AS (  -- buyers, plus prospects known by the as-of date (none when an order filter is set)
    SELECT customer_id FROM known_since WHERE since <= $as_of
),
referral_dates AS (  -- one row per referral: the referrer, dated by the referred customer's created_at (else its first order; NULL: undated)
    SELECT c.referred_by AS customer_id, coalesce(c.created_at, b.first_order) AS referred_on
    FROM customers c LEFT JOIN buyers b USING (customer_id)
    WHERE c.referred_by IS NOT NULL AND c.referred_by <> c.customer_id
),
tickets_in_scope AS NOT MATERIALIZED (  -- tickets opened up to the end of the as-of day, of customers in scope
    SELECT t.* FROM tickets t WHERE {tickets}
),
surveys_in_scope AS NOT MATERIALIZED (  -- survey answers up to the end of the as-of day, of customers in scope
    SELECT s.* FROM surveys s WHERE {surveys}
),
windows AS (  -- the periods a windowed query computes at once: w, w_start, w_end, w_as_of, w_prev_start
    SELECT unnest($windows, recursive := true)
)
"""


def window_rows(periods: list[Period], held: set[tuple[date, date]], months: bool = True) -> list[dict]:
    """The $windows parameter for a list of periods (window w is periods[w]); each window's previous
    period starts at w_prev_start and ends the day before w_start; w_spanned: `spans_hold` for it."""
    return [{"w": i, "w_start": p.start, "w_end": p.end, "w_as_of": p.as_of, "w_prev_start": p.previous().start,
             "w_spanned": spans_hold(p, held, months)}
            for i, p in enumerate(periods)]


def anchor(periods: list[Period]) -> Period:
    """The period whose scope covers a list of windows: the one with the latest as-of date (the windows of
    one computation share their filters)."""
    return max(periods, key=lambda p: p.as_of)


def params(period: Period, windows: list[Period] | None = None, held: set[tuple[date, date]] = frozenset(),
           months: bool = True, **extra) -> dict:
    """The named parameters of the scope for a period (its previous period's first and last day included) and
    the windows, when a query computes several (`held`, `months`: the spans the query may read, see `spans_hold`),
    plus a query's own.

    A window counts the orders in scope (up to the period's as-of date) between its first and last day;
    its own as-of date may not fall before the last of those (the windowed queries read a customer's
    second order against it). Periods from `Period.previous` and `Period.months` never do."""
    windows = windows or [period]
    for window in windows:
        if window.as_of < min(window.end, period.as_of):
            raise ValueError(f"window {window.start}–{window.end} is as of {window.as_of}, before its last day "
                             f"and the query's as-of date {period.as_of}")
    previous = period.previous()
    return {**period.params(), "prev_start": previous.start, "prev_end": previous.end,
            "order_filtered": period.filters.on_orders, "windows": window_rows(windows, held, months), **extra}


def plural(count: str, one: str = "", many: str = "s") -> str:
    """SQL: the ending of a word counted by `count` (fixed text from this package): `one` for exactly 1, else
    `many` ("1 day", "2 days"; "1 late delivery", "2 late deliveries")."""
    return f"CASE WHEN {count} = 1 THEN '{one}' ELSE '{many}' END"


def bound(sql: str, values: dict) -> dict:
    """The parameters a statement names ($name): DuckDB refuses unused ones."""
    names = set(re.findall(r"\$(\w+)", sql))
    return {k: v for k, v in values.items() if k in names}


SCOPE_EXPRESSION = re.compile(r"^(\w+) AS (?:NOT MATERIALIZED |MATERIALIZED )?\(", re.MULTILINE)  # each starts a line
WORD = re.compile(r"\w+")


def read_by(sql: str, scope: str) -> str:
    """The expressions of `scope` that `sql` reads, directly or through another, in the scope's order: DuckDB
    parses and binds every expression of a WITH, read or not (~1 ms a statement at 20–27 of them)."""
    starts = list(SCOPE_EXPRESSION.finditer(scope))
    bodies = {m.group(1): scope[m.start():end].rstrip().rstrip(",")
              for m, end in zip(starts, [n.start() for n in starts[1:]] + [len(scope)])}
    read, reading = set(), [sql]
    while reading:
        names = (set(WORD.findall(reading.pop())) & bodies.keys()) - read
        read |= names
        reading += [bodies[name] for name in names]
    return ",\n".join(body for name, body in bodies.items() if name in read)


def statement(sql: str, filters: Filters, rollups: str | None = None, by_month: bool = False,
              spanned: bool = False) -> str:
    """A query over the scope: `WITH <the scope it reads>, <sql>` (`sql`: further CTEs, then the final SELECT)."""
    scope = read_by(sql, scope_sql(filters, rollups, by_month, spanned))
    return f"WITH {scope}, {sql}" if scope else f"WITH {sql}"


def held_at_latest(con: duckdb.DuckDBPyConnection, period: Period) -> bool:
    """Whether the rollups kept as of the latest order date without a filter (`customer_scores`,
    `customer_order_facts`; see `store_at_latest`) answer for this period: as of that date, with no filter (the
    scores rank the customers in scope against each other)."""
    latest = latest_order_date(con)
    return rollups_answer(period, latest) == "totals" and period.as_of == latest and not period.filters.on_customers


def store_at_latest(con: duckdb.DuckDBPyConnection, table: str, sql: str,
                    extra: Callable[[date], dict] = lambda latest: {}) -> None:
    """Replace the rows of the rollup `table` (a fixed name from this package) with what `sql` (CTEs over the
    scope, then a SELECT by the table's column names) gives as of the latest order date without a filter, with
    `extra(latest)` as further parameters; no rows without orders."""
    con.execute(f"DELETE FROM {table}")
    latest = latest_order_date(con)
    if latest is not None:
        text, values = prepared(con, sql, resolve_period(latest), **extra(latest))
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM ({text})", values)


def prepared(con: duckdb.DuckDBPyConnection, sql: str, period: Period, windows: list[Period] | None = None,
             **extra) -> tuple[str, dict]:
    """`WITH <scope>, <sql>` over the rollups when they answer, and its parameters."""
    latest = latest_order_date(con)
    rollups = rollups_answer(period, latest)
    held = set(spans(latest)) if rollups == "totals" else set()
    by_month = rollups is not None and period.whole_months
    text = statement(sql, period.filters, rollups, by_month, spanned=by_month and spans_hold(period, held))
    return text, bound(text, params(period, windows, held, months=rollups is not None, **extra))


def frame(con: duckdb.DuckDBPyConnection, sql: str, period: Period, windows: list[Period] | None = None,
          many_rows: bool = False, **extra) -> pd.DataFrame:
    """Run `WITH <scope>, <sql>` (over the rollups when they answer) and return the result as a DataFrame
    (`many_rows`: a list of customers, whose text converts faster by way of Arrow; see `texts_by_arrow`)."""
    text, values = prepared(con, sql, period, windows, **extra)
    if many_rows:
        return texts_by_arrow(con, con.sql(text, params=values))
    return text_columns_as_strings(con.execute(text, values))


def text_columns_as_strings(result: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The result as a DataFrame whose text columns are strings even when every value is NULL (DuckDB gives
    such a column as Python objects, which are also slower to cache: the at-risk list at 10M orders, with
    five signals that flag nobody, unpickles in about 23 ms instead of 33–39)."""
    texts = [name for name, kind, *_ in result.description if kind == "VARCHAR"]
    out = result.df()
    objects = {name: "str" for name in texts if out[name].dtype == object}
    return out.astype(objects) if objects else out   # astype copies the frame even when it converts nothing


def texts_by_arrow(con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """The same DataFrame as `text_columns_as_strings`, by way of one Arrow table: the text columns become
    pandas strings straight from Arrow, the others take DuckDB's conversion. DuckDB's conversion of text makes
    a Python object per value: the at-risk list at 10M orders (156k rows, eight text columns) took about
    110 ms longer. Each conversion costs ~1.5 ms more, so small results keep the direct one."""
    names = relation.columns
    texts = [name for name, kind in zip(names, relation.types) if kind == "VARCHAR"]
    others = [name for name in names if name not in texts]
    table = relation.to_arrow_table()
    converted = con.from_arrow(table.select(others)).df() if others else pd.DataFrame(index=range(table.num_rows))
    strings = table.select(texts).combine_chunks().to_pandas()
    return pd.DataFrame({name: strings[name] if name in texts else converted[name] for name in names})


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    """No rows, with a query's columns and their pandas types (name -> dtype): for a figure that cannot
    have a row, returned without asking the database."""
    return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in columns.items()})


def rows(con: duckdb.DuckDBPyConnection, sql: str, period: Period, windows: list[Period] | None = None,
         **extra) -> list[dict]:
    """Run `WITH <scope>, <sql>` and return its rows as dicts of plain Python values, as `records(frame(…))` gives
    the figures (DECIMAL as float, NaN as None; dates as `date`), without the DataFrame between (~2 ms for the
    scorecard's 14 windows)."""
    text, values = prepared(con, sql, period, windows, **extra)
    result = con.execute(text, values)
    names = [column[0] for column in result.description]
    return [{name: _fetched(value) for name, value in zip(names, found)} for found in result.fetchall()]


def _fetched(value):
    if isinstance(value, Decimal):
        return float(value)
    return None if isinstance(value, float) and value != value else value


def row(con: duckdb.DuckDBPyConnection, sql: str, period: Period, **extra) -> dict:
    """The single row of a scoped query, as a dict of plain Python values."""
    return records(frame(con, sql, period, **extra))[0]


def records(result: pd.DataFrame) -> list[dict]:
    """A result's rows as dicts of plain Python values (numpy scalars unwrapped, NaN and NaT as None)."""
    return [{k: plain(v) for k, v in r.items()} for r in result.to_dict("records")]


def plain(value):
    """numpy / pandas scalars as plain Python values, NaN / NaT as None."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def ratio(numerator, denominator):
    """numerator / denominator, None when the denominator is zero or missing."""
    if not denominator:
        return None
    return float(numerator or 0) / float(denominator)


# ---------------------------------------------------------------------------------------- missing inputs

@dataclass(frozen=True)
class Unavailable:
    """A figure whose inputs are absent: shown as this sentence, never as a zero."""
    needs: str

    def __str__(self) -> str:
        return f"not available: needs {self.needs}"

    def sentence(self) -> str:
        """As a sentence of its own: "Not available: needs …"."""
        return f"Not available: needs {self.needs}."


def column_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many values every canonical column holds ("tickets.csat" -> n), as the rollups keep them."""
    return dict(con.execute('SELECT name, "values" FROM column_counts').fetchall())


class Inputs:
    """Which inputs the store holds (a column holding no value at all is missing), asked once per computation."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None, counts: dict[str, int] | None = None):
        self.counts = counts if counts is not None else column_counts(con)

    def has(self, column: str) -> bool:
        return bool(self.counts.get(column))

    def missing(self, *columns: str) -> Unavailable | None:
        """An Unavailable naming the first of `columns` (all needed) that holds no value; None when all do."""
        for column in columns:
            if not self.has(column):
                return Unavailable(column)
        return None

    def missing_all(self, *columns: str) -> Unavailable | None:
        """An Unavailable when none of `columns` (any one is enough) holds a value."""
        if any(self.has(column) for column in columns):
            return None
        return Unavailable(" or ".join(columns))


def missing_inputs(con: duckdb.DuckDBPyConnection, *columns: str, counts: dict[str, int] | None = None) -> Unavailable | None:
    """The first of `table.column` that holds no value at all, as an Unavailable; None when all do.
    Pass `counts` (from column_counts) to check many figures without asking the database again."""
    return Inputs(con, counts).missing(*columns)


def available(value) -> bool:
    """True for a computed figure (also 0), False for None and Unavailable."""
    return value is not None and not isinstance(value, Unavailable)
