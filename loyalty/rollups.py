"""Rollups: small tables derived from `orders`, rebuilt for the customers a write touches, inside the
write's own transaction, so they always agree with the orders (an import, an undo and a crash keep them
right together). The engine reads them instead of every order where a figure allows it (`metrics.scope`).

customer_months: per customer and calendar month with an order: orders, net revenue, quantity (NULL when
no order of the month has one), the first, second (NULL for a single order) and last order day, and whether the
customer has an order in the month before (`active_before`: who a month kept from the one before, without pairing
the two months' rows).

customer_totals: per customer with an order, over all its orders: orders, net revenue, quantity, first,
second and last order day, and the median number of days between consecutive orders (NULL below two).
These are the customer's figures at any as-of date on or after the latest order date in the store.

customer_spans: per span and customer with an order in it: orders, net revenue, and whether the customer has an
order in the span before (`active_before`; NULL in the oldest span, whose span before is not held). The spans
(`spans`) are the default period for the latest order (its last 12 full months) and the two periods before it: the
scorecard's period and previous period (and who was active before that), top movers, revenue retention and churn by
experience read each customer's figures there instead of grouping its months again.

customer_scores: per customer with an order, its measures and scores as of the latest order date without a filter
(`loyalty.metrics.scores_rollup`): rebuilt whole after the others, as a new order can move anybody's score.

customer_order_facts: per customer with an order, what its disloyalty signals take from the orders as of the latest
order date (`loyalty.metrics.signals.ORDER_FACTS`: totals, median gap, the last 12 months' orders): rebuilt whole
after the others too, as the latest order date sets the 12 months.

customer_stage_cells: per customer with an order, its cell bits for the funnel's dates at the latest order date
(`loyalty.metrics.stages.store_stage_cells`): which of the day ranges cut by those dates' last 4 quarters overlap one
of its months' span from first to last order; rebuilt whole after the others too, as the latest order date sets the
dates.

column_counts: per canonical column ("tickets.csat"), how many values the current rows hold: what tells
a figure whether its inputs are there (`metrics.scope.Inputs`) without counting millions of rows each time.

filter_values: per filter column (FILTER_COLUMNS, "orders.channel"), each distinct value the current rows
hold: the sidebar's choices without a DISTINCT over every order on each page (about 24 ms a column at 10M).

Keeping it right: when a batch is written or undone, `mark_touched` notes the customer and month of every
current order it takes away and of every one it brings (new values and the ones they replace; on undo, the
batch's orders and the versions restored in their place), and the month after each (whose `active_before` the
month's orders decide); `refresh` then recomputes exactly those customer months from the orders of those months,
and those customers' totals and spans (every customer's spans when the latest order moved them).
"""
from __future__ import annotations

import re
from datetime import date

import duckdb

from .period import latest_order_date, resolve_period
from .schema import KINDS, SPECS

CUSTOMER_MONTHS_DDL = """
CREATE TABLE IF NOT EXISTS customer_months (
    customer_id VARCHAR NOT NULL,
    month DATE NOT NULL,          -- the first day of the calendar month
    orders BIGINT NOT NULL,
    revenue DECIMAL(38, 2) NOT NULL,
    quantity DECIMAL(38, 3),
    first_day DATE NOT NULL,
    second_day DATE,
    last_day DATE NOT NULL,
    active_before BOOLEAN NOT NULL  -- whether the customer has an order in the calendar month before
)
"""

CUSTOMER_TOTALS_DDL = """
CREATE TABLE IF NOT EXISTS customer_totals (
    customer_id VARCHAR NOT NULL,
    orders BIGINT NOT NULL,
    revenue DECIMAL(38, 2) NOT NULL,
    quantity DECIMAL(38, 3),
    first_order DATE NOT NULL,
    second_order DATE,
    last_order DATE NOT NULL,
    median_gap DOUBLE
)
"""

CUSTOMER_SPANS_DDL = """
CREATE TABLE IF NOT EXISTS customer_spans (
    span_start DATE NOT NULL,     -- the first day of a span of whole months (see `spans`)
    span_end DATE NOT NULL,       -- its last day
    customer_id VARCHAR NOT NULL,
    orders BIGINT NOT NULL,
    revenue DECIMAL(38, 2) NOT NULL,
    active_before BOOLEAN         -- whether the customer has an order in the span before (NULL: that span is not held)
)
"""

