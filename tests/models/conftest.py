"""A small demo store shared by the model tests (read-only: copy it before changing it)."""
from __future__ import annotations

import pytest

from loyalty.access import LOCAL_USER
from loyalty.db import session
from loyalty.demo import load_demo


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    """The demo data set at 300 customers (seed 7), as the page tests use it."""
    path = tmp_path_factory.mktemp("models-demo") / "demo.duckdb"
    with session(path) as con:
        load_demo(con, customers=300, seed=7, user=LOCAL_USER)
    return path
