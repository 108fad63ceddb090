"""Shared fixtures: a fresh database per test, and Streamlit caches cleared between AppTest runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from loyalty.db import session


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
    """Caches outlive AppTest instances within one pytest process: start every test cold."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
