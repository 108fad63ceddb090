"""The small set of Streamlit helpers the pages share: store access, caching on the data version,
safe CSV downloads, the empty-database call to action. The only module of `loyalty` that imports
Streamlit."""
from __future__ import annotations

import importlib
from contextlib import contextmanager
from typing import Callable, Iterator

import pandas as pd
import streamlit as st

from .db import StoreBusy, data_version, session
from .period import Filters, Period, resolve_period
from .store_summary import filter_options

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
def _cached_call(function: str, version: str, args: tuple, kwargs: tuple):
    module, name = function.rsplit(".", 1)
    fn = getattr(importlib.import_module(module), name)
    with session() as con:
        return fn(con, *args, **dict(kwargs))


def cached(fn: Callable, *args, **kwargs):
    """fn(con, *args, **kwargs), cached until the data or settings change: the key is the data version
    (latest batch, undos, settings) plus the arguments (a Period carries the filters)."""
    return _cached_call(f"{fn.__module__}.{fn.__name__}", current_version(), args, tuple(sorted(kwargs.items())))


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


PERIOD_CHOICES = {"12m": "Last 12 full months", "custom": "Custom dates"}


def filter_sidebar() -> Period | None:
    """The shared filters (kept in the URL, so a link reproduces the view); None on an empty store."""
    options = cached(filter_options)
    if options["last_order"] is None:
        return None
    first, last = options["first_order"], options["last_order"]
    with st.sidebar:
        st.subheader("View")
        as_of = st.date_input("As of", value=last, min_value=first, max_value=max(last, first),
                              key="as_of", bind="query-params", format="YYYY-MM-DD")
        choice = st.selectbox("Period", list(PERIOD_CHOICES), format_func=PERIOD_CHOICES.get,
                              key="period", bind="query-params")
        start = end = None
        if choice == "custom":
            default = resolve_period(last, as_of)
            start = st.date_input("From", value=default.start, key="from", bind="query-params", format="YYYY-MM-DD")
            end = st.date_input("To", value=default.end, key="to", bind="query-params", format="YYYY-MM-DD")
        filters = Filters(
            regions=tuple(st.multiselect("Region", options["regions"], key="region", bind="query-params")),
            industries=tuple(st.multiselect("Industry", options["industries"], key="industry", bind="query-params")),
            channels=tuple(st.multiselect("Channel", options["channels"], key="channel", bind="query-params")),
            sales_reps=tuple(st.multiselect("Sales rep", options["sales_reps"], key="rep", bind="query-params")),
        )
    try:
        return resolve_period(last, as_of, start, end, filters)
    except ValueError as exc:
        st.sidebar.error(str(exc))
        return resolve_period(last, as_of, None, None, filters)


def period_caption(period: Period) -> str:
    """One line saying what the page shows."""
    prev = period.previous()
    parts = [f"{period.start:%d %b %Y} – {period.end:%d %b %Y}, as of {period.as_of:%d %b %Y}",
             f"compared with {prev.start:%d %b %Y} – {prev.end:%d %b %Y}"]
    chosen = [", ".join(v) for v in (period.filters.regions, period.filters.industries,
                                     period.filters.channels, period.filters.sales_reps) if v]
    if chosen:
        parts.append("filtered to " + "; ".join(chosen))
    return " · ".join(parts)


def view_period() -> Period | None:
    """The period and filters chosen in the sidebar for this run (None on an empty store)."""
    return st.session_state.get("view_period")


TABLE_ROWS = 500


def time_formats(frame: pd.DataFrame) -> dict:
    """Column formats for date and time columns: a day without a time of day shows as a plain date."""
    formats = {}
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            values = frame[column].dropna()
            dates_only = values.empty or bool((values == values.dt.normalize()).all())
            formats[column] = (st.column_config.DateColumn(format="YYYY-MM-DD") if dates_only
                               else st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"))
    return formats


def show_table(frame: pd.DataFrame, file_name: str, key: str) -> None:
    """A table of at most TABLE_ROWS rows on screen, always downloadable whole."""
    if frame.empty:
        st.info("Nothing to show for this selection.")
        return
    st.dataframe(frame.head(TABLE_ROWS), hide_index=True, key=f"table-{key}", column_config=time_formats(frame))
    if len(frame) > TABLE_ROWS:
        st.caption(f"Showing the first {TABLE_ROWS:,} of {len(frame):,} rows; the download has them all.")
    download_csv(frame, file_name, f"Download all {len(frame):,} rows as CSV", key=f"dl-{key}")


EMPTY_STORE = ("The database holds no orders yet. Upload your orders export on the **Data** page (customer, date "
               "and amount are enough), or explore the product with the demo data set.")


def analytics_page(title: str) -> Period:
    """The head of every analytics page: its title and the period line; on an empty store, the call to
    action instead, and the page stops there."""
    st.title(title)
    period = view_period()
    if period is None:
        offer_demo(EMPTY_STORE)
        st.page_link("app_pages/data.py", label="Go to the Data page", icon=":material/upload_file:")
        st.stop()
    st.caption(period_caption(period))
    return period