CUSTOMER_SCORES_DDL = """
CREATE TABLE IF NOT EXISTS customer_scores (
    snap DATE NOT NULL,           -- the latest order date: what the figures are as of
    customer_id VARCHAR NOT NULL,
    recency_days BIGINT NOT NULL,
    frequency BIGINT NOT NULL,
    monetary DOUBLE NOT NULL,
    quantity DOUBLE NOT NULL,
    first_order DATE NOT NULL,
    tenure_days BIGINT NOT NULL,
    r INTEGER NOT NULL,           -- the 1-5 scores of recency, frequency, monetary value, quantity and tenure
    f INTEGER NOT NULL,
    m INTEGER NOT NULL,
    q INTEGER NOT NULL,
    t INTEGER NOT NULL,
    quarters INTEGER NOT NULL     -- how many of the last 4 quarters up to snap hold an order
)
"""

CUSTOMER_ORDER_FACTS_DDL = """
CREATE TABLE IF NOT EXISTS customer_order_facts (
    customer_id VARCHAR NOT NULL,
    orders BIGINT NOT NULL,
    last_order DATE NOT NULL,
    median_gap DOUBLE,
    last_6m DOUBLE,               -- the 12 months up to the latest order date: revenue in their last 6 months,
    prior_6m DOUBLE,              -- in the 6 before (NULL without an order there),
    orders_12m BIGINT NOT NULL,   -- orders,
    email_orders_12m BIGINT,      -- orders by email,
    revenue_12m DOUBLE NOT NULL,  -- revenue,
    discounted_12m DOUBLE,        -- revenue from orders with a discount,
    some_rep VARCHAR,             -- one of their sales reps
    one_rep BOOLEAN               -- and whether they have a single one
)
"""

CUSTOMER_STAGE_CELLS_DDL = """
CREATE TABLE IF NOT EXISTS customer_stage_cells (
    customer_id VARCHAR NOT NULL,
    cells BIGINT NOT NULL         -- one bit per cell of the funnel's dates (`metrics.stages.snapshot_params`)
)
"""

COLUMN_COUNTS_DDL = """
CREATE TABLE IF NOT EXISTS column_counts (
    name VARCHAR NOT NULL,        -- kind.column, as "orders.quantity"
    "values" BIGINT NOT NULL      -- how many current rows hold a value
)
"""
FILTER_VALUES_DDL = """
CREATE TABLE IF NOT EXISTS filter_values (
    name VARCHAR NOT NULL,        -- kind.column, as "orders.channel"
    value VARCHAR NOT NULL        -- one distinct value of it
)
"""
FILTER_COLUMNS = {"regions": ("customers", "region"), "industries": ("customers", "industry"),   # sidebar filter ->
                  "channels": ("orders", "channel"), "sales_reps": ("orders", "sales_rep")}       # the column it reads

ROLLUP_TABLES = {"customer_months": CUSTOMER_MONTHS_DDL, "customer_totals": CUSTOMER_TOTALS_DDL,
                 "customer_spans": CUSTOMER_SPANS_DDL, "customer_scores": CUSTOMER_SCORES_DDL,
                 "customer_order_facts": CUSTOMER_ORDER_FACTS_DDL, "customer_stage_cells": CUSTOMER_STAGE_CELLS_DDL,
                 "column_counts": COLUMN_COUNTS_DDL, "filter_values": FILTER_VALUES_DDL}

# The figures of one customer-month, over orders grouped by customer_id and month (the engine computes
# the same from its orders in scope when the rollups do not answer).
MONTH_FIGURES = """date_trunc('month', order_date)::DATE AS month, count(*) AS orders, sum(amount) AS revenue,
       sum(quantity) AS quantity, min(order_date) AS first_day, min(order_date, 2)[2] AS second_day,
       max(order_date) AS last_day"""

# Per customer with 2 or more orders in {orders}: the median number of days between consecutive orders. (Kept by
# count(*): DuckDB evaluated a filter on len(days) with its own list_sort, ~0.2 s more over 10M orders.)
MEDIAN_GAPS = """SELECT customer_id,
       list_median(list_transform(range(1, len(days)), lambda i: date_diff('day', days[i], days[i + 1]))) AS median_gap
FROM (SELECT customer_id, list_sort(list(order_date)) AS days FROM {orders} GROUP BY customer_id HAVING count(*) >= 2)"""

# A customer's totals over its customer-month rows (grouped by customer_id): the second order is the first
# month's second order, else the next month's first.
TOTALS_OF_MONTHS = """sum(orders) AS orders, sum(revenue) AS revenue, sum(quantity) AS quantity,
       min(first_day) AS first_order,
       CASE WHEN arg_min(orders, month) >= 2 THEN arg_min(second_day, month) ELSE min(first_day, 2)[2] END AS second_order,
       max(last_day) AS last_order"""

