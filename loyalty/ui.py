"""The small set of Streamlit helpers the pages share: store access, caching on the data version,
the signed-in user and their role, safe CSV and XLSX downloads, the empty-database call to action.
The only module of `loyalty` that imports Streamlit.

Sign-in: when `.streamlit/secrets.toml` has an `[auth]` section, people sign in with Streamlit's
built-in OpenID Connect login, and the `[loyalty.roles]` table (see `loyalty.access`) gives each
address its role. Without `[auth]` the app runs in local single-user mode: whoever opens it is
`LOCAL_USER`, an admin, as on the command line.
"""
from __future__ import annotations

import importlib
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from .access import ADMIN, LOCAL_USER, RoleMap, User
from .db import Call, StoreBusy, close, connect, data_version, hold_open, session, side_by_side
from .downloads import csv_bytes, xlsx_bytes
from .formatting import header
from .period import Filters, Period, resolve_period
from .store_summary import filter_options

@contextmanager
def _busy_on_screen() -> Iterator:
    """A busy store (StoreBusy) becomes a clear on-screen message, and the run stops there."""
    try:
        yield
    except StoreBusy as exc:
        st.error(str(exc))
        st.stop()


@contextmanager
def store() -> Iterator:
    """A connection for one operation; a busy store becomes a clear on-screen message."""
    with _busy_on_screen(), session() as con:
        yield con


_RUN = threading.local()  # each session's script runs in its own thread: the run's connection lives here


def start_run() -> None:
    """Start a script run (app.py calls this first): forget the data version, so each run asks the database
    once, and let the run's cached calls share one connection (`reading`)."""
    st.session_state["data_version"] = None
    end_run()
    _RUN.active = True


def end_run() -> None:
    """End the script run: close its connection, if it opened one, keeping the database attached a few seconds
    for the next run (`loyalty.db.hold_open`); then another process (a scheduled import) can write the file."""
    con, _RUN.con, _RUN.active = getattr(_RUN, "con", None), None, False
    if con is not None:
        try:
            hold_open()
        finally:
            close(con)


@contextmanager
def reading() -> Iterator:
    """A connection to read with. Inside a script run, the run's own, opened at its first use and closed by
    `end_run`: opening the file costs tens of milliseconds, and a page whose results are not cached yet
    makes up to a dozen calls. Elsewhere (a download is built when clicked, in another thread) a connection
    of its own. A busy store becomes a clear on-screen message."""
    if not getattr(_RUN, "active", False):
        with store() as con:
            yield con
        return
    if getattr(_RUN, "con", None) is None:
        with _busy_on_screen():
            _RUN.con = connect()
    yield _RUN.con


def current_version() -> str:
    """The data version for this script run (read once per run, again after `clear_caches`)."""
    if st.session_state.get("data_version") is None:
        with reading() as con:
            st.session_state["data_version"] = data_version(con)
    return st.session_state["data_version"]


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_call(function: str, version: str, args: tuple, kwargs: tuple):
    module, name = function.rsplit(".", 1)
    fn = getattr(importlib.import_module(module), name)
    with reading() as con:
        return fn(con, *args, **dict(kwargs))


def cached(fn: Callable, *args, **kwargs):
    """fn(con, *args, **kwargs), cached until the data or settings change: the key is the data version
    (latest batch, undos, settings) plus the arguments (a Period carries the filters)."""
    return _through_cache(Call(fn, *args, **kwargs), current_version())


def _through_cache(call: Call, version: str):
    function, args, kwargs = call.key
    return _cached_call(function, version, args, kwargs)


def cached_together(*calls: Call | None) -> list:
    """`cached` for several calls at once, results in the calls' order (None for a call given as None, one the
    page skips): those not cached yet are computed side by side, the first in this thread on the run's
    connection, the others each on its own cursor of it (`loyalty.db.side_by_side`). A page asks for what its
    first screen needs this way; at a million orders that takes about three quarters of the time of one call
    after another."""
    version, context = current_version(), get_script_run_ctx()

    def task(call: Call) -> Callable:
        def on_cursor(cursor):
            add_script_run_ctx(threading.current_thread(), context)
            with _lent(cursor):
                return _through_cache(call, version)
        return on_cursor

    with reading() as con:
        return side_by_side(con, [None if call is None else task(call) for call in calls])


@contextmanager
def _lent(cursor) -> Iterator:
    """Let this thread's cached calls read with `cursor` (see `reading`), then restore what it had."""
    before = getattr(_RUN, "active", False), getattr(_RUN, "con", None)
    _RUN.active, _RUN.con = True, cursor
    try:
        yield
    finally:
        _RUN.active, _RUN.con = before


