"""Activity, repeat business, retention and lapsed customers.

An order is any row of `orders` (refunds and credit notes are orders with a negative amount; a
customer whose only order in a period is a refund is active in it). Revenue is net: the sum of
amounts. Money is summed exactly (DECIMAL) and leaves the engine as a float.

The activity and retention figures are computed for a list of windows in one scan of the orders
(`activity_by_window`), so the scorecard's period, previous period and 12-month trend cost one query;
`activity` and `retention` are the one-window case.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from ..settings import get_settings
from .scope import anchor, frame, plural, ratio, rows

WINDOW_CUSTOMERS = """
window_customers AS MATERIALIZED (  -- per window and customer: orders and revenue in the window, and whether active in the
                                    -- previous one (orders 0: active only there)
    SELECT w.w, o.customer_id,
           count(*) FILTER (WHERE o.order_date >= w.w_start) AS orders,
           sum(o.amount) FILTER (WHERE o.order_date >= w.w_start) AS revenue,
           bool_or(o.order_date < w.w_start) AS was_active
    FROM windows w JOIN orders_in_scope o ON o.order_date BETWEEN w.w_prev_start AND w.w_end
    GROUP BY w.w, o.customer_id
),
window_previous AS (  -- per window with any: the customers active in the previous one
    SELECT w, count(*) FILTER (WHERE was_active) AS previous_active FROM window_customers GROUP BY w
)
"""

WINDOW_CUSTOMERS_BY_MONTH = """
window_customers AS MATERIALIZED (  -- the same from whole months (every window and previous window spans whole months)
    SELECT w.w, m.customer_id,      -- a window the spans do not hold: its and its previous one's customers' months,
                                    -- grouped
           coalesce(sum(m.orders) FILTER (WHERE m.month >= w.w_start), 0) AS orders,
           sum(m.revenue) FILTER (WHERE m.month >= w.w_start) AS revenue,
           bool_or(m.month < w.w_start) AS was_active
    FROM (SELECT *, unnest(generate_series(w_prev_start, w_end, INTERVAL 1 MONTH))::DATE AS month
          FROM windows WHERE NOT w_spanned) w
    JOIN customer_months_in_scope m USING (month)   -- an equality join on the month: a small hash table
    GROUP BY w.w, m.customer_id
    UNION ALL
    SELECT w.w, s.customer_id, s.orders, s.revenue, s.active_before   -- a window the spans hold (a calendar month, or
    FROM windows w JOIN customer_spans_in_scope s                     -- the rollup's span): its customers' rows of the
      ON s.span_start = w.w_start AND s.span_end = w.w_end            -- span, each saying whether the customer was
    WHERE w.w_spanned                                                 -- active in the span before (nothing to group)
),
window_previous AS (  -- per window with any: the customers active in the previous one (a window the spans hold: the
                      -- rows of its previous span)
    SELECT w, count(*) FILTER (WHERE was_active) AS previous_active
    FROM window_customers WHERE w IN (SELECT w FROM windows WHERE NOT w_spanned) GROUP BY w
    UNION ALL
    SELECT w.w, count(*)
    FROM windows w JOIN customer_spans_in_scope s ON s.span_start = w.w_prev_start AND s.span_end = w.w_start - 1
    WHERE w.w_spanned GROUP BY w.w
)
"""


def window_customers(periods: list[Period]) -> str:
    """The `window_customers` and `window_previous` CTEs for these windows: from the customer-month rollup when every
    window spans whole months (the rollup then holds exactly the same orders), else from the orders."""
    return WINDOW_CUSTOMERS_BY_MONTH if all(p.whole_months for p in periods) else WINDOW_CUSTOMERS


# New and repeat customers come from the customers' first and second orders, one row each, rather than
# from every customer active in a window: a customer is new in a window when its first order falls in it,
# and an active customer lacks a second order by the window's as-of date exactly when its only order up
# to then is its first and falls in the window (a window counts no order after its as-of date; see
# `scope.params`).
ACTIVITY_BY_WINDOW = """
first_orders AS (  -- per window: customers whose first order falls in it, and those of them without a second order
                   -- by its as-of date
    SELECT w.w, count(b.customer_id) AS new,
           count(b.customer_id) FILTER (WHERE b.second_order IS NULL OR b.second_order > w.w_as_of) AS single_order
    FROM windows w LEFT JOIN buyers b ON b.first_order BETWEEN w.w_start AND w.w_end
    GROUP BY w.w
),
window_activity AS (  -- per window: active customers, orders, revenue, and the previous window's customers kept
    SELECT w.w,
           count(c.customer_id) FILTER (WHERE c.orders > 0) AS active,
           coalesce(sum(c.orders), 0)::BIGINT AS orders,
           coalesce(sum(c.revenue), 0)::DOUBLE AS revenue,
           count(c.customer_id) FILTER (WHERE c.was_active AND c.orders > 0) AS retained
    FROM windows w LEFT JOIN window_customers c ON c.w = w.w
    GROUP BY w.w
),
activity AS (  -- churned: the previous window's customers not kept
    SELECT a.w, a.active, f.new, a.active - f.new AS returning, a.active - f.single_order AS repeat_active,
           a.orders, a.revenue, coalesce(p.previous_active, 0) AS previous_active, a.retained,
           coalesce(p.previous_active, 0) - a.retained AS churned
    FROM window_activity a JOIN first_orders f USING (w) LEFT JOIN window_previous p USING (w)
)
"""


def activity_by_window(con: duckdb.DuckDBPyConnection, periods: list[Period]) -> list[dict]:
    """Per period: active customers (≥1 order in it), new (first-ever order in it), returning (active,
    with an order before it), orders, net revenue, repeat-customer rate (of the active customers, the
    share with ≥2 orders up to the period's as-of date), and retention over the previous period of the
    same length (active in both ÷ active in the previous; churned: active before, not now)."""
    sql = window_customers(periods) + "," + ACTIVITY_BY_WINDOW + "SELECT * FROM activity ORDER BY w"
    out = [{k: v for k, v in figures.items() if k != "w"} for figures in rows(con, sql, anchor(periods), windows=periods)]
    for figures in out:
        figures["repeat_customer_rate"] = ratio(figures["repeat_active"], figures["active"])
        figures["retention"] = ratio(figures["retained"], figures["previous_active"])
    return out


ACTIVE_FROM_SPANS = """
SELECT w.w, count(s.customer_id) AS active  -- a window the spans hold: its customers' rows of the span
FROM windows w LEFT JOIN customer_spans_in_scope s ON s.span_start = w.w_start AND s.span_end = w.w_end
WHERE w.w_spanned GROUP BY w.w
"""

ACTIVE_FROM = """
SELECT w.w, count(DISTINCT d.customer_id) AS active  -- else the customers with an order between its first and last day
FROM windows w LEFT JOIN {source} d ON d.{day} BETWEEN w.w_start AND w.w_end
WHERE NOT w.w_spanned GROUP BY w.w
"""


def active_by_window(con: duckdb.DuckDBPyConnection, periods: list[Period]) -> list[int]:
    """Per period, its active customers (≥1 order in it; `activity_by_window`'s `active`) without the rest of the
    activity figures: from the spans' rows for a calendar month or a span they hold, else from the customer months
    when every period spans whole months (the months then hold the same orders), else from the orders."""
    source, day = (("customer_months_in_scope", "month") if all(p.whole_months for p in periods)
                   else ("orders_in_scope", "order_date"))
    sql = ("windowed AS (" + ACTIVE_FROM_SPANS + " UNION ALL " + ACTIVE_FROM.format(source=source, day=day)
           + ") SELECT active FROM windowed ORDER BY w")
    return [int(row["active"]) for row in rows(con, sql, anchor(periods), windows=periods)]


def activity(con: duckdb.DuckDBPyConnection, period: Period) -> dict:
    """Active, new and returning customers, orders, net revenue and the repeat-customer rate of the period
    (see `activity_by_window`)."""
    return activity_by_window(con, [period])[0]


def retention(con: duckdb.DuckDBPyConnection, period: Period) -> dict:
    """Retention over the previous period of the same length: previous_active, retained, churned and
    retention = retained ÷ previous_active (None when nobody was active before)."""
    figures = activity(con, period)
    return {k: figures[k] for k in ("previous_active", "retained", "churned", "retention")}


BUYERS_WITHOUT_GAPS = """
buyers_without_gaps AS (SELECT *, NULL::DOUBLE AS median_gap FROM buyers)
"""

LAPSED = f"""
allowed AS (  -- per customer with an order: days since the last one, and the days allowed without an order
    SELECT b.customer_id, b.last_order, date_diff('day', b.last_order, $as_of) AS days_since_last,
           b.orders, b.revenue::DOUBLE AS revenue, b.median_gap,
           CASE WHEN b.median_gap IS NOT NULL THEN 3 * b.median_gap ELSE $window END AS allowed_days
    FROM {{buyers}} b
)
SELECT *, printf('lapsed: no order for %d day%s (allowed %d)', days_since_last, {plural('days_since_last')},
                 CAST(ceil(allowed_days) AS INTEGER)) AS reason
FROM allowed WHERE days_since_last > allowed_days
ORDER BY revenue DESC, customer_id
"""


def lapsed_customers(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Customers with no order for longer than the churn window up to the as-of date (default 365 days;
    with `lapsed_by_own_gap`, 3× the customer's own median gap between orders when it has one), by revenue."""
    settings = get_settings(con)
    # the gaps need a sort of every order unless the rollups hold them: only when asked
    buyers = "buyers_and_gaps" if settings["lapsed_by_own_gap"] else "buyers_without_gaps"
    return frame(con, BUYERS_WITHOUT_GAPS + "," + LAPSED.format(buyers=buyers), period,
                 window=settings["churn_window_days"])