CUSTOMER_MONTHS_OF_TOUCHED = f"""
INSERT INTO customer_months
WITH fresh AS MATERIALIZED (  -- the touched customer months: only their months' orders are read (stored by date)
    SELECT customer_id, {MONTH_FIGURES}
    FROM orders WHERE {{touched}}
    GROUP BY customer_id, month
),
ordered AS (  -- the customer months with an order that a fresh one's month before can be: fresh, or kept as they are
    SELECT customer_id, month FROM fresh
    UNION ALL SELECT customer_id, month FROM customer_months WHERE {{kept}}
)
SELECT f.*, b.customer_id IS NOT NULL AS active_before
FROM fresh f LEFT JOIN ordered b ON b.customer_id = f.customer_id AND b.month = (f.month - INTERVAL 1 MONTH)::DATE
ORDER BY f.month  -- stored by month, so a query over a few months skips the row groups of the others
"""

# The orders of the customer months noted in rollup_touched: the months from $first to $last bound the date range,
# so only their storage blocks are read.
TOUCHED_MONTHS = """order_date BETWEEN $first AND last_day($last)
    AND (customer_id, date_trunc('month', order_date)::DATE) IN (SELECT customer_id, month FROM rollup_touched)"""

# The kept customer months a touched one's month before can be (the touched ones are deleted by then).
MONTHS_BEFORE_TOUCHED = "month BETWEEN (CAST($first AS DATE) - INTERVAL 1 MONTH)::DATE AND $last"

CUSTOMER_TOTALS_OF_TOUCHED = f"""
INSERT INTO customer_totals
WITH gaps AS (  -- per touched customer with 2 or more orders: the median of the days between consecutive orders
    {MEDIAN_GAPS.format(orders="orders WHERE {touched}")}
),
totals AS (
    SELECT customer_id, {TOTALS_OF_MONTHS}
    FROM customer_months WHERE {{touched}}
    GROUP BY customer_id
)
SELECT t.*, g.median_gap FROM totals t LEFT JOIN gaps g USING (customer_id)
"""

CUSTOMER_SPANS_OF_TOUCHED = """
INSERT INTO customer_spans
WITH held AS (SELECT unnest($spans, recursive := true)),
per_span AS MATERIALIZED (  -- every span of each touched customer, from its months
    SELECT s.span_start, s.span_end, m.customer_id, sum(m.orders) AS orders, sum(m.revenue) AS revenue
    FROM held s JOIN customer_months m ON m.month BETWEEN s.span_start AND s.span_end
    WHERE {touched}
    GROUP BY s.span_start, s.span_end, m.customer_id
)
SELECT n.*, CASE WHEN n.span_start - 1 IN (SELECT span_end FROM held) THEN b.customer_id IS NOT NULL END AS active_before
FROM per_span n LEFT JOIN per_span b ON b.customer_id = n.customer_id AND b.span_end = n.span_start - 1
ORDER BY n.span_start  -- stored by span, so a query for one span skips the row groups of the others
"""


def spans(latest: date | None) -> list[tuple[date, date]]:
    """The spans `customer_spans` holds for a store whose latest order is on `latest` (none when it has no
    order): the default period at that date and the two periods before it, newest first."""
    if latest is None:
        return []
    period = resolve_period(latest)
    held = []
    for _ in range(3):
        held.append((period.start, period.end))
        period = period.previous()
    return held


def ddl_columns(ddl: str) -> set[str]:
    """The column names a CREATE TABLE of this module declares (one column a line)."""
    return set(re.findall(r'^ +"?(\w+)"? [A-Z]', ddl, re.MULTILINE))


ROLLUP_COLUMNS = {table: ddl_columns(ddl) for table, ddl in ROLLUP_TABLES.items()}


def stale_rollups(tables: dict[str, set[str]]) -> list[str]:
    """The rollup tables missing from a database or made without a column they have now. `tables`: the database's
    tables with their columns (every connection asks on opening: the DDL is read once, into ROLLUP_COLUMNS)."""
    return [table for table, columns in ROLLUP_COLUMNS.items() if columns - tables.get(table, set())]


