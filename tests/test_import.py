"""The import path's promises: idempotent, no double counting, updates in place, undo in any order,
one transaction per call, a clear sentence for a bad file, and a CLI that never shows a traceback."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from loyalty import importer
from loyalty.access import LOCAL_USER
from loyalty.db import StoreBusy, connect
from loyalty.importer import FileRejected, UndoRefused, import_files, undo_batch
from loyalty.schema import SPECS
from loyalty.store_summary import filter_options

ROOT = Path(__file__).resolve().parent.parent


def orders(con) -> dict[str, tuple]:
    """order_key -> (customer, date, amount) of the current orders."""
    rows = con.execute("SELECT order_key, customer_id, order_date::VARCHAR, amount FROM orders").fetchall()
    return {key: tuple(rest) for key, *rest in rows}


def state(con) -> tuple:
    """Everything an import or undo may touch, to compare before and after."""
    return tuple(
        con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
        for table in ("orders", "orders_history", "import_batches", "rejected_rows")
    )


def revenue(con) -> Decimal:
    return con.execute("SELECT coalesce(sum(amount), 0) FROM orders").fetchall()[0][0]


JAN_FEB = "customer,date,amount\nc1,2024-01-10,10.00\nc2,2024-01-20,20.00\nc1,2024-02-05,30.00\n"
FEB_MAR = "customer,date,amount\nc1,2024-02-05,30.00\nc3,2024-03-01,40.00\n"


def test_reimport_changes_nothing(con, write):
    path = write("jan_feb.csv", JAN_FEB)
    first = import_files(con, "orders", [path], user=LOCAL_USER)[0]
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    before = orders(con)
    again = import_files(con, "orders", [path], user=LOCAL_USER)[0]
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert orders(con) == before
    assert revenue(con) == Decimal("60.00")


def test_a_record_changed_only_in_a_column_it_alone_holds_counts_as_updated(con, write):
    """The comparison covers every column a record holds: a changed channel or product is an update, and the
    columns no record holds a value in change nothing."""
    header = "order_id,customer,date,amount,channel,product\n"
    import_files(con, "orders", [write("a.csv", header + "O1,c1,2024-01-10,10.00,web,Bolt\nO2,c2,2024-01-20,20.00,"
                                                  "email,Nut\nO3,c3,2024-01-25,30.00,web,Nut\n")], user=LOCAL_USER)
    again = import_files(con, "orders", [write("b.csv", header + "O1,c1,2024-01-10,10.00,phone,Bolt\nO2,c2,2024-01-20,"
                                                       "20.00,email,Screw\nO3,c3,2024-01-25,30.00,web,Nut\n")],
                         user=LOCAL_USER)[0]
    assert (again.inserted, again.updated, again.unchanged) == (0, 2, 1)


def test_overlapping_exports_do_not_double_count(con, write):
    import_files(con, "orders", [write("jan_feb.csv", JAN_FEB)], user=LOCAL_USER)
    second = import_files(con, "orders", [write("feb_mar.csv", FEB_MAR)], user=LOCAL_USER)[0]
    assert (second.inserted, second.unchanged) == (1, 1)   # only March is new
    assert len(orders(con)) == 4
    assert revenue(con) == Decimal("100.00")              # 10 + 20 + 30 + 40


def test_identical_purchases_in_one_file_both_count(con, write):
    path = write("twice.csv", "customer,date,quantity,amount\nc1,2024-01-01,1,10\nc1,2024-01-01,1,10\n")
    summary = import_files(con, "orders", [path], user=LOCAL_USER)[0]
    assert summary.inserted == 2
    assert revenue(con) == Decimal("20.00")
    assert import_files(con, "orders", [path], user=LOCAL_USER)[0].inserted == 0


def test_changed_values_update_in_place(con, write):
    import_files(con, "orders", [write("a.csv", "order id,customer,date,amount\nA1,c1,2024-01-01,10\nA2,c2,2024-01-02,20\n")], user=LOCAL_USER)
    summary = import_files(con, "orders", [write("b.csv", "order id,customer,date,amount\nA1,c1,2024-01-01,15\nA2,c2,2024-01-02,20\n")], user=LOCAL_USER)[0]
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 1)
    assert orders(con)["A1"] == ("c1", "2024-01-01", Decimal("15.00"))


def test_columns_missing_from_a_new_file_keep_their_values(con, write):
    import_files(con, "customers", [write("c1.csv", "customer id,region,industry\nc1,North,Retail\n")], user=LOCAL_USER)
    summary = import_files(con, "customers", [write("c2.csv", "customer id,region\nc1,South\n")], user=LOCAL_USER)[0]
    assert summary.updated == 1
    assert con.execute("SELECT region, industry FROM customers").fetchall() == [("South", "Retail")]


def test_an_orders_file_without_a_column_keeps_the_stored_values_and_adds_empty_ones(con, write):
    """Only the columns some record holds a value in are written (the others are left NULL): A1's product,
    absent from the second file, stays; the new A2 has none."""
    import_files(con, "orders", [write("a.csv", "order id,customer,date,amount,product\nA1,c1,2024-01-01,10,Widget\n")],
                 user=LOCAL_USER)
    summary = import_files(con, "orders", [write("b.csv", "order id,customer,date,amount\nA1,c1,2024-01-01,15\n"
                                                          "A2,c2,2024-01-02,20\n")], user=LOCAL_USER)[0]
    assert (summary.inserted, summary.updated) == (1, 1)
    assert con.execute("SELECT order_id, amount, product, quantity FROM orders ORDER BY order_id").fetchall() == [
        ("A1", Decimal("15.00"), "Widget", None), ("A2", Decimal("20.00"), None, None)]


def test_orders_are_stored_in_date_order_with_their_ids(con, write):
    """Stored by date (what lets a query over a few months skip the others' storage), whatever the file's
    order; the order id stored is the file's, also when some rows have none (their key is a fingerprint)."""
    keyed = "order_id,customer,date,amount\na3,c1,2024-03-01,3\na1,c2,2024-01-01,1\na4,c1,2024-04-01,4\na2,c3,2024-02-01,2\n"
    mixed = "order_id,customer,date,amount\n,c1,2024-07-01,7\nb5,c2,2024-05-01,5\n,c3,2024-06-01,6\n"
    import_files(con, "orders", [write("keyed.csv", keyed)], user=LOCAL_USER)
    import_files(con, "orders", [write("mixed.csv", mixed)], user=LOCAL_USER)
    stored = con.execute("SELECT batch_id, order_date::VARCHAR, order_id FROM orders ORDER BY rowid").fetchall()
    (first,), (second,) = con.execute("SELECT id FROM import_batches ORDER BY id").fetchall()
    assert stored == [(first, "2024-01-01", "a1"), (first, "2024-02-01", "a2"), (first, "2024-03-01", "a3"),
                      (first, "2024-04-01", "a4"),
                      (second, "2024-05-01", "b5"), (second, "2024-06-01", None), (second, "2024-07-01", None)]
    keys = dict(con.execute("SELECT order_date::VARCHAR, order_key FROM orders").fetchall())
    assert keys["2024-01-01"] == "a1" and keys["2024-05-01"] == "b5" and keys["2024-06-01"].startswith("fp:")


def test_a_customers_file_of_ids_alone_stores_them(con, write):
    """Every record keyed by its id and no other column holding a value: the id is all there is to store."""
    summary = import_files(con, "customers", [write("ids.csv", "customer_id\nc2\nc1\n")], user=LOCAL_USER)[0]
    assert summary.inserted == 2
    assert con.execute("SELECT customer_key, customer_id, name FROM customers ORDER BY 1").fetchall() == [
        ("c1", "c1", None), ("c2", "c2", None)]


def test_undo_in_any_order_restores_earlier_versions(con, write):
    a = import_files(con, "orders", [write("a.csv", "order id,customer,date,amount\nA1,c1,2024-01-01,10\nA2,c2,2024-01-02,20\n")], user=LOCAL_USER)[0]
    b = import_files(con, "orders", [write("b.csv", "order id,customer,date,amount\nA2,c2,2024-01-02,25\nA3,c3,2024-01-03,30\n")], user=LOCAL_USER)[0]
    # Undo the older batch first: A1 goes, A2 keeps batch b's value (nothing to restore), A3 stays.
    assert undo_batch(con, a.batch_id, user=LOCAL_USER) == {"batch_id": a.batch_id, "removed": 1, "restored": 0}
    assert {k: v[2] for k, v in orders(con).items()} == {"A2": Decimal("25.00"), "A3": Decimal("30.00")}
    undo_batch(con, b.batch_id, user=LOCAL_USER)
    assert orders(con) == {}
    with pytest.raises(UndoRefused, match="undone"):
        undo_batch(con, b.batch_id, user=LOCAL_USER)
    with pytest.raises(UndoRefused, match="no batch 99"):
        undo_batch(con, 99, user=LOCAL_USER)


def test_undo_of_the_newer_batch_brings_back_the_older_value(con, write):
    import_files(con, "orders", [write("a.csv", "order id,customer,date,amount\nA1,c1,2024-01-01,10\n")], user=LOCAL_USER)
    b = import_files(con, "orders", [write("b.csv", "order id,customer,date,amount\nA1,c1,2024-01-01,99\n")], user=LOCAL_USER)[0]
    assert undo_batch(con, b.batch_id, user=LOCAL_USER) == {"batch_id": b.batch_id, "removed": 0, "restored": 1}
    assert orders(con)["A1"][2] == Decimal("10.00")


def test_filter_choices_follow_imports_and_undo(con, write):
    """The sidebar's choices come from a rollup: they follow every import and undo, of orders and of customers."""
    def choices():
        options = filter_options(con)
        return options["channels"], options["sales_reps"], options["regions"]
    web = import_files(con, "orders", [write("a.csv", "order id,customer,date,amount,channel,sales rep\n"
                                                      "A1,c1,2024-01-01,10,web,Ann\nA2,c2,2024-01-02,20,,\n")], user=LOCAL_USER)[0]
    phone = import_files(con, "orders", [write("b.csv", "order id,customer,date,amount,channel\n"
                                                        "A1,c1,2024-01-01,10,phone\nA3,c3,2024-01-03,30,email\n")], user=LOCAL_USER)[0]
    assert choices() == (["email", "phone"], ["Ann"], [])       # A1 is now by phone; a missing value is no choice
    import_files(con, "customers", [write("c.csv", "customer id,region\nc1,North\nc2,South\n")], user=LOCAL_USER)
    assert choices() == (["email", "phone"], ["Ann"], ["North", "South"])
    undo_batch(con, phone.batch_id, user=LOCAL_USER)
    assert choices() == (["web"], ["Ann"], ["North", "South"])
    undo_batch(con, web.batch_id, user=LOCAL_USER)
    assert choices() == ([], [], ["North", "South"])


def history(con) -> list[tuple]:
    """(order_key, amount, batch) of the replaced versions."""
    return con.execute("SELECT order_key, amount, batch_id FROM orders_history ORDER BY ALL").fetchall()


def test_a_replaced_version_waits_in_the_history_until_its_batch_is_undone_or_in_force_again(con, write):
    a, b, c = (import_files(con, "orders", [write(f"{n}.csv", f"order id,customer,date,amount\nK,c1,2024-01-01,{v}\n")],
                            user=LOCAL_USER)[0].batch_id for n, v in (("a", 10), ("b", 20), ("c", 30)))
    extra = import_files(con, "orders", [write("d.csv", "order id,customer,date,amount\nN,c2,2024-02-01,5\n")],
                         user=LOCAL_USER)[0].batch_id
    assert history(con) == [("K", Decimal("10.00"), a), ("K", Decimal("20.00"), b)]  # a new key adds none
    # b's version was already replaced by c's: undoing b takes it from the history and leaves K alone.
    assert undo_batch(con, b, user=LOCAL_USER) == {"batch_id": b, "removed": 0, "restored": 0}
    assert orders(con)["K"][2] == Decimal("30.00") and history(con) == [("K", Decimal("10.00"), a)]
    # Undoing c brings back a's version (not b's), which leaves the history: it is current again.
    assert undo_batch(con, c, user=LOCAL_USER) == {"batch_id": c, "removed": 0, "restored": 1}
    assert orders(con)["K"][2] == Decimal("10.00") and history(con) == []
    assert con.execute("SELECT order_key, batch_id FROM orders ORDER BY 1").fetchall() == [("K", a), ("N", extra)]
    assert undo_batch(con, a, user=LOCAL_USER) == {"batch_id": a, "removed": 1, "restored": 0}
    assert sorted(orders(con)) == ["N"]


def test_a_database_that_kept_every_version_keeps_the_replaced_ones_as_history(db_file, write):
    """Databases made before the history table kept every version of every batch, current ones too, in
    `<kind>_versions`: opened now, they keep the replaced versions as history, and undo works as before."""
    with connect(db_file) as con:
        a = import_files(con, "orders", [write("a.csv", "order id,customer,date,amount\nA1,c1,2024-01-01,10\n"
                                                        "A2,c2,2024-01-02,20\n")], user=LOCAL_USER)[0].batch_id
        b = import_files(con, "orders", [write("b.csv", "order id,customer,date,amount\nA2,c2,2024-01-02,25\n")],
                         user=LOCAL_USER)[0].batch_id
        for kind in ("orders", "customers", "tickets", "surveys"):  # the old layout: every version in one table
            con.execute(f"CREATE TABLE {kind}_versions AS SELECT * FROM {kind}_history UNION ALL SELECT * FROM {kind}")
            con.execute(f"DROP TABLE {kind}_history")
        assert con.execute("SELECT count(*) FROM orders_versions").fetchall() == [(3,)]
    with connect(db_file) as con:
        tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert not {t for t in tables if t.endswith("_versions")}
        assert {"orders_history", "customers_history", "tickets_history", "surveys_history"} <= tables
        assert history(con) == [("A2", Decimal("20.00"), a)]
        assert undo_batch(con, b, user=LOCAL_USER) == {"batch_id": b, "removed": 0, "restored": 1}
        assert {k: v[2] for k, v in orders(con).items()} == {"A1": Decimal("10.00"), "A2": Decimal("20.00")}


def test_a_bad_file_in_a_call_writes_nothing_at_all(con, write):
    import_files(con, "orders", [write("base.csv", JAN_FEB)], user=LOCAL_USER)
    before = state(con)
    good = write("good.csv", FEB_MAR)
    junk = write("junk.csv", "")
    junk.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(FileRejected, match="not a text file"):
        import_files(con, "orders", [good, junk], user=LOCAL_USER)
    assert state(con) == before


def test_a_crash_mid_write_leaves_the_previous_state(con, write, monkeypatch):
    import_files(con, "orders", [write("base.csv", JAN_FEB)], user=LOCAL_USER)
    before = state(con)
    real_execute_count = {"n": 0}

    def failing_write(connection, table, batch_id, keyed):
        connection.execute(f"INSERT INTO {table.kind}_history SELECT * FROM {table.kind}")
        connection.execute(f"INSERT INTO {table.kind} BY NAME SELECT key AS {table.key}, "
                           "* EXCLUDE (key, _line, _replaces, _reason), ? AS batch_id FROM stage_records", [batch_id])
        real_execute_count["n"] += 1
        raise RuntimeError("power cut")

    monkeypatch.setattr(importer, "_write", failing_write)
    with pytest.raises(RuntimeError, match="power cut"):
        import_files(con, "orders", [write("feb_mar.csv", FEB_MAR)], user=LOCAL_USER)
    assert real_execute_count["n"] == 1
    assert state(con) == before


def test_the_preview_shows_every_stored_column_of_the_first_records(con, write):
    """A file with three columns: its records as they will be stored, the columns it lacks empty."""
    summary = import_files(con, "orders", [write("jan_feb.csv", JAN_FEB)], dry_run=True, user=LOCAL_USER)[0]
    assert [list(r) for r in summary.preview] == [[c.name for c in SPECS["orders"].stored_columns]] * 3
    first = summary.preview[0]
    assert (first["customer_id"], str(first["order_date"])[:10], float(first["amount"])) == ("c1", "2024-01-10", 10.0)
    assert all(pd.isna(first[c]) for c in ("order_id", "quantity", "channel", "status"))


def test_dry_run_reports_and_writes_nothing(con, write):
    before = state(con)
    summary = import_files(con, "orders", [write("jan_feb.csv", JAN_FEB)], dry_run=True, user=LOCAL_USER)[0]
    assert (summary.batch_id, summary.inserted, summary.records) == (None, 3, 3)
    assert state(con) == before


def test_rejected_rows_are_kept_with_line_and_reason(con, write):
    path = write("bad.csv", "order id,customer,date,amount\nA1,c1,2024-01-01,10\nA2,,2024-01-02,20\n"
                            "A3,c3,someday,30\nA4,c4,2024-01-04,lots\nA5,c5,2024-01-05,5,extra\n")
    summary = import_files(con, "orders", [path], user=LOCAL_USER)[0]
    assert (summary.rows_read, summary.accepted, summary.rejected) == (5, 1, 4)
    stored = con.execute("SELECT line, reason, raw FROM rejected_rows ORDER BY line").fetchall()
    assert stored == [
        (3, "customer_id: missing", "A2,,2024-01-02,20"),
        (4, "order_date: not a date", "A3,c3,someday,30"),
        (5, "amount: not a number", "A4,c4,2024-01-04,lots"),
        (6, "row: wrong number of fields", "A5,c5,2024-01-05,5,extra"),
    ]


def test_a_file_with_no_acceptable_row_is_refused(con, write):
    with pytest.raises(FileRejected, match="None of the 2 rows"):
        import_files(con, "orders", [write("x.csv", "customer,date,amount\nc1,never,1\nc2,never,2\n")], user=LOCAL_USER)
    with pytest.raises(FileRejected, match="no column for order_date"):
        import_files(con, "orders", [write("y.csv", "customer,amount\nc1,1\n")], user=LOCAL_USER)
    assert con.execute("SELECT count(*) FROM import_batches").fetchall() == [(0,)]


def test_ticket_durations_become_timestamps(con, write):
    path = write("zendesk.csv", "Id,Requester email,Created at,First reply time in minutes,Full resolution time in minutes\n"
                                "7,A@X.com,2024-05-01 09:00:00,90,1440\n")
    import_files(con, "tickets", [path], user=LOCAL_USER)
    assert con.execute("SELECT ticket_key, customer_id, first_response_at::VARCHAR, resolved_at::VARCHAR FROM tickets").fetchall() == [
        ("7", "a@x.com", "2024-05-01 10:30:00", "2024-05-02 09:00:00")]


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "loyalty", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_cli_import_batches_undo(db_file, write):
    path = write("jan_feb.csv", JAN_FEB)
    done = run_cli("import", "orders", str(path), "--db", str(db_file))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["batch_id"], summary["rows_read"], summary["inserted"], summary["rejected"]) == (1, 3, 3, 0)
    assert summary["rejected_by_reason"] == {}
    listed = json.loads(run_cli("batches", "--db", str(db_file)).stdout)
    assert [(b["batch"], b["status"]) for b in listed] == [(1, "committed")]
    undone = run_cli("undo", "1", "--db", str(db_file))
    assert undone.returncode == 0 and json.loads(undone.stdout)["removed"] == 3


