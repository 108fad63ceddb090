"""Reads side by side: `loyalty.db.side_by_side` and the pages' `cached_together`."""
from __future__ import annotations

import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from loyalty import db, ui
from loyalty.db import Call, session, side_by_side
from loyalty.metrics.customer import customer_ids
from loyalty.period import default_period
from loyalty.store_summary import filter_options

from .test_scorecard_page import load_shop


def test_results_come_in_the_tasks_order_and_a_skipped_task_gives_none(con):
    square = Call(lambda c, n: c.execute("SELECT ? * ?", [n, n]).fetchone()[0], 3)
    cube = Call(lambda c, n: c.execute("SELECT ? * ? * ?", [n, n, n]).fetchone()[0], 2)
    assert side_by_side(con, [square, None, cube]) == [9, None, 8]
    assert side_by_side(con, [None, cube]) == [None, 8]
    assert side_by_side(con, []) == []


def test_tasks_run_at_once_the_first_here_the_others_each_on_a_cursor_in_utc(con):
    """Three tasks meet at a barrier, which one after the other never would: the first in this thread on the
    connection, the others each in a thread of its own on a cursor of its own, set to UTC like a connection
    (a cursor starts from the database's default, here New York)."""
    con.execute("SET GLOBAL TimeZone = 'America/New_York'")
    meeting = threading.Barrier(3, timeout=20)
    seen = []

    def task(cursor):
        meeting.wait()
        seen.append((cursor, threading.current_thread()))
        return cursor.execute("SELECT current_setting('TimeZone')").fetchone()[0]

    assert side_by_side(con, [task, task, task]) == ["UTC", "UTC", "UTC"]
    cursors = [c for c, _ in seen]
    assert len({id(c) for c in cursors}) == 3 and sum(c is con for c in cursors) == 1
    assert {t for c, t in seen if c is con} == {threading.current_thread()}


def test_a_failing_task_raises_once_the_others_have_finished(con):
    finished = threading.Event()

    def slow(cursor):
        time.sleep(0.3)
        finished.set()
        return 1

    def failing(cursor):
        raise ValueError("no such figure")

    with pytest.raises(ValueError, match="no such figure"):
        side_by_side(con, [failing, slow])
    assert finished.is_set()


def _page_asking_together():
    """A page script: two calls and a skipped one together, then the same calls one at a time."""
    import streamlit as st

    from loyalty.db import Call
    from loyalty.metrics.customer import customer_ids
    from loyalty.period import default_period
    from loyalty.store_summary import filter_options
    from loyalty.ui import cached, cached_together, end_run, reading, start_run

    start_run()
    with reading() as con:
        period = default_period(con)
        st.session_state["run_connection"] = id(con)
    st.session_state["together"] = cached_together(Call(customer_ids, period, search=""), None,
                                                   Call(filter_options))
    st.session_state["one_by_one"] = [cached(customer_ids, period, search=""), None, cached(filter_options)]
    end_run()


def test_a_page_asking_together_fills_the_cache_from_cursors_of_its_run_connection(db_file, monkeypatch):
    """cached_together gives what each call gives alone; each call is computed once, the first in the script's
    thread on the run's connection, the other in a thread of its own on a cursor of it, and the page's later
    `cached` calls find them cached."""
    load_shop(db_file)
    with session(db_file) as con:
        expected = [customer_ids(con, default_period(con), search=""), None, filter_options(con)]
    calls = []

    def counted(fn):
        def wrapper(con, *args, **kwargs):
            calls.append((fn.__name__, threading.current_thread().name, id(con)))
            return fn(con, *args, **kwargs)
        wrapper.__module__, wrapper.__name__ = fn.__module__, fn.__name__
        return wrapper

    monkeypatch.setattr("loyalty.metrics.customer.customer_ids", counted(customer_ids))
    monkeypatch.setattr("loyalty.store_summary.filter_options", counted(filter_options))
    opened = []
    real_connect = db.connect
    for module in (db, ui):   # ui holds its own name for it
        monkeypatch.setattr(module, "connect", lambda *a, **k: opened.append(real_connect(*a, **k)) or opened[-1])
    at = AppTest.from_function(_page_asking_together, default_timeout=60).run()
    assert not at.exception, at.exception
    assert len(opened) == 1   # the run's connection: the threads read with cursors of it, not files of their own
    assert at.session_state["together"] == expected == at.session_state["one_by_one"]
    assert sorted(name for name, _, _ in calls) == ["customer_ids", "filter_options"]
    threads = {thread for _, thread, _ in calls}
    assert len(threads) == 2 and threading.current_thread().name not in threads
    assert [con == at.session_state["run_connection"] for _, _, con in sorted(calls)] == [True, False]
