"""Circumstantial loyalty and account coverage: discount-dependent and single-product customers, and how
many reps cover each account (relationships that depend on one rep leave with that rep).

Discount dependence needs the orders' discounts and the single-product flag their products;
`circumstantial_availability` says which are missing (such a flag is never raised), and without either
the orders are not read at all."""
from __future__ import annotations

import duckdb
import pandas as pd

from ..period import Period
from .scope import Inputs, Unavailable, empty_frame, frame

CIRCUMSTANTIAL = """
recent AS (
    SELECT customer_id, count(*) AS orders_12m, sum(amount)::DOUBLE AS revenue_12m,
           sum(amount) FILTER (WHERE discount > 0)::DOUBLE AS discounted_12m,
           count(product) = count(*) AND min(product) = max(product) AS one_product, min(product) AS product
    FROM orders_in_scope WHERE order_date > $as_of - INTERVAL 12 MONTH
    GROUP BY customer_id
)
SELECT customer_id, orders_12m, revenue_12m,
       revenue_12m > 0 AND coalesce(discounted_12m, 0) >= 0.8 * revenue_12m AS discount_dependent,
       orders_12m >= 3 AND one_product AS single_product,
       CASE WHEN orders_12m >= 3 AND one_product THEN product END AS only_product,
       round(100 * coalesce(discounted_12m, 0) / nullif(revenue_12m, 0)) AS discounted_pct
FROM recent
WHERE (revenue_12m > 0 AND coalesce(discounted_12m, 0) >= 0.8 * revenue_12m) OR (orders_12m >= 3 AND one_product)
ORDER BY revenue_12m DESC, customer_id
"""


def circumstantial_availability(con: duckdb.DuckDBPyConnection, inputs: Inputs | None = None) -> dict[str, Unavailable | None]:
    """Per flag (discount_dependent, single_product), what is missing for it to be judged (None when it can be)."""
    inputs = inputs or Inputs(con)
    return {"discount_dependent": inputs.missing("orders.discount"), "single_product": inputs.missing("orders.product")}


CIRCUMSTANTIAL_COLUMNS = {"customer_id": "str", "orders_12m": "int64", "revenue_12m": "float64",
                          "discount_dependent": "bool", "single_product": "bool", "only_product": "str",
                          "discounted_pct": "float64"}


def circumstantial_loyalty(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Customers loyal to a circumstance over the last 12 months: discount-dependent (≥ 80% of revenue
    from discounted orders) or single-product (≥ 3 orders, all of one product); none, without a query, when
    neither flag can be raised."""
    if all(circumstantial_availability(con).values()):
        return empty_frame(CIRCUMSTANTIAL_COLUMNS)
    return frame(con, CIRCUMSTANTIAL, period)


COVERAGE = """
teams AS (
    SELECT b.customer_id, b.revenue::DOUBLE AS revenue,
           CASE WHEN c.account_team IS NOT NULL
                THEN len(list_filter(string_split(c.account_team, ';'), lambda rep: trim(rep) <> '')) END AS team_size
    FROM buyers b LEFT JOIN customers_in_scope c USING (customer_id)
)
SELECT CASE WHEN team_size IS NULL THEN 'unknown' WHEN team_size >= 3 THEN '3 or more reps'
            WHEN team_size = 2 THEN '2 reps' ELSE '1 rep' END AS account_team,
       count(*) AS customers, sum(revenue) AS revenue, sum(revenue) / sum(sum(revenue)) OVER () AS revenue_share
FROM teams GROUP BY ALL ORDER BY account_team
"""


def account_team_coverage(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Customers and revenue to date by the size of their account team."""
    return frame(con, COVERAGE, period)