def clear_caches() -> None:
    """After a write: drop every cached result and the run's data version."""
    _cached_call.clear()
    st.session_state["data_version"] = None


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_table(frame: pd.DataFrame | Callable[[], pd.DataFrame], name: str, label: str = "Download",
                   key: str | None = None) -> None:
    """Two buttons side by side: '<label> as CSV' and '<label> as XLSX' (files name.csv, name.xlsx),
    both safe from spreadsheet formulas and built only when clicked (a CSV of 50,000 customers takes a
    second to build, on every run if built eagerly); `frame` may be a function giving the rows, called only
    then. A download does not rerun the page (a rerun started with the download could replace the file
    mid-download)."""
    key = key or f"dl-{name}"
    rows = frame if callable(frame) else lambda: frame
    with st.container(horizontal=True):
        st.download_button(f"{label} as CSV", lambda: csv_bytes(rows()), file_name=f"{name}.csv", mime="text/csv",
                           key=key, on_click="ignore")
        st.download_button(f"{label} as XLSX", lambda: xlsx_bytes(rows()), file_name=f"{name}.xlsx", mime=XLSX,
                           key=f"{key}-xlsx", on_click="ignore")


def oversized_uploads(files) -> list[str]:
    """One sentence per uploaded file above `server.maxUploadSize` (MB, set in .streamlit/config.toml). The
    browser's uploader refuses such files already; this repeats the check where the file arrives."""
    limit = st.get_option("server.maxUploadSize")
    return [f"{f.name} is {f.size / 2**20:,.1f} MB, above the upload limit of {limit:,} MB: split the export "
            f"(by month, for example), or import it with the command line (python -m loyalty import), which has "
            f"no size limit." for f in files if f.size > limit * 2**20]


def auth_configured() -> bool:
    """Whether `.streamlit/secrets.toml` has an [auth] section (sign-in is then required)."""
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def current_user() -> User | None:
    """The signed-in user with their role; LOCAL_USER without [auth]; None while nobody is signed in.
    A broken role map stops the page with its message (nobody gets a role by mistake)."""
    if not auth_configured():
        return LOCAL_USER
    if not st.user.get("is_logged_in", False):
        return None
    try:
        roles = RoleMap.from_config(st.secrets.get("loyalty", {}).get("roles", {}))
    except ValueError as exc:
        st.error(f"{exc} (in the [loyalty.roles] table of .streamlit/secrets.toml)")
        st.stop()
    return roles.user(str(st.user.get("email") or ""))


def signed_in_user() -> User:
    """The user this run acts for: asks for sign-in (and stops) when [auth] is configured and nobody is
    signed in; otherwise shows who is signed in, with which role, in the sidebar."""
    user = current_user()
    if user is None:
        st.title("Loyalty Lens")
        st.write("Sign in with your company account to see your customers' loyalty figures.")
        if st.button("Sign in", type="primary", key="sign-in"):
            st.login()
        st.stop()
    if user is LOCAL_USER:
        st.sidebar.caption("Local single-user mode: no sign-in is configured, so whoever opens this app may do "
                           "everything (admin).")
    elif not user.email:
        st.error("Your sign-in did not share an e-mail address, which decides what you may do here. Ask your "
                 "administrator to allow the 'email' scope, then sign in again.")
        st.button("Sign out", on_click=st.logout, key="sign-out")
        st.stop()
    else:
        st.sidebar.caption(f"Signed in as {user.email} · {user.role}")
        st.sidebar.button("Sign out", on_click=st.logout, key="sign-out")
    return user


def offer_demo(message: str) -> None:
    """The empty-store call to action: what to upload, or (for admins) the demo data in one click."""
    st.info(message)
    user = current_user()
    if not user.has(ADMIN):
        st.caption(f"Loading the demo data needs the admin role; you are signed in as {user.describe()}.")
        return
    if st.button("Load the demo data set", type="primary", key="load-demo"):
        from .demo import load_demo

        with st.spinner("Generating and importing the demo data (5,000 customers)…"):
            with store() as con:
                load_demo(con, user=user)
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


TABLE_ROWS = 500   # rows a table shows at a time: a browser grid stays quick, a selector pages through the rest

MONEY = "%,.0f"
COLUMN_FORMATS = {   # how the figures that recur in customer tables read on screen (downloads keep full precision)
    "revenue": st.column_config.NumberColumn(format=MONEY),
    "revenue_12m": st.column_config.NumberColumn("Revenue (12 months)", format=MONEY),
    "monetary": st.column_config.NumberColumn(format=MONEY),
    "expected_purchases_12m": st.column_config.NumberColumn("Expected purchases, 12 months", format="%.1f"),
    "clv_12m": st.column_config.NumberColumn("12-month CLV", format=MONEY),
    "p_alive": st.column_config.NumberColumn("P(alive)", format="percent"),
    "churn_risk": st.column_config.NumberColumn("Churn risk", format="percent"),
}


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


