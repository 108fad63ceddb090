"""The one module that opens the DuckDB file: short-lived connections, a bounded wait for the lock, the schema.

DuckDB lets one process write a database file at a time. Every caller (app, CLI, tests) opens the
file for one operation through `session()` and closes it right after, so a scheduled import can run
while the app is up: a process that finds the file busy retries for `LOYALTY_LOCK_WAIT` seconds
(default 30), then raises `StoreBusy` naming the process that holds it. The app keeps the file attached a
few seconds after each script run (`hold_open`), so the next run does not attach it again. DuckDB's memory
is capped (`memory_limit()`), so large imports spill to disk instead of growing without bound.
"""
from __future__ import annotations

import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

import duckdb

from .rollups import ensure_rollups, stale_rollups
from .schema import KINDS, SPECS

DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "loyalty.duckdb"


class StoreBusy(RuntimeError):
    """The database file is held by another process longer than we are willing to wait."""


def db_path(path: str | os.PathLike | None = None) -> Path:
    """The database file: the argument, else $LOYALTY_DB, else data/loyalty.duckdb."""
    return Path(path or os.environ.get("LOYALTY_DB") or DEFAULT_DB)


def quote_ident(name: str) -> str:
    """Quote an identifier (a column name from a user's file) for DuckDB SQL text."""
    return '"' + str(name).replace('"', '""') + '"'


def _lock_holder(message: str) -> str:
    match = re.search(r"PID (\d+)", message)
    if not match:
        return "another program"
    pid = match.group(1)
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        cmd = ""
    return f"process {pid} ({cmd})" if cmd else f"process {pid}"


def memory_limit() -> str:
    """DuckDB's memory cap for this process: $LOYALTY_MEMORY_LIMIT, default 2GB. Beyond it DuckDB spills to
    `<database>.tmp/`, so importing a 1 GB file does not need ten times its size in memory."""
    return os.environ.get("LOYALTY_MEMORY_LIMIT") or "2GB"


def lock_wait() -> float:
    """Seconds a writer waits for the database: $LOYALTY_LOCK_WAIT, default 30."""
    return float(os.environ.get("LOYALTY_LOCK_WAIT", 30))


_WRITER = threading.Lock()
# Threads of one process share the open database; DuckDB refuses to attach the file ("Unique file handle
# conflict") while another thread's closing of the last connection is detaching it. Opening and closing
# take turns.
_ATTACHING = threading.Lock()


WRITING = "Another import or undo is running in this app: try again when it has finished."
UPDATING = "Another session of this app is bringing the database up to date: try again in a moment."


@contextmanager
def write_transaction(con: duckdb.DuckDBPyConnection, commit: bool = True, busy: str = WRITING) -> Iterator[None]:
    """An import's or undo's transaction, one at a time in this process: COMMIT when the block ends
    (ROLLBACK instead when `commit` is false, as for a dry run), ROLLBACK when it raises.

    Connections of one process share the database, and DuckDB lets their transactions run side by side:
    two imports of the same new keys would each see them absent and both insert them. So a second writer
    waits `lock_wait()` seconds for the first, then raises StoreBusy saying `busy`. (Processes are kept apart by
    the file lock.)"""
    if not _WRITER.acquire(timeout=lock_wait()):
        raise StoreBusy(busy)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT" if commit else "ROLLBACK")
    finally:
        _WRITER.release()


