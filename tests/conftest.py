"""Shared fixtures: a fresh database per test, a read-only demo store, and Streamlit caches cleared
between AppTest runs."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from loyalty.access import LOCAL_USER
from loyalty.db import session
from loyalty.demo import load_demo


@pytest.fixture
def db_file(tmp_path, monkeypatch) -> Path:
    """A fresh database file, also made the default ($LOYALTY_DB) for code under test."""
    path = tmp_path / "loyalty.duckdb"
    monkeypatch.setenv("LOYALTY_DB", str(path))
    return path


@pytest.fixture
def con(db_file):
    with session(db_file) as connection:
        yield connection


@pytest.fixture
def write(tmp_path):
    """Write a text file under tmp_path and return its path."""
    def _write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path
    return _write


@pytest.fixture(autouse=True)
def clear_streamlit_caches():
    """Caches outlive AppTest instances within one pytest process: start every test cold, and let go of the
    database an AppTest run left attached (`loyalty.db.hold_open`)."""
    import streamlit as st

    from loyalty.db import release_hold

    st.cache_data.clear()
    st.cache_resource.clear()
    main = sys.modules["__main__"]
    yield
    release_hold()
    sys.modules["__main__"] = main   # an AppTest run leaves its script there; a spawned child (the bench's pandas
                                     # side) would run it and die, and its pool wait for good


@pytest.fixture
def shop(con):
    """The hand-worked shop of tests/shop.py in a fresh database."""
    from .shop import SHOP_CUSTOMERS, SHOP_ORDERS, SHOP_SURVEYS, SHOP_TICKETS, insert

    for kind, rows in (("orders", SHOP_ORDERS), ("customers", SHOP_CUSTOMERS), ("tickets", SHOP_TICKETS),
                       ("surveys", SHOP_SURVEYS)):
        insert(con, kind, rows)
    return con


@pytest.fixture
def year():
    from .shop import YEAR_2024

    return YEAR_2024


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo data set at 300 customers (seed 7), shared by page and model tests: read-only (copy it
    before changing it)."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with session(path) as connection:
        load_demo(connection, customers=300, seed=7, user=LOCAL_USER)
    return path

