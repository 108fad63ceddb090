"""The predictive layer (issue 6): `clv` (BG/NBD and Gamma-Gamma) and `value` (per-customer lifetime
value with its guardrails), `clusters` (customer clusters), `churn` (churn risk on monthly snapshots),
`rules` (the product's rules of thumb tested on the data). Features come from DuckDB (SQL over the
engine's scope); only the per-customer model inputs and the small results live in pandas.
"""
from __future__ import annotations

from threadpoolctl import threadpool_limits


def fitting_threads():
    """A context in which scikit-learn fits on one thread. The app shares its cores with DuckDB and other
    sessions, and OpenMP's threads wait by spinning: on a busy 2-core machine a 250k-row gradient-boosting
    fit took 32 s on the default threads and 5.5 s on one (the permutation importance after it, 65 s and 7 s)."""
    return threadpool_limits(limits=1)
