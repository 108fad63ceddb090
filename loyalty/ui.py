"""The small set of Streamlit helpers the pages share: store access, caching on the data version,
safe CSV downloads, the empty-database call to action. The only module of `loyalty` that imports
Streamlit."""
from __future__ import annotations

import importlib
import json
from contextlib import contextmanager
from typing import Callable, Iterator

import pandas as pd
import streamlit as st

from .db import StoreBusy, data_version, session

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@contextmanager
def store() -> Iterator:
    """A connection for one operation; a busy store becomes a clear on-screen message."""
    try:
        with session() as con:
            yield con
    except StoreBusy as exc:
        st.error(str(exc))
        st.stop()


def current_version() -> str:
    with store() as con:
        return data_version(con)


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_call(function: str, version: str, kwargs_json: str):
    module, name = function.rsplit(".", 1)
    fn = getattr(importlib.import_module(module), name)
    with session() as con:
        return fn(con, **json.loads(kwargs_json))


def cached(fn: Callable, **kwargs):
    """fn(con, **kwargs), cached until the data or settings change (the key is the data version)."""
    return _cached_call(f"{fn.__module__}.{fn.__name__}", current_version(),
                        json.dumps(kwargs, sort_keys=True, default=str))


def clear_caches() -> None:
    _cached_call.clear()


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas (a leading = + - @ gets a quote)."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v
            )
    return safe


def download_csv(frame: pd.DataFrame, file_name: str, label: str = "Download CSV", key: str | None = None) -> None:
    st.download_button(label, spreadsheet_safe(frame).to_csv(index=False).encode("utf-8"),
                       file_name=file_name, mime="text/csv", key=key or f"dl-{file_name}")


def current_user() -> str:
    """The signed-in user's e-mail, or 'local user' in single-user mode."""
    try:
        if st.user.is_logged_in:
            return str(st.user.email)
    except (AttributeError, KeyError):
        pass
    return "local user"


def offer_demo(message: str) -> None:
    """The empty-store call to action: what to upload, or the demo data in one click."""
    st.info(message)
    if st.button("Load the demo data set", type="primary", key="load-demo"):
        from .demo import load_demo

        with st.spinner("Generating and importing the demo data (5,000 customers)…"):
            with store() as con:
                load_demo(con)
        clear_caches()
        st.rerun()
