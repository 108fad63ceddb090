"""What every metric query starts from: the customers and orders in scope for a period and filters,
plus the small helpers that run a query and say when its inputs are missing."""
from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import pandas as pd

from ..period import Period, last_quarters

# Common table expressions shared by every query. Values arrive as named parameters ($as_of, $regions…).
SCOPE = """
customers_in_scope AS (
    SELECT c.* FROM customers c
    WHERE (len($regions) = 0 OR list_contains($regions, c.region))
      AND (len($industries) = 0 OR list_contains($industries, c.industry))
),
orders_in_scope AS (
    SELECT o.* FROM orders o
    WHERE o.order_date <= $as_of
      AND (len($channels) = 0 OR list_contains($channels, o.channel))
      AND (len($reps) = 0 OR list_contains($reps, o.sales_rep))
      AND ((len($regions) = 0 AND len($industries) = 0)
           OR o.customer_id IN (SELECT customer_id FROM customers_in_scope))
),
buyers AS (
    SELECT customer_id, count(*) AS orders, sum(amount) AS revenue, min(order_date) AS first_order,
           max(order_date) AS last_order, sum(quantity) AS quantity
    FROM orders_in_scope GROUP BY customer_id
),
known_customers AS (  -- buyers, plus prospects unless an order filter is set
    SELECT customer_id FROM buyers
    UNION
    SELECT customer_id FROM customers_in_scope
    WHERE NOT $order_filtered AND (created_at IS NULL OR created_at <= $as_of)
),
quarters AS (SELECT unnest($quarters, recursive := true)),
active_quarters AS (  -- in how many of the last four quarters each customer ordered
    SELECT o.customer_id, count(DISTINCT q.q_start) AS quarters
    FROM orders_in_scope o JOIN quarters q ON o.order_date BETWEEN q.q_start AND q.q_end
    GROUP BY o.customer_id
),
tickets_in_scope AS (
    SELECT t.* FROM tickets t
    WHERE t.opened_at < $as_of + INTERVAL 1 DAY
      AND ((len($regions) = 0 AND len($industries) = 0)
           OR t.customer_id IN (SELECT customer_id FROM customers_in_scope))
      AND (NOT $order_filtered OR t.customer_id IN (SELECT customer_id FROM buyers))
),
surveys_in_scope AS (
    SELECT s.* FROM surveys s
    WHERE s.answered_at < $as_of + INTERVAL 1 DAY
      AND ((len($regions) = 0 AND len($industries) = 0)
           OR s.customer_id IN (SELECT customer_id FROM customers_in_scope))
      AND (NOT $order_filtered OR s.customer_id IN (SELECT customer_id FROM buyers))
)
"""


def params(period: Period, **extra) -> dict:
    """The named parameters of SCOPE for a period, plus a query's own."""
    quarters = [{"q_start": s, "q_end": e} for s, e in last_quarters(period.as_of)]
    return {**period.params(), "order_filtered": period.filters.on_orders, "quarters": quarters, **extra}


def bound(sql: str, values: dict) -> dict:
    """The parameters a statement names ($name): DuckDB refuses unused ones."""
    names = set(re.findall(r"\$(\w+)", sql))
    return {k: v for k, v in values.items() if k in names}


def frame(con: duckdb.DuckDBPyConnection, sql: str, period: Period, **extra) -> pd.DataFrame:
    """Run `WITH <scope>, <sql>` and return the (small) result as a DataFrame."""
    statement = f"WITH {SCOPE}, {sql}"
    return con.execute(statement, bound(statement, params(period, **extra))).df()


def row(con: duckdb.DuckDBPyConnection, sql: str, period: Period, **extra) -> dict:
    """The single row of a scoped query, as a dict."""
    result = frame(con, sql, period, **extra)
    return {k: _plain(v) for k, v in result.to_dict("records")[0].items()}


def _plain(value):
    """numpy / pandas scalars as plain Python numbers, NaN as None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


@dataclass(frozen=True)
class Unavailable:
    """A metric whose inputs are absent: shown as this sentence, never as a zero."""
    needs: str

    def __str__(self) -> str:
        return f"not available: needs {self.needs}"


def column_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many values every optional input column holds ("tickets.csat" -> n), in one query."""
    from ..schema import SPECS

    parts = [f"(SELECT count({c.name}) FROM {kind})" for kind, spec in SPECS.items() for c in spec.stored_columns]
    names = [f"{kind}.{c.name}" for kind, spec in SPECS.items() for c in spec.stored_columns]
    return dict(zip(names, con.execute("SELECT " + ", ".join(parts)).fetchall()[0]))


def missing_inputs(con: duckdb.DuckDBPyConnection, *columns: str, counts: dict[str, int] | None = None) -> Unavailable | None:
    """The first of `table.column` that holds no value at all, as an Unavailable; None when all do.
    Pass `counts` (from column_counts) to check many metrics without asking the database again."""
    counts = counts if counts is not None else column_counts(con)
    for qualified in columns:
        if not counts[qualified]:
            return Unavailable(qualified)
    return None


def ratio(numerator, denominator):
    """numerator / denominator, None when the denominator is zero or missing."""
    if not denominator:
        return None
    return float(numerator or 0) / float(denominator)
