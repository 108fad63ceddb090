"""Faults: an import killed mid-batch, two imports at once (two processes, two sessions of one process),
and a database file held by another process. After each, the database reopens and holds exactly the
rows it should: none lost, none doubled (checked by counts and by a checksum of the orders table)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from loyalty.access import LOCAL_USER
from loyalty.db import StoreBusy, session
from loyalty.importer import import_files

ROOT = Path(__file__).resolve().parent.parent
BASE = "order id,customer,date,amount\nB1,b1,2024-01-01,1.00\nB2,b2,2024-01-02,2.00\n"
TABLES = ("orders", "orders_history", "import_batches", "rejected_rows")


def orders_csv(path: Path, rows: int, prefix: str, first: int = 0) -> Path:
    """Orders `prefix`{first}..`prefix`{first + rows - 1}, one per line; amount = number mod 100 + 0.50."""
    con = duckdb.connect()
    con.execute(
        """COPY (SELECT $prefix || range AS "order id", 'c' || (range % 97) AS customer,
                        DATE '2024-01-01' + CAST(range % 300 AS INTEGER) AS date, range % 100 + 0.5 AS amount
                 FROM range($first, $last)) TO '""" + str(path).replace("'", "''") + "' (HEADER)",
        {"prefix": prefix, "first": first, "last": first + rows},
    )
    con.close()
    return path


def snapshot(db: Path) -> tuple[dict[str, int], str]:
    """Row counts of the import tables and an md5 of the whole orders table, in key order."""
    with session(db, wait=10) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}
        checksum = con.execute(
            """SELECT md5(coalesce(string_agg(concat_ws('|', order_key, customer_id, order_date, amount, batch_id),
                                              chr(10) ORDER BY order_key), ''))
               FROM orders"""
        ).fetchall()[0][0]
    return counts, checksum


@pytest.fixture
def db(tmp_path) -> Path:
    """A database holding one committed batch of two orders."""
    path = tmp_path / "faults.duckdb"
    base = tmp_path / "base.csv"
    base.write_text(BASE)
    with session(path) as con:
        import_files(con, "orders", [base], user=LOCAL_USER)
    return path


def cli(*args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "loyalty", *args], cwd=ROOT, text=True,
                            env={**os.environ, **(env or {})}, **popen)


def wait_until_open(proc: subprocess.Popen, path: Path, timeout: float = 60) -> None:
    """Block until process `proc` has `path` open: it is inside the import's transaction, reading the file."""
    target = str(path.resolve())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the import ended before it was caught reading"
        try:
            fds = os.listdir(f"/proc/{proc.pid}/fd")
        except FileNotFoundError:
            fds = []
        for fd in fds:
            try:
                if os.readlink(f"/proc/{proc.pid}/fd/{fd}") == target:
                    return
            except OSError:
                pass
        time.sleep(0.005)
    raise AssertionError(f"{path.name} was never opened")


# ---------------------------------------------------------------------------------- SIGKILL