def test_cli_mapping_and_dry_run(db_file, write):
    path = write("odd.csv", "who,when,howmuch\nc1,2024-01-01,5\n")
    done = run_cli("import", "orders", str(path), "--db", str(db_file), "--dry-run",
                   "--mapping", '{"customer_id": "who", "order_date": "when", "amount": "howmuch"}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["batch_id"] is None
    assert json.loads(run_cli("batches", "--db", str(db_file)).stdout) == []


def test_cli_unreadable_file_exits_1_with_one_line(db_file, write):
    path = write("junk.csv", "")
    path.write_bytes(b"\x00\x01\x02garbage" * 100)
    done = run_cli("import", "orders", str(path), "--db", str(db_file))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "junk.csv is not a text file" in done.stderr


def test_busy_database_waits_then_names_the_holder(db_file, write):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(30)",
         str(db_file)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(StoreBusy, match=f"process {holder.pid}"):
            connect(db_file, wait=1.0)
        assert time.monotonic() - started >= 1.0
        done = run_cli("import", "orders", str(write("a.csv", JAN_FEB)), "--db", str(db_file),
                       env={"LOYALTY_LOCK_WAIT": "1"})
        assert done.returncode == 1 and "is busy" in done.stderr and "Traceback" not in done.stderr
    finally:
        holder.kill()
        holder.wait()
    with connect(db_file, wait=5) as con:  # released: usable again
        assert con.execute("SELECT count(*) FROM orders").fetchall() == [(0,)]
