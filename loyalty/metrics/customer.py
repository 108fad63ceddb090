"""Customer 360: one customer's records, segment, stage history, flags and referrals."""
from __future__ import annotations

import duckdb
import pandas as pd

from ..db import Call, side_by_side
from ..period import Period, month_ends
from .experience import BAD_FOR_EVERYONE, bad_experiences_unavailable, bad_params
from .rfm import customer_segment
from .scope import frame, plain
from .signals import customer_signals
from .stages import customer_stage_history


def customer_ids(con: duckdb.DuckDBPyConnection, period: Period, search: str = "", limit: int = 50) -> list[str]:
    """Known customers whose id or name contains `search`, biggest revenue first."""
    result = frame(con, """
        matches AS (  -- known by the as-of date (see known_customers), with the revenue that orders them
            SELECT k.customer_id, k.revenue FROM known_since k LEFT JOIN customers_in_scope c USING (customer_id)
            WHERE k.since <= $as_of
              AND ($search = '' OR contains(lower(k.customer_id), lower($search)) OR contains(lower(c.name), lower($search))))
        SELECT customer_id FROM matches ORDER BY revenue DESC, customer_id LIMIT $limit""",
        period, search=search, limit=limit)
    return result["customer_id"].tolist()


def customer_records(con: duckdb.DuckDBPyConnection, customer_id: str) -> dict[str, pd.DataFrame]:
    """The customer's row and every ticket and survey answer, newest first, and the customers it referred.
    Its orders, which can run to hundreds of thousands, come a page at a time (`customer_orders`)."""
    def table(sql: str) -> pd.DataFrame:
        return con.execute(sql, [customer_id]).df()
    return {
        "customer": table("SELECT * EXCLUDE (customer_key, batch_id) FROM customers WHERE customer_id = ?"),
        "tickets": table("SELECT * EXCLUDE (ticket_key, batch_id) FROM tickets WHERE customer_id = ? ORDER BY opened_at DESC"),
        "surveys": table("SELECT * EXCLUDE (survey_key, batch_id) FROM surveys WHERE customer_id = ? ORDER BY answered_at DESC"),
        "referred": table("SELECT customer_id, name, created_at FROM customers WHERE referred_by = ? ORDER BY created_at"),
    }


def customer_order_totals(con: duckdb.DuckDBPyConnection, customer_id: str) -> dict:
    """Every order on record of the customer: how many and the net revenue (the rollup's totals)."""
    found = con.execute("SELECT orders, revenue::DOUBLE FROM customer_totals WHERE customer_id = ?", [customer_id]).fetchall()
    orders, revenue = found[0] if found else (0, 0.0)
    return {"orders": orders, "revenue": revenue}


def customer_monthly_revenue(con: duckdb.DuckDBPyConnection, customer_id: str) -> pd.DataFrame:
    """The customer's net revenue per calendar month with an order (month, revenue), oldest first."""
    return con.execute("SELECT month, revenue::DOUBLE AS revenue FROM customer_months WHERE customer_id = ? ORDER BY month",
                       [customer_id]).df()


def customer_orders(con: duckdb.DuckDBPyConnection, customer_id: str, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
    """The customer's orders on record, newest first: `limit` of them from `offset` on (all without a limit)."""
    return con.execute("""SELECT * EXCLUDE (order_key, batch_id) FROM orders WHERE customer_id = $customer
                          ORDER BY order_date DESC, order_key LIMIT $limit OFFSET $offset""",
                       {"customer": customer_id, "limit": limit, "offset": offset}).df()


def customer_summary(con: duckdb.DuckDBPyConnection, period: Period, customer_id: str) -> dict:
    """Segment and reason, stage, bad experiences and disloyalty signals of one customer, as of the as-of
    date (the same queries as the segment, funnel and at-risk views, so the figures agree, computed side by
    side), and its stage at each of the last 12 month ends (`history`, as `customer_stage_history` gives it:
    one stage computation for both). Bad experiences are an Unavailable when the store holds nothing any
    kind of them is made of."""
    ends = month_ends(period.as_of, 12)
    missing = bad_experiences_unavailable(con)
    stages, segment, signals, bad = side_by_side(con, [
        Call(customer_stage_history, period, customer_id, dates=[*ends, period.as_of]),
        Call(customer_segment, period, customer_id), Call(customer_signals, period, customer=customer_id),
        None if missing else Call(_bad_experiences, period, customer_id)])
    stages = stages.set_index("month_end")
    first = lambda f, col: None if f.empty else plain(f.iloc[0][col])  # noqa: E731
    return {"segment": first(segment, "segment"), "segment_reason": first(segment, "reason"),
            "stage": None if stages.at[period.as_of, "stage"] == "—" else stages.at[period.as_of, "stage"],
            "bad_experiences": missing or first(bad, "bad_experiences"),
            "bad_reason": None if missing else first(bad, "reason") or None,
            "signals": first(signals, "reasons"), "history": stages.loc[ends].reset_index()}


def _bad_experiences(con: duckdb.DuckDBPyConnection, period: Period, customer_id: str) -> pd.DataFrame:
    """The customer's bad experiences in the last 12 months and what they were (0 and no reason without any; no
    row for a customer not known by the as-of date)."""
    return frame(con, BAD_FOR_EVERYONE + " SELECT bad_experiences, reason FROM bad_counts WHERE customer_id = $customer",
                 period, customer=customer_id, **bad_params(con, period.as_of))
