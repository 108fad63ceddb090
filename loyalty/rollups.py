"""Rollups: small tables derived from `orders`, rebuilt for the customers a write touches, inside the
write's own transaction, so they always agree with the orders (an import, an undo and a crash keep them
right together). The engine reads them instead of every order where a figure allows it (`metrics.scope`).

customer_months: per customer and calendar month with an order: orders, net revenue, quantity (NULL when
no order of the month has one), and the first, second (NULL for a single order) and last order day.

Keeping it right: after a batch is written, and before a batch is undone, `mark_touched` notes every
customer any version of the batch's order keys belongs to (the new values and the ones they replace or
restore); `refresh` then recomputes exactly those customers' rows from `orders`.
"""
from __future__ import annotations

import duckdb

CUSTOMER_MONTHS_DDL = """
CREATE TABLE IF NOT EXISTS customer_months (
    customer_id VARCHAR NOT NULL,
    month DATE NOT NULL,          -- the first day of the calendar month
    orders BIGINT NOT NULL,
    revenue DECIMAL(38, 2) NOT NULL,
    quantity DECIMAL(38, 3),
    first_day DATE NOT NULL,
    second_day DATE,
    last_day DATE NOT NULL
)
"""

CUSTOMER_MONTHS_OF_TOUCHED = """
INSERT INTO customer_months
SELECT customer_id, date_trunc('month', order_date)::DATE AS month, count(*) AS orders, sum(amount) AS revenue,
       sum(quantity) AS quantity, min(order_date) AS first_day, min(order_date, 2)[2] AS second_day,
       max(order_date) AS last_day
FROM orders WHERE customer_id IN (SELECT customer_id FROM rollup_touched)
GROUP BY customer_id, month
"""

MARK_TOUCHED = """
INSERT INTO rollup_touched
SELECT DISTINCT customer_id FROM orders_versions
WHERE order_key IN (SELECT order_key FROM orders_versions WHERE batch_id = $batch)
"""


def ensure_rollups(con: duckdb.DuckDBPyConnection) -> None:
    """Create the rollup tables when missing (a database made before they existed gets them built)."""
    if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'customer_months'").fetchall()[0][0]:
        return
    con.execute("BEGIN TRANSACTION")
    con.execute(CUSTOMER_MONTHS_DDL)
    con.execute("CREATE OR REPLACE TEMP TABLE rollup_touched AS SELECT DISTINCT customer_id FROM orders")
    refresh(con)
    con.execute("COMMIT")


def mark_touched(con: duckdb.DuckDBPyConnection, kind: str, batch_id: int) -> None:
    """Note the customers whose rollup rows a batch of `kind` changes (orders only; other kinds none)."""
    con.execute("CREATE TEMP TABLE IF NOT EXISTS rollup_touched (customer_id VARCHAR)")
    if kind == "orders":
        con.execute(MARK_TOUCHED, {"batch": batch_id})


def refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the rollup rows of the customers noted by `mark_touched`, from the current orders."""
    con.execute("CREATE TEMP TABLE IF NOT EXISTS rollup_touched (customer_id VARCHAR)")
    con.execute("DELETE FROM customer_months WHERE customer_id IN (SELECT customer_id FROM rollup_touched)")
    con.execute(CUSTOMER_MONTHS_OF_TOUCHED)
    con.execute("DROP TABLE rollup_touched")
