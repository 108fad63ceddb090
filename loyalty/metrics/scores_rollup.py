"""The `customer_scores` rollup: every customer's measures (recency, frequency, monetary value, quantity, tenure),
its five 1–5 scores (R, F, M, quantity, tenure; see `rfm.score`) and how many of the last 4 quarters hold an
order, as of the latest order date and without a filter: what the default views of RFM segments and super
customers read instead of scoring every customer again (at 10M orders, 427k customers: about 150 ms of CPU
for the super customers alone).

The scores rank the customers against each other, so any new order can move anybody's: `store_scores`
recomputes the table whole, inside every write's transaction, after the other rollups (`loyalty.rollups.refresh`),
from the same common table expressions the engine computes when the rollup does not answer (`scored_quarters`;
`scope.held_at_latest` says when it does).
"""
from __future__ import annotations

import duckdb

from .rfm import MEASURED_AS_OF, RFM, scores
from .scope import store_at_latest
from .stages import ORDER_CELLS, REFERRAL_LISTS, quarters_with_orders, snapshot_params

FIVE_SCORES = {**RFM, "q": ("quantity", "ASC"), "t": ("tenure_days", "ASC")}

SCORED_QUARTERS = MEASURED_AS_OF + "," + scores(FIVE_SCORES) + "," + ORDER_CELLS + f""",
scored_quarters AS (  -- every scored customer with how many of the as-of date's last 4 quarters hold one of its orders
    SELECT s.*, {quarters_with_orders('coalesce(k.cells, 0)', 'n')} AS quarters
    FROM scored s CROSS JOIN snapshots n LEFT JOIN customer_cells k USING (customer_id)
)"""

HELD_QUARTERS = REFERRAL_LISTS + """,
scored_quarters AS NOT MATERIALIZED (SELECT * FROM customer_scores)"""


def scored_quarters(held: bool) -> str:
    """The CTEs `scored_quarters` and `referral_lists`, the former read from the rollup when `held`
    (`scope.held_at_latest`)."""
    return HELD_QUARTERS if held else SCORED_QUARTERS


def store_scores(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute `customer_scores` from the current rollups (empty without orders)."""
    store_at_latest(con, "customer_scores", SCORED_QUARTERS + " SELECT * FROM scored_quarters",
                    lambda latest: snapshot_params([latest]))