def table_config(frame: pd.DataFrame, column_config: dict | None = None) -> dict:
    """How a table's columns show on screen: readable headers (`formatting.header`), the recurring formats,
    plain dates, then the page's own `column_config`; a setting without a label gets the readable header (an
    empty label stays empty).
    Downloads keep the column names."""
    config = {column: header(column) for column in frame.columns}
    config.update(time_formats(frame))
    config.update({c: f for c, f in COLUMN_FORMATS.items() if c in frame.columns})
    config.update(column_config or {})
    return {column: {**setting, "label": header(column)} if isinstance(setting, dict) and setting.get("label") is None
            else setting for column, setting in config.items()}


def show_frame(frame: pd.DataFrame, column_config: dict | None = None, **options):
    """`st.dataframe` for a small result table, without its index unless `options` say so, with `table_config`."""
    return st.dataframe(frame, **{"hide_index": True, **options}, column_config=table_config(frame, column_config))


def page_rows(total: int, key: str) -> slice:
    """The rows of the page chosen in a selector drawn here (only when `total` exceeds one page), with a
    caption 'Rows a–b of N'. Streamlit keeps the chosen page while it exists, else starts over at the first."""
    if total <= TABLE_ROWS:
        return slice(0, total)
    # the selector in a row of its own: beside the caption it showed "1" alone for 2 pages and "1 … 3" for 3
    # (Streamlit's pagination hides page buttons to fit the room it measures there)
    first = _first_row(st.pagination(-(-total // TABLE_ROWS), key=_selector(key)))
    last = min(first + TABLE_ROWS, total)
    st.caption(f"Rows {first + 1:,}–{last:,} of {total:,}, {TABLE_ROWS:,} a page; the download has them all.")
    return slice(first, last)


def page_start(key: str) -> int:
    """The first row of the page that the table keyed `key` (see `page_rows`) showed in the session's last
    run, 0 before: to fetch that page beside other calls before the table is drawn."""
    return _first_row(st.session_state.get(_selector(key), 1))


def _selector(key: str) -> str:
    """The widget key of the page selector of the table keyed `key`."""
    return f"page-{key}"


def _first_row(page: int) -> int:
    return (page - 1) * TABLE_ROWS


def show_table(frame: pd.DataFrame, name: str, key: str, column_config: dict | None = None,
               selectable: bool = False) -> pd.Series | None:
    """A table one page of TABLE_ROWS rows at a time (a page selector under it when it has more), always
    downloadable whole. Recurring figures get COLUMN_FORMATS, dates plain dates; `column_config` adds to them.
    With `selectable`, clicking a row reruns the page and the chosen row is returned (else None); the grid is
    keyed by its page, so a selection never carries over to another page."""
    return show_rows(len(frame), lambda rows: frame.iloc[rows], frame, name, key, column_config, selectable)


def show_rows(total: int, page_of: Callable[[slice], pd.DataFrame], whole: pd.DataFrame | Callable[[], pd.DataFrame],
              name: str, key: str, column_config: dict | None = None, selectable: bool = False) -> pd.Series | None:
    """`show_table` for `total` rows fetched a page at a time (`page_of(rows)`), with `whole` (or the function
    giving it, called on a download click) for the downloads: for tables too long to load at once."""
    if not total:
        st.info("Nothing to show for this selection.")
        return None
    grid = st.container()
    rows = page_rows(total, key)
    shown = page_of(rows)
    selection = dict(on_select="rerun", selection_mode="single-row") if selectable else {}
    with grid:
        picked = show_frame(shown, column_config, key=f"table-{key}-{rows.start}", **selection)
    download_table(whole, name, f"Download all {total:,} rows" if total > 1 else "Download the row", key=f"dl-{key}")
    chosen = picked.selection.rows if selectable and picked.selection else []
    return shown.iloc[chosen[0]] if chosen else None


EMPTY_STORE = ("The database holds no orders yet. Upload your orders export on the **Data** page (customer, date "
               "and amount are enough), or explore the product with the demo data set.")


def caption_missing(missing: dict, labels: dict[str, str] | None = None, consequence: str = "") -> None:
    """A caption per figure whose inputs are absent (`missing`: name -> Unavailable or None, as the engine's
    `*_availability` give them): "<label>: not available: needs …<consequence>."; labels default to the names."""
    for name, unavailable in missing.items():
        if unavailable is not None:
            st.caption(f"{(labels or {}).get(name, name)}: {unavailable}{consequence}.")


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