def ensure_rollups(con: duckdb.DuckDBPyConnection, tables: dict[str, set[str]]) -> None:
    """Create the stale rollup tables anew (a database made before then gets them built from its orders), in the
    caller's transaction."""
    stale = stale_rollups(tables)
    if not stale:
        return
    for table in stale:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(ROLLUP_TABLES[table])
    rebuild(con)


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the rollups of every customer from the orders."""
    for table in ("customer_months", "customer_totals", "customer_spans"):
        con.execute(f"DELETE FROM {table}")
    con.execute("CREATE OR REPLACE TEMP TABLE rollup_touched (customer_id VARCHAR, month DATE)")
    refresh(con)


def mark_touched(con: duckdb.DuckDBPyConnection, kind: str, rows: str) -> None:
    """Note the customer months whose rollup rows a write to `kind` changes (orders only; other kinds none):
    `rows` is the FROM clause of the orders concerned, such as "FROM orders WHERE <about to be replaced>"."""
    con.execute("CREATE TEMP TABLE IF NOT EXISTS rollup_touched (customer_id VARCHAR, month DATE)")
    if kind == "orders" and not empty(con):   # empty rollups are built from every order (see refresh)
        con.execute(f"""INSERT INTO rollup_touched  -- each month of those orders, and the month after it (active_before)
                        SELECT DISTINCT customer_id, unnest([month, (month + INTERVAL 1 MONTH)::DATE])
                        FROM (SELECT customer_id, date_trunc('month', order_date)::DATE AS month {rows})""")


def empty(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the rollups hold nobody (a store without orders, before its first import, or rebuilt)."""
    return not con.execute("SELECT count(*) FROM customer_totals").fetchall()[0][0]


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the rollup rows of the customer months noted by `mark_touched` and of their customers, from the
    current orders, and the rollups kept at the latest order date when any order changed."""
    # Empty rollups (a first import, a rebuild) are built from every order, without picking out what was touched.
    everyone = empty(con)
    customers = "TRUE" if everyone else "customer_id IN (SELECT customer_id FROM rollup_touched)"
    if everyone:
        con.execute(CUSTOMER_MONTHS_OF_TOUCHED.format(touched="TRUE", kept="FALSE"))
    else:
        con.execute("DELETE FROM customer_months "
                    "WHERE (customer_id, month) IN (SELECT customer_id, month FROM rollup_touched)")
        first, last = con.execute("SELECT min(month), max(month) FROM rollup_touched").fetchall()[0]
        con.execute(CUSTOMER_MONTHS_OF_TOUCHED.format(touched=TOUCHED_MONTHS, kept=MONTHS_BEFORE_TOUCHED),
                    {"first": first, "last": last})
    con.execute("DELETE FROM customer_totals WHERE customer_id IN (SELECT customer_id FROM rollup_touched)")
    con.execute(CUSTOMER_TOTALS_OF_TOUCHED.format(touched=customers))
    refresh_spans(con, customers)
    orders_changed = everyone or con.execute("SELECT count(*) > 0 FROM rollup_touched").fetchall()[0][0]
    con.execute("DROP TABLE rollup_touched")
    count_columns(con)
    list_filter_values(con)
    if orders_changed:   # the rollups kept at the latest date read the orders' rollups alone
        from .metrics.scores_rollup import store_scores   # the engine's own queries, which read the rollups above
        from .metrics.signals import store_order_facts
        from .metrics.stages import store_stage_cells
        store_scores(con)
        store_order_facts(con)
        store_stage_cells(con)


def refresh_spans(con: duckdb.DuckDBPyConnection, touched: str) -> None:
    """Recompute the touched customers' spans from their months, or every customer's when the spans held are not
    those of the latest order (an order in a later month, or an undo, moved them)."""
    wanted = spans(latest_order_date(con))
    held = con.execute("SELECT DISTINCT span_start, span_end FROM customer_spans").fetchall()
    if set(held) != set(wanted):  # a span nobody ordered in leaves no row: such a store recomputes every time
        con.execute("DELETE FROM customer_spans")
        touched = "TRUE"
    else:
        con.execute("DELETE FROM customer_spans WHERE customer_id IN (SELECT customer_id FROM rollup_touched)")
    if wanted:
        con.execute(CUSTOMER_SPANS_OF_TOUCHED.format(touched=touched),
                    {"spans": [{"span_start": start, "span_end": end} for start, end in wanted]})


def count_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Recount the values of every canonical column into `column_counts` (one scan of each table)."""
    names = [f"{kind}.{c.name}" for kind in KINDS for c in SPECS[kind].stored_columns]
    parts = [f"(SELECT count({c.name}) FROM {kind})" for kind in KINDS for c in SPECS[kind].stored_columns]
    counts = con.execute("SELECT " + ", ".join(parts)).fetchall()[0]
    con.execute("DELETE FROM column_counts")
    con.execute('INSERT INTO column_counts SELECT unnest($names), unnest($counts)',
                {"names": names, "counts": list(counts)})


def list_filter_values(con: duckdb.DuckDBPyConnection) -> None:
    """Relist the distinct values of every filter column into `filter_values` (fixed names from FILTER_COLUMNS)."""
    parts = [f"SELECT DISTINCT '{kind}.{column}', {column} FROM {kind} WHERE {column} IS NOT NULL"
             for kind, column in FILTER_COLUMNS.values()]
    con.execute("DELETE FROM filter_values")
    con.execute("INSERT INTO filter_values " + " UNION ALL ".join(parts))
