"""No user value is formatted into SQL text: SQL fragments, quotes and semicolons in values, in column
names and in mapping names import as plain data.

Where names from a user's file reach SQL text: the readers name the staged columns (`readers.py`:
space-aligned and XLSX files through `quote_ident`; delimited text and Parquet keep the names DuckDB's
own readers give them), and the importer reads them back (`importer._build_parsed` and `_profile`: the
mapped columns; `_fill_raw_text`: every column) through `quote_ident`. Everything else the importer
writes into SQL text is a canonical column name from `schema.py`; values always travel as parameters.
"""
from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import Workbook

from loyalty.access import LOCAL_USER
from loyalty.importer import import_files
from loyalty.mapping import save_mapping, saved_mappings

HEADERS = ['Order "#"', 'cust"; DROP TABLE orders; --', "'); DELETE FROM orders; --", "Amount; SELECT 1",
           'product "name"', 'x" , "y', "_line"]
MAPPING = {"order_id": HEADERS[0], "customer_id": HEADERS[1], "order_date": HEADERS[2], "amount": HEADERS[3],
           "product": HEADERS[4]}
ROWS = [
    ["'); DELETE FROM orders; --", 'c"1; DROP TABLE customers; --', "2024-01-05", "10.50", "=cmd|' /C calc'!A0", "a;b", "1"],
    ['"; DROP TABLE orders; --', "Robert'); DROP TABLE orders;--", "2024-01-06", "-2.25", 'say "hi"; ok', "'", "2"],
    ["O3", "c3", "2024-01-07", "oops", "p", '"', "3"],      # amount not a number: rejected, raw text rebuilt
]
TABLES_SQL = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"


def csv_text(headers: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()


def stored_orders(con) -> list[tuple]:
    return con.execute("SELECT order_id, customer_id, amount::VARCHAR, product FROM orders ORDER BY amount").fetchall()


EXPECTED = [('"; DROP TABLE orders; --', "Robert'); DROP TABLE orders;--", "-2.25", 'say "hi"; ok'),
            ("'); DELETE FROM orders; --", 'c"1; DROP TABLE customers; --', "10.50", "=cmd|' /C calc'!A0")]


def test_hostile_values_and_column_names_in_a_csv_import_as_plain_data(con, write):
    tables = con.execute(TABLES_SQL).fetchall()
    path = write("hostile.csv", csv_text(HEADERS, ROWS))
    [batch] = import_files(con, "orders", [path], mapping=MAPPING, user=LOCAL_USER)
    assert (batch.rows_read, batch.inserted, batch.rejected) == (3, 2, 1)
    assert con.execute(TABLES_SQL).fetchall() == tables                  # nothing dropped, nothing created
    assert con.execute("SELECT count(*) FROM orders").fetchone() == (2,)
    assert stored_orders(con) == EXPECTED                                   # exactly as written
    assert con.execute("SELECT line, reason, raw FROM rejected_rows").fetchall() == [
        (4, "amount: not a number", 'O3,c3,2024-01-07,oops,p,",3')]
    assert json.loads(con.execute("SELECT mapping FROM import_batches").fetchone()[0]) == MAPPING


def test_hostile_column_names_in_an_xlsx_import_as_plain_data(con, tmp_path):
    path = tmp_path / "hostile.xlsx"
    book = Workbook()
    for row in [HEADERS, *ROWS[:2]]:
        book.active.append(row)
    for cell in book.active["E"]:
        cell.data_type = "s"           # "=cmd…" as the text it is, not as a formula
    book.save(path)
    [batch] = import_files(con, "orders", [path], mapping=MAPPING, user=LOCAL_USER)
    assert batch.inserted == 2
    assert stored_orders(con) == EXPECTED


def test_a_saved_mapping_with_hostile_names_round_trips_and_applies(con, write):
    name = "'); DROP TABLE saved_mappings; --"
    save_mapping(con, name, "orders", MAPPING, user=LOCAL_USER)
    assert saved_mappings(con, "orders") == {name: MAPPING}
    [batch] = import_files(con, "orders", [write("again.csv", csv_text(HEADERS, ROWS))],
                           mapping=saved_mappings(con, "orders")[name], user=LOCAL_USER)
    assert batch.inserted == 2 and stored_orders(con) == EXPECTED


@pytest.mark.parametrize("column", ['"; DROP TABLE orders; --', "amount; DELETE FROM orders"])
def test_a_hostile_canonical_name_in_a_mapping_is_refused(con, write, column):
    path = write("orders.csv", csv_text(HEADERS, ROWS))
    with pytest.raises(ValueError, match="which is not one of the orders columns"):
        import_files(con, "orders", [path], mapping={**MAPPING, column: HEADERS[5]}, user=LOCAL_USER)
    assert con.execute("SELECT count(*) FROM import_batches").fetchone() == (0,)