def connect(path: str | os.PathLike | None = None, wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the database (creating it and its schema when new), waiting a bounded time for the lock."""
    target = db_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + (lock_wait() if wait is None else wait)
    while True:
        try:
            con = _attach(target)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    f"The database {target} is busy: {_lock_holder(str(exc))} is using it; "
                    "try again when it has finished."
                ) from None
            time.sleep(0.2)
    _set_up(con)
    ensure_schema(con)
    return con


def _attach(target: Path) -> duckdb.DuckDBPyConnection:
    """A connection to the file with this process's configuration (DuckDB refuses one with another while the file
    is attached), not while another thread closes one (see `_ATTACHING`)."""
    with _ATTACHING:
        return duckdb.connect(str(target), config={"memory_limit": memory_limit()})


def _set_up(con: duckdb.DuckDBPyConnection) -> None:
    """What every connection and cursor needs: timestamps read and shown in UTC (DuckDB's TimeZone belongs to
    each connection; a cursor starts from the database's default, the machine's time zone)."""
    con.execute("SET TimeZone = 'UTC'")


Result = TypeVar("Result")
WORKERS = max(2, os.cpu_count() or 2)  # threads beside the caller's: a page's queries are small enough at 1M orders
                                       # that each keeps about one core busy, so they overlap


class Call:
    """An engine call to make later, `fn(con, *args, **kwargs)`: a task for `side_by_side`, and what
    `loyalty.ui.cached_together` keys its cache on."""

    def __init__(self, fn: Callable, *args, **kwargs):
        self.fn, self.args, self.kwargs = fn, args, kwargs

    def __call__(self, con: duckdb.DuckDBPyConnection):
        return self.fn(con, *self.args, **self.kwargs)

    @property
    def key(self) -> tuple[str, tuple, tuple]:
        """What identifies the call with the data version: the function's dotted name, the arguments, and
        the keyword arguments sorted by name."""
        return f"{self.fn.__module__}.{self.fn.__name__}", self.args, tuple(sorted(self.kwargs.items()))


def side_by_side(con: duckdb.DuckDBPyConnection,
                 tasks: Sequence[Callable[[duckdb.DuckDBPyConnection], Result] | None]) -> list[Result | None]:
    """Run read-only tasks at once and return their results in the tasks' order (None for a task given as
    None: one the caller skips). The first task runs in this thread on `con` (list the slowest first: a
    large result costs more to build in a fresh thread), the others in up to WORKERS threads, each
    `task(cursor)` on its own cursor of `con` (a DuckDB connection serves one thread at a time; its cursors
    share the open database). A task's exception is raised once every task has finished."""
    def on_own_cursor(task: Callable[[duckdb.DuckDBPyConnection], Result]) -> Result:
        cursor = con.cursor()
        try:
            _set_up(cursor)
            return task(cursor)
        finally:
            cursor.close()

    given = [task for task in tasks if task is not None]
    first, others = given[:1], given[1:]
    with ThreadPoolExecutor(max_workers=max(1, min(WORKERS, len(others)))) as pool:
        futures = [pool.submit(on_own_cursor, task) for task in others]
        done = [task(con) for task in first]
        results = iter(done + [future.result() for future in futures])
    return [None if task is None else next(results) for task in tasks]