def test_sigkill_while_reading_leaves_the_previous_state(db, tmp_path):
    """The plain CLI, killed while DuckDB reads the file inside the import's transaction."""
    before = snapshot(db)
    big = orders_csv(tmp_path / "big.csv", 1_500_000, "K")
    proc = cli("import", "orders", str(big), "--db", str(db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_open(proc, big)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert snapshot(db) == before
    with session(db) as con:  # still writable: the same file now lands whole
        assert import_files(con, "orders", [big], user=LOCAL_USER)[0].inserted == 1_500_000
    counts, _ = snapshot(db)
    assert counts == {"orders": 1_500_002, "orders_history": 0, "import_batches": 2, "rejected_rows": 0}


KILL_AFTER_WRITE = """
import sys, time
from loyalty import importer
from loyalty.cli import main

real_write = importer._write

def write_then_stall(con, table, batch_id, keyed):
    real_write(con, table, batch_id, keyed)
    count = con.execute("SELECT count(*) FROM orders").fetchall()[0][0]
    print("written", count, flush=True)  # every row is in the open transaction; the parent kills us now
    time.sleep(120)

importer._write = write_then_stall
sys.exit(main(sys.argv[1:]))
"""


def test_sigkill_after_the_rows_are_written_but_before_commit(db, tmp_path):
    """The CLI's own code with a hook that reports when every row is written inside the transaction."""
    before = snapshot(db)
    new = orders_csv(tmp_path / "new.csv", 20_000, "N")
    proc = subprocess.Popen([sys.executable, "-c", KILL_AFTER_WRITE, "import", "orders", str(new), "--db", str(db)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout.readline().split() == ["written", "20002"]  # seen from inside: 2 + 20,000
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert snapshot(db) == before


# ---------------------------------------------------------------------------------- two at once

def test_two_processes_at_once_both_land_complete(db, tmp_path):
    first = orders_csv(tmp_path / "first.csv", 400_000, "F")
    second = orders_csv(tmp_path / "second.csv", 1_000, "S")
    a = cli("import", "orders", str(first), "--db", str(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until_open(a, first)  # a holds the database
    b = cli("import", "orders", str(second), "--db", str(db), env={"LOYALTY_LOCK_WAIT": "120"},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outs = [p.communicate(timeout=300) for p in (a, b)]
    assert [p.returncode for p in (a, b)] == [0, 0], [err for _, err in outs]
    assert [json.loads(out)["inserted"] for out, _ in outs] == [400_000, 1_000]
    counts, _ = snapshot(db)
    assert counts == {"orders": 401_002, "orders_history": 0, "import_batches": 3, "rejected_rows": 0}
    with session(db) as con:
        assert con.execute("SELECT count(DISTINCT order_key) FROM orders").fetchall() == [(401_002,)]


def test_a_second_process_beyond_the_wait_is_refused_clearly(db, tmp_path):
    # The first import must still hold the file when the second process has started and waited: 1.5M orders
    # take several times longer than that (400,000 once finished first, once imports got faster).
    first = orders_csv(tmp_path / "first.csv", 1_500_000, "F")
    second = orders_csv(tmp_path / "second.csv", 1_000, "S")
    a = cli("import", "orders", str(first), "--db", str(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until_open(a, first)
    b = cli("import", "orders", str(second), "--db", str(db), env={"LOYALTY_LOCK_WAIT": "0.5"},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_b, err_b = b.communicate(timeout=60)
    out_a, err_a = a.communicate(timeout=300)
    assert (a.returncode, b.returncode, out_b) == (0, 1, "")
    assert err_b.startswith(f"error: The database {db} is busy: process {a.pid} (") and err_b.endswith(
        "is using it; try again when it has finished.\n"), err_b
    assert err_b.count("\n") == 1 and "Traceback" not in err_b
    counts, _ = snapshot(db)
    assert counts == {"orders": 1_500_002, "orders_history": 0, "import_batches": 2, "rejected_rows": 0}


def test_two_sessions_of_one_process_with_overlapping_keys(db, tmp_path):
    """Two threads (as two app users) import overlapping exports at once: O0..O59,999 and O30,000..O89,999.
    The second waits for the first, so the 30,000 shared keys are stored once, not twice."""
    early = orders_csv(tmp_path / "early.csv", 60_000, "O")
    late = orders_csv(tmp_path / "late.csv", 60_000, "O", first=30_000)
    results: dict[str, object] = {}
    start = threading.Barrier(2)

    def run(path: Path) -> None:
        start.wait()
        try:
            with session(db) as con:
                results[path.name] = import_files(con, "orders", [path], user=LOCAL_USER)[0]
        except Exception as exc:  # reported below
            results[path.name] = exc

    threads = [threading.Thread(target=run, args=(p,)) for p in (early, late)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    summaries = [results[p.name] for p in (early, late)]
    assert all(not isinstance(s, Exception) for s in summaries), summaries
    assert sorted(s.inserted for s in summaries) == [30_000, 60_000]   # whichever went second found 30,000 stored
    assert sorted(s.unchanged for s in summaries) == [0, 30_000]
    counts, _ = snapshot(db)
    assert counts == {"orders": 90_002, "orders_history": 30_000, "import_batches": 3, "rejected_rows": 0}
    with session(db) as con:
        assert con.execute("SELECT count(DISTINCT order_key) FROM orders").fetchall() == [(90_002,)]


def test_a_second_session_beyond_the_wait_is_refused_clearly(db, tmp_path, monkeypatch):
    from loyalty import importer

    monkeypatch.setenv("LOYALTY_LOCK_WAIT", "0.2")
    stalled, release = threading.Event(), threading.Event()
    real_write = importer._write

    def write_and_hold(con, table, batch_id, keyed):
        real_write(con, table, batch_id, keyed)
        stalled.set()
        release.wait(30)

    monkeypatch.setattr(importer, "_write", write_and_hold)
    first = orders_csv(tmp_path / "first.csv", 10, "F")

    def hold() -> None:
        with session(db) as con:
            import_files(con, "orders", [first], user=LOCAL_USER)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert stalled.wait(30)
        with session(db) as con, pytest.raises(StoreBusy) as caught:
            import_files(con, "orders", [orders_csv(tmp_path / "second.csv", 10, "S")], user=LOCAL_USER)
        assert str(caught.value) == "Another import or undo is running in this app: try again when it has finished."
    finally:
        release.set()
        holder.join(30)
    counts, _ = snapshot(db)
    assert counts == {"orders": 12, "orders_history": 0, "import_batches": 2, "rejected_rows": 0}


def failures_in_threads(count: int, work) -> list[str]:
    """Run `work()` in `count` threads started at the same moment (as the app serves each browser session in its
    own thread); what each failure said."""
    failures: list[str] = []
    start = threading.Barrier(count, timeout=30)

    def run() -> None:
        start.wait()
        try:
            work()
        except Exception as exc:  # collected: the caller's assertion names it
            failures.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return failures


def test_many_sessions_opening_and_closing_at_once(db):
    """Eight sessions each open the file for one operation, 60 times."""
    def browse() -> None:
        for _ in range(60):
            with session(db) as con:
                assert con.execute("SELECT count(*) FROM orders").fetchall() == [(2,)]

    assert failures_in_threads(8, browse) == []


def open_at_once(path: Path) -> list[str]:
    """Two threads (as two app users' first page loads) open the database at the same moment; what failed."""
    def open_and_read() -> None:
        with session(path) as con:
            con.execute("SELECT count(*) FROM customer_months").fetchall()

    return failures_in_threads(2, open_and_read)


@pytest.fixture
def rebuilds(monkeypatch) -> list[str]:
    """Each time the rollups are built from the orders, noted."""
    from loyalty import rollups

    built: list[str] = []
    monkeypatch.setattr(rollups, "rebuild", lambda con, real=rollups.rebuild: (built.append("rebuilt"), real(con)))
    return built


def test_two_sessions_opening_a_new_database_at_once_both_get_it(tmp_path, rebuilds):
    """Both threads would create the tables: the second waits for the first and finds them made."""
    for attempt in range(3):
        path = tmp_path / f"new{attempt}.duckdb"
        assert open_at_once(path) == []
        assert len(rebuilds) == attempt + 1
        with session(path) as con:
            assert con.execute("SELECT count(*) FROM import_batches").fetchall() == [(0,)]


def test_two_sessions_opening_a_database_whose_rollups_need_rebuilding_at_once_both_get_it(db, rebuilds):
    """A store made by an older version (here: customer_months without a column it has now) is brought up to date
    by whichever thread opens it first; the other finds it done."""
    with session(db) as con:
        built = con.execute("SELECT * FROM customer_months ORDER BY customer_id, month").fetchall()
    assert len(built) == 2
    for attempt in range(3):
        with session(db) as con:
            con.execute("ALTER TABLE customer_months DROP COLUMN active_before")
        assert open_at_once(db) == []
        assert len(rebuilds) == attempt + 1   # once: the second thread found it done
        with session(db) as con:
            assert con.execute("SELECT * FROM customer_months ORDER BY customer_id, month").fetchall() == built


def test_a_session_waiting_beyond_the_wait_for_another_to_bring_the_database_up_to_date_is_told_so(db, rebuilds,
                                                                                                   monkeypatch):
    from loyalty import rollups

    monkeypatch.setenv("LOYALTY_LOCK_WAIT", "0.2")
    stalled, release = threading.Event(), threading.Event()
    counted = rollups.rebuild   # (the fixture's, which notes each rebuild)

    def rebuild_and_hold(con) -> None:
        counted(con)
        stalled.set()
        release.wait(30)

    monkeypatch.setattr(rollups, "rebuild", rebuild_and_hold)
    with session(db) as con:
        con.execute("ALTER TABLE customer_months DROP COLUMN active_before")

    def open_it() -> None:
        with session(db):
            pass

    holder = threading.Thread(target=open_it)
    holder.start()
    try:
        assert stalled.wait(30)
        with pytest.raises(StoreBusy) as caught, session(db):
            pass
        assert str(caught.value) == ("Another session of this app is bringing the database up to date: try again "
                                     "in a moment.")
    finally:
        release.set()
        holder.join(30)
    with session(db) as con:   # brought up to date by the first session alone
        assert con.execute("SELECT count(active_before) FROM customer_months").fetchall() == [(2,)]
    assert rebuilds == ["rebuilt"]


# ---------------------------------------------------------------------------------- held file

HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)"


def test_a_file_held_by_another_process_gives_a_clear_message(db, tmp_path):
    before = snapshot(db)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        done = subprocess.run([sys.executable, "-m", "loyalty", "import", "orders", str(orders_csv(tmp_path / "x.csv", 5, "X")),
                               "--db", str(db)], cwd=ROOT, capture_output=True, text=True, timeout=60,
                              env={**os.environ, "LOYALTY_LOCK_WAIT": "1"})
    finally:
        holder.kill()
        holder.wait()
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (f"error: The database {db} is busy: process {holder.pid} "
                           f"({sys.executable} -c {HOLD} {db}) is using it; try again when it has finished.\n")
    assert snapshot(db) == before
