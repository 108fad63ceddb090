"""The predictive layer (issue 6): `clv` (BG/NBD and Gamma-Gamma) and `value` (per-customer lifetime
value with its guardrails), `clusters` (customer clusters), `churn` (churn risk on monthly snapshots),
`rules` (the product's rules of thumb tested on the data). Features come from DuckDB (SQL over the
engine's scope); only the per-customer model inputs and the small results live in pandas.
"""
from __future__ import annotations

from threadpoolctl import threadpool_limits

PARALLEL_FROM_ROWS = 100_000


def fitting_threads(rows: int):
    """A context for model fitting: one thread below PARALLEL_FROM_ROWS rows (where starting threads costs
    more than it saves, and badly so on a busy machine), the library's default above."""
    return threadpool_limits(limits=1 if rows < PARALLEL_FROM_ROWS else None)