@contextmanager
def session(path: str | os.PathLike | None = None, wait: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for one operation, closed on exit so other processes can get the file."""
    con = connect(path, wait)
    try:
        yield con
    finally:
        close(con)


def close(con: duckdb.DuckDBPyConnection) -> None:
    """Close a connection from `connect`, not while another thread opens one (see `_ATTACHING`)."""
    with _ATTACHING:
        con.close()


def hold_seconds() -> float:
    """Seconds the app keeps the database open after a script run: $LOYALTY_HOLD_OPEN, default 5 (0: none)."""
    return float(os.environ.get("LOYALTY_HOLD_OPEN", 5))


class _Hold:
    """A connection that runs nothing and keeps the database attached between the app's script runs (see
    `hold_open`), when it was opened, the timer that closes it and a count that tells a stale timer from the
    current one."""
    con: duckdb.DuckDBPyConnection | None = None
    path: Path | None = None
    since = 0.0
    timer: threading.Timer | None = None
    armed = 0


_HOLD = _Hold()
_HOLDING = threading.Lock()


def hold_open(path: str | os.PathLike | None = None, seconds: float | None = None) -> None:
    """Keep the database attached `seconds` longer (default `hold_seconds()`), counted from now. Call it while a
    connection of this process to the file is still open: the next `connect` within that time then finds the
    database attached with its data in memory (at 1M orders ~3 ms instead of ~21, and each page's first queries
    ~6–11 ms faster; at 10M the scorecard's ~60 ms). Another process waits for the file that much longer (at
    most `seconds` after the last run, within `LOYALTY_LOCK_WAIT`). A hold that has lasted half of
    `LOYALTY_LOCK_WAIT` lets go instead of going on, so a writer waiting for the file gets a turn between runs even
    while someone keeps clicking; the next run starts a new one."""
    seconds = hold_seconds() if seconds is None else seconds
    target = db_path(path)
    with _HOLDING:
        overdue = _HOLD.con is not None and time.monotonic() - _HOLD.since >= lock_wait() / 2
        if _HOLD.path != target or seconds <= 0 or overdue:
            _let_go()
        if seconds <= 0 or overdue:
            return
        if _HOLD.con is None:
            _HOLD.con, _HOLD.path, _HOLD.since = _attach(target), target, time.monotonic()
        if _HOLD.timer is not None:
            _HOLD.timer.cancel()
        _HOLD.armed += 1
        _HOLD.timer = threading.Timer(seconds, release_hold, kwargs={"armed": _HOLD.armed})
        _HOLD.timer.daemon = True
        _HOLD.timer.start()


def release_hold(armed: int | None = None) -> None:
    """Close the held connection now (a timer passes the `armed` count it was set for: a later `hold_open` has
    set another, and this one lets go only if none has)."""
    with _HOLDING:
        if armed is None or armed == _HOLD.armed:
            _let_go()


def _let_go() -> None:
    if _HOLD.timer is not None:
        _HOLD.timer.cancel()
    if _HOLD.con is not None:
        close(_HOLD.con)
    _HOLD.con, _HOLD.path, _HOLD.timer = None, None, None


def _table_ddl(kind: str, table: str) -> str:
    spec = SPECS[kind]
    cols = [f"{spec.key} VARCHAR NOT NULL"]
    cols += [f"{c.name} {c.sql_type}" for c in spec.stored_columns]
    cols.append("batch_id BIGINT NOT NULL")
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  " + ",\n  ".join(cols) + "\n)"


BOOKKEEPING_DDL = (
    "CREATE SEQUENCE IF NOT EXISTS batch_seq START 1",
    """CREATE TABLE IF NOT EXISTS import_batches (
        id BIGINT PRIMARY KEY,
        kind VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL,
        inserted BIGINT NOT NULL,
        updated BIGINT NOT NULL,
        unchanged BIGINT NOT NULL,
        rejected BIGINT NOT NULL,
        status VARCHAR NOT NULL,          -- committed | rejected | undone
        uploaded_by VARCHAR,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        undone_at TIMESTAMP,
        mapping JSON
    )""",
    """CREATE TABLE IF NOT EXISTS rejected_rows (
        batch_id BIGINT NOT NULL,
        line BIGINT,
        reason VARCHAR NOT NULL,
        raw VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS settings (
        key VARCHAR PRIMARY KEY,
        value JSON NOT NULL,
        updated_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS saved_mappings (
        name VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        mapping JSON NOT NULL,
        saved_at TIMESTAMP NOT NULL,
        PRIMARY KEY (name, kind)
    )""",
)


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """The database's tables, each with its column names (one query: every connection asks on opening)."""
    return {name: set(columns) for name, columns in con.execute(
        """SELECT table_name, list(column_name) FROM duckdb_columns() WHERE database_name = current_database()
           GROUP BY table_name""").fetchall()}


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table that is missing. The current rows of a kind live in `<kind>` (each with the batch
    that brought it); the versions later batches replaced live in `<kind>_history`: together they are
    every version of every batch still in force, which is what makes any batch undoable.

    A store that needs anything (new, or made by an older version) gets it in one write transaction, looked at
    again inside it: two threads of this process opening it at once would otherwise both write the same tables,
    and one fail on DuckDB's write-write conflict."""
    if _complete(_tables(con)):
        return
    with write_transaction(con, busy=UPDATING):
        tables = _tables(con)   # as another thread may have just left them
        if "import_batches" not in tables:
            for statement in BOOKKEEPING_DDL:
                con.execute(statement)
            for kind in KINDS:
                con.execute(_table_ddl(kind, kind))
                con.execute(_table_ddl(kind, f"{kind}_history"))
        if "orders_versions" in tables:
            _history_from_versions(con)
        ensure_rollups(con, tables)   # (the steps above make no rollup table)


def _complete(tables: dict[str, set[str]]) -> bool:
    """Whether a database has every table as this version makes it."""
    return "import_batches" in tables and "orders_versions" not in tables and not stale_rollups(tables)


def _history_from_versions(con: duckdb.DuckDBPyConnection) -> None:
    """A database made before `<kind>_history` kept every version, current ones too, in `<kind>_versions`:
    keep the versions that are not current as the history and drop the copy of the current ones."""
    for kind in KINDS:
        key = SPECS[kind].key
        con.execute(_table_ddl(kind, f"{kind}_history"))
        con.execute(f"""INSERT INTO {kind}_history
                        SELECT v.* FROM {kind}_versions v
                        ANTI JOIN {kind} c ON c.{key} = v.{key} AND c.batch_id = v.batch_id""")
        con.execute(f"DROP TABLE {kind}_versions")


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None):
    """The single value of a one-row, one-column query (fetched whole, so the connection stays usable)."""
    return con.execute(sql, params or []).fetchall()[0][0]


def data_version(con: duckdb.DuckDBPyConnection) -> str:
    """A token that changes whenever data or settings change: the cache key of every query result."""
    batches, last, undone = con.execute(
        "SELECT count(*), coalesce(max(id), 0), count(undone_at) FROM import_batches"
    ).fetchall()[0]
    settings = scalar(con, "SELECT coalesce(max(updated_at)::VARCHAR, '') FROM settings")
    return f"{last}.{batches}.{undone}.{settings}"
