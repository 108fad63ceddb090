"""The Data page in Streamlit's AppTest: upload, mapping, validation, import, saved mappings, undo."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from .helpers import stored

APP = str(Path(__file__).resolve().parent.parent / "app.py")
CSV = b"Order #,Cust ID,Order Date,Total\nW-1,0042,2024-01-05,$100.00\nW-2,0042,01/15/2024,\"1,250.50\"\nW-3,0007,2024-02-01,oops\n"
ODD = b"who;when;howmuch\nc1;05.01.2024;10,50\nc2;06.01.2024;2,25\n"


def data_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("app_pages/data.py").run()
    assert not at.exception
    return at


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader(key="data-files").set_value((name, content, "text/csv")).run()
    assert not at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_empty_database_says_what_to_do(db_file):
    at = data_page()
    infos = " ".join(i.value for i in at.info)
    assert "Choose one or more files" in infos
    assert "No batches yet" in infos


def test_upload_validate_import(db_file):
    at = upload(data_page(), "orders.csv", CSV)
    proposed = {s.label: s.value for s in at.selectbox if s.key and s.key.startswith("map-")}
    assert proposed["customer_id *"] == "Cust ID" and proposed["amount *"] == "Total"
    assert proposed["order_id"] == "Order #"
    at.button(key="data-validate").click().run()
    assert metrics(at) == {"Rows read": "3", "Accepted": "2", "Rejected": "1", "New": "2", "Changed": "0",
                           "Already stored": "0"}
    report = at.dataframe[1].value
    assert report.iloc[0]["reason"] == "amount: not a number" and report.iloc[0]["example lines"] == "4"
    assert stored(db_file, "SELECT count(*) FROM orders") == [(0,)]   # validation wrote nothing
    at.button(key="data-import").click().run()
    assert "Imported orders.csv as batch 1 (2 new, 0 changed, 1 rejected)" in at.success[0].value
    assert stored(db_file, "SELECT sum(amount)::VARCHAR FROM orders") == [("1350.50",)]
    assert at.selectbox(key="data-batch").value == 1


def test_correct_the_mapping_and_save_it_for_next_month(db_file):
    at = upload(data_page(), "odd.csv", ODD)
    key = next(s.key for s in at.selectbox if s.label == "customer_id *").rsplit("-", 1)[0]
    assert at.selectbox(key=f"{key}-customer_id").value == "— not in this file —"
    at.selectbox(key=f"{key}-customer_id").set_value("who")
    at.selectbox(key=f"{key}-order_date").set_value("when")
    at.selectbox(key=f"{key}-amount").set_value("howmuch").run()
    prefix = key.rsplit("-", 1)[0]  # "map-<signature>"
    at.text_input(key=f"{prefix}-name").input("Odd export").run()
    at.button(key=f"{prefix}-save").click().run()
    assert "Saved as 'Odd export'." in [s.value for s in at.success]
    at.button(key="data-validate").click().run()
    assert metrics(at)["Accepted"] == "2"
    at.button(key="data-import").click().run()
    assert stored(db_file, "SELECT customer_id, order_date::VARCHAR, amount::VARCHAR FROM orders ORDER BY 1") == [
        ("c1", "2024-01-05", "10.50"), ("c2", "2024-01-06", "2.25")]

    # Next month: a fresh session offers the saved mapping and applies it.
    at = upload(data_page(), "odd_feb.csv", ODD.replace(b"01.2024", b"02.2024"))
    at.selectbox(key=f"{prefix}-saved").set_value("Odd export").run()
    chosen = {s.label: s.value for s in at.selectbox if s.key and s.key.startswith(f"{prefix}-Odd export-")}
    assert (chosen["customer_id *"], chosen["order_date *"], chosen["amount *"]) == ("who", "when", "howmuch")


def test_undo_from_the_history(db_file):
    at = upload(data_page(), "orders.csv", CSV)
    at.button(key="data-validate").click().run()
    at.button(key="data-import").click().run()
    assert at.button(key="data-undo").disabled
    at.checkbox(key="data-undo-confirm").check().run()
    at.button(key="data-undo").click().run()
    assert not at.exception
    assert "Batch 1 undone: 2 records removed, 0 restored" in " ".join(s.value for s in at.success)
    assert stored(db_file, "SELECT count(*) FROM orders") == [(0,)]
    assert stored(db_file, "SELECT status FROM import_batches") == [("undone",)]


@pytest.mark.parametrize("name, content, message", [
    ("junk.csv", b"\x00\x01\x02\x03" * 50, "junk.csv is not a text file"),
    ("empty.csv", b"", "empty.csv is empty"),
])
def test_unreadable_files_get_one_clear_sentence(db_file, name, content, message):
    at = upload(data_page(), name, content)
    assert any(message in e.value for e in at.error)


def test_a_file_with_no_good_row_is_refused_at_validation(db_file):
    at = upload(data_page(), "bad.csv", b"customer,date,amount\nc1,never,1\n")
    at.button(key="data-validate").click().run()
    assert any("None of the 1 rows of bad.csv could be imported" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "data-import"]


def test_a_long_import_history_is_paged_and_downloadable_whole(db_file, write, monkeypatch):
    from loyalty.access import LOCAL_USER
    from loyalty.db import session
    from loyalty.importer import import_files

    monkeypatch.setattr("loyalty.ui.TABLE_ROWS", 2)          # three batches make two pages
    with session(db_file) as con:
        for month in (1, 2, 3):
            path = write(f"orders_{month}.csv", f"customer,date,amount\nc1,2024-0{month}-05,10\n")
            import_files(con, "orders", [path], user=LOCAL_USER)
    at = data_page()
    history = at.dataframe[0]                                   # the only table of the page before an upload
    assert history.value["batch"].tolist() == [3, 2] and "sha256" not in history.value.columns
    assert at.pagination(key="page-history").num_pages == 2
    at.pagination(key="page-history").set_value(2).run()
    assert at.dataframe[0].value["file"].tolist() == ["orders_1.csv"]
    labels = {b.proto.label for b in at.get("download_button")}
    assert {"Download all 3 rows as CSV", "Download all 3 rows as XLSX"} <= labels
    assert at.selectbox(key="data-batch").options == ["3 · orders_3.csv (committed)", "2 · orders_2.csv (committed)",
                                                      "1 · orders_1.csv (committed)"]
