"""What the store holds: records and date range per kind (the Data page), and the filter choices."""
from __future__ import annotations

import duckdb

from .rollups import FILTER_COLUMNS

DATE_COLUMNS = {"orders": "order_date", "customers": "created_at", "tickets": "opened_at", "surveys": "answered_at"}


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """Per kind: records, first and last date; for orders also net revenue and distinct customers."""
    out = {}
    for kind, date_column in DATE_COLUMNS.items():
        records, first, last = con.execute(
            f"SELECT count(*), min({date_column}), max({date_column}) FROM {kind}"
        ).fetchall()[0]
        out[kind] = {"records": records, "first": first, "last": last}
    revenue, customers = con.execute(
        "SELECT coalesce(sum(amount), 0), count(DISTINCT customer_id) FROM orders"
    ).fetchall()[0]
    out["orders"].update(revenue=float(revenue), customers=customers)
    return out


def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    """The values the sidebar filters offer (from the `filter_values` rollup), and the first and last order dates."""
    listed = dict(con.execute("SELECT name, list(value ORDER BY value) FROM filter_values GROUP BY name").fetchall())
    first, last = con.execute("SELECT min(order_date), max(order_date) FROM orders").fetchall()[0]
    return {**{name: listed.get(f"{kind}.{column}", []) for name, (kind, column) in FILTER_COLUMNS.items()},
            "first_order": first, "last_order": last}
