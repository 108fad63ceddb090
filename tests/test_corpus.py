"""The messy-file corpus: each file in the shape a real export takes, with the counts and values it
must produce, worked out by hand from the file (tests/corpus/). Binary shapes (XLSX, Parquet, gzip) are
built here from data in code, so no binary file is committed."""
from __future__ import annotations

import gzip
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from loyalty.importer import FileRejected, import_files

CORPUS = Path(__file__).resolve().parent / "corpus"

# file: (kind, rows_read, accepted, records, {line: reason}, sum of amount, distinct customers)
EXPECTED = {
    # 120 + 80.50 + 40 + 200 + 15.25
    "01_plain_comma.csv": ("orders", 5, 5, 5, {}, "455.75", 3),
    # decimal comma, d.m.Y: 1234.50 + 99.90 - 15.00 + 2000.00
    "02_german_erp_semicolon.csv": ("orders", 4, 4, 4, {}, "3319.40", 3),
    "03_tab_separated.tsv": ("orders", 3, 3, 3, {}, "60.00", 2),
    # yyyymmdd dates; 100 + 200.5 - 50
    "04_pipe_delimited.txt": ("orders", 3, 3, 3, {}, "250.50", 2),
    # runs of spaces; names with one space stay whole: 1000 + 250 + 500
    "05_space_aligned_report.txt": ("orders", 3, 3, 3, {}, "1750.00", 2),
    "06_utf8_bom.csv": ("orders", 2, 2, 2, {}, "30.00", 2),
    # Windows-1252 with "€" and decimal comma: 1200 + 45.50 + 300
    "07_windows1252_euro.csv": ("orders", 3, 3, 3, {}, "1545.50", 2),
    # 5 line items -> 3 orders; totals 55 (first line only), 33, 12
    "08_shopify_line_items.csv": ("orders", 5, 5, 3, {}, "100.00", 2),
    # 7 invoice lines -> 5 invoices: 6*2.55+6*3.39=35.64, 6*1.85=11.10, 32*1.69+6*2.10=66.68,
    # credit notes -27.50 and -4.65
    "09_online_retail_invoices.csv": ("orders", 7, 7, 5, {}, "81.27", 4),
    # no order id; two identical purchases both count: 9.99*2 + 29.97 + 19.98
    "10_purchases_no_order_id.csv": ("orders", 4, 4, 4, {}, "69.93", 3),
    "12_bad_rows.csv": ("orders", 7, 2, 2, {
        3: "order_date: not a date", 4: "amount: not a number", 5: "customer_id: missing",
        6: "row: wrong number of fields", 8: "order_date: date out of range"}, "70.00", 2),
    # 1234.56 - 45 + 99 - 12.50 + 7
    "13_amount_formats.csv": ("orders", 5, 5, 5, {}, "1283.06", 3),
    "14_mixed_dates.csv": ("orders", 7, 7, 7, {}, "7.00", 1),
    # e-mail ids trimmed and lower-cased: 10 + 20 + 30, two customers
    "15_email_ids.csv": ("orders", 3, 3, 3, {}, "60.00", 2),
    "16_customers_crm.csv": ("customers", 4, 3, 3, {5: "on_maintenance_plan: not a yes/no value"}, None, 3),
    "17_zendesk_tickets.csv": ("tickets", 3, 2, 2, {4: "csat: out of range 1–5"}, None, 1),
    "18_surveys.csv": ("surveys", 3, 2, 2, {3: "nps: out of range 0–10"}, None, 2),
}

REFUSED = {
    "19_binary_junk.csv": "19_binary_junk.csv is not a text file",
    "20_missing_required.csv": "20_missing_required.csv has no column for order_date",
    "21_header_only.csv": "21_header_only.csv has a header but no data rows",
}


def check(con, path: Path, kind: str, rows_read: int, accepted: int, records: int, rejects: dict[int, str],
          amount: str | None, customers: int, **options) -> None:
    summary = import_files(con, kind, [path], **options)[0]
    assert (summary.rows_read, summary.accepted, summary.rejected, summary.records, summary.inserted) == (
        rows_read, accepted, rows_read - accepted, records, records)
    stored = dict(con.execute("SELECT line, reason FROM rejected_rows WHERE batch_id = ?", [summary.batch_id]).fetchall())
    assert stored == rejects
    assert con.execute(f"SELECT count(*), count(DISTINCT customer_id) FROM {kind}").fetchall() == [(records, customers)]
    if amount is not None:
        assert con.execute("SELECT sum(amount) FROM orders").fetchall()[0][0] == Decimal(amount)
    again = import_files(con, kind, [path], **options)[0]       # re-import: nothing new, nothing changed
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, records)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(con, name):
    kind, *expected = EXPECTED[name]
    check(con, CORPUS / name, kind, *expected)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_corpus_file_refused(con, name):
    with pytest.raises(FileRejected, match=REFUSED[name]):
        import_files(con, "orders", [CORPUS / name])
    assert con.execute("SELECT count(*) FROM import_batches").fetchall() == [(0,)]


def values(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_german_erp_values(con):
    import_files(con, "orders", [CORPUS / "02_german_erp_semicolon.csv"])
    assert values(con, "SELECT order_id, customer_id, order_date, amount, quantity FROM orders WHERE order_id = 'R-100'") == [
        ("R-100", "00042", date(2024, 1, 5), Decimal("1234.50"), Decimal("2"))]


def test_windows_1252_text_survives(con):
    [summary] = import_files(con, "orders", [CORPUS / "07_windows1252_euro.csv"])
    assert summary.encoding == "windows-1252" and summary.delimiter == ";"
    assert sorted(r[0] for r in values(con, "SELECT DISTINCT customer_id FROM orders")) == ["Café Zoë", "Müller GmbH"]


def test_shopify_orders(con):
    import_files(con, "orders", [CORPUS / "08_shopify_line_items.csv"])
    assert values(con, "SELECT order_id, customer_id, order_date, amount, quantity, product, status FROM orders ORDER BY 1") == [
        ("#1001", "jane@example.com", date(2024, 7, 1), Decimal("55.00"), Decimal("3"), "Mug; Teapot", "paid"),
        ("#1002", "tom@example.com", date(2024, 7, 2), Decimal("33.00"), Decimal("3"), "Tea", "paid"),
        ("#1003", "jane@example.com", date(2024, 7, 5), Decimal("12.00"), Decimal("2"), "Saucer; Spoon", "refunded"),
    ]


def test_online_retail_invoices(con):
    import_files(con, "orders", [CORPUS / "09_online_retail_invoices.csv"])
    assert values(con, "SELECT order_id, amount FROM orders ORDER BY 1") == [
        ("536365", Decimal("35.64")), ("536366", Decimal("11.10")), ("536367", Decimal("66.68")),
        ("C536379", Decimal("-27.50")), ("C536383", Decimal("-4.65"))]
    assert values(con, "SELECT DISTINCT order_date FROM orders") == [(date(2010, 12, 1),)]


def test_mixed_date_formats_in_one_column(con):
    import_files(con, "orders", [CORPUS / "14_mixed_dates.csv"])
    assert values(con, "SELECT order_id, order_date FROM orders ORDER BY 1") == [
        (f"D{d}", date(2024, 11, d)) for d in range(1, 8)]   # ISO, m/d/Y, yyyymmdd, serial 45600, offset, d.m.Y, dd-Mon-Y


def test_overlapping_exports_without_order_id(con):
    first = import_files(con, "orders", [CORPUS / "11a_export_jan_feb.csv"])[0]
    second = import_files(con, "orders", [CORPUS / "11b_export_feb_mar.csv"])[0]
    assert (first.inserted, second.inserted, second.unchanged) == (4, 2, 2)
    assert values(con, "SELECT count(*), sum(amount) FROM orders") == [(6, Decimal("210.00"))]  # 100 + 50 + 60


def test_customers_file(con):
    import_files(con, "customers", [CORPUS / "16_customers_crm.csv"])
    assert values(con, """SELECT customer_id, name, created_at, on_maintenance_plan, reference_willing, referred_by,
                                 account_team FROM customers ORDER BY 1""") == [
        ("00017", "Acme", date(2023, 1, 15), True, False, None, "Ann;Bo"),
        ("00018", "Beta", date(2023, 2, 1), False, True, "00017", "Cy"),
        ("00019", "Gamma", date(2023, 3, 1), True, False, "00018", "Ann"),
    ]


def test_zendesk_durations(con):
    import_files(con, "tickets", [CORPUS / "17_zendesk_tickets.csv"])
    assert values(con, "SELECT ticket_id, kind, channel, first_response_at, resolved_at, csat FROM tickets ORDER BY 1") == [
        ("101", "complaint", "email", datetime(2024, 5, 1, 9, 30), datetime(2024, 5, 1, 13, 0), 5),
        ("102", "inquiry", "web", datetime(2024, 5, 2, 20, 0), None, None),
    ]


@pytest.fixture
def workbook(tmp_path) -> Path:
    """Two sheets; the data sits on the second under a title and a blank row."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book["Notes"].append(["Exported from the ERP on 2024-02-01"])
    sheet = book.create_sheet("Orders")
    sheet.append(["Monthly orders export"])
    sheet.append([])
    sheet.append(["Order ID", "Customer ID", "Order Date", "Amount"])
    sheet.append(["X-1", "0042", datetime(2024, 1, 5), 100.5])
    sheet.append(["X-2", 42, "2024-01-06", 20])
    sheet.append(["X-3", "0042", "not a date", 5])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    return path


def test_xlsx_second_sheet(con, workbook):
    check(con, workbook, "orders", 3, 2, 2, {6: "order_date: not a date"}, "120.50", 2, sheet="Orders")
    assert values(con, "SELECT order_id, customer_id, order_date FROM orders ORDER BY 1") == [
        ("X-1", "0042", date(2024, 1, 5)), ("X-2", "42", date(2024, 1, 6))]


def test_xlsx_wrong_sheet_is_refused_clearly(con, workbook):
    with pytest.raises(FileRejected, match="has no column for customer_id and order_date and amount"):
        import_files(con, "orders", [workbook])                 # the first sheet holds notes only
    with pytest.raises(FileRejected, match="has no sheet 'Sheet9'"):
        import_files(con, "orders", [workbook], sheet="Sheet9")


def test_parquet_with_typed_columns(con, tmp_path):
    path = tmp_path / "orders.parquet"
    pd.DataFrame({
        "InvoiceNo": ["P-1", "P-2", "P-3"],
        "CustomerID": [12346.0, 12347.0, 12346.0],       # ids stored as floats, as pandas writes them
        "InvoiceDate": pd.to_datetime(["2024-02-01 10:00", "2024-02-02 11:00", "2024-02-03 12:00"]),
        "Revenue": [10.0, 20.25, -5.5],
    }).to_parquet(path)
    check(con, path, "orders", 3, 3, 3, {}, "24.75", 2)
    assert values(con, "SELECT DISTINCT customer_id FROM orders ORDER BY 1") == [("12346",), ("12347",)]


def test_gzip_csv(con, tmp_path):
    path = tmp_path / "orders.csv.gz"
    path.write_bytes(gzip.compress((CORPUS / "01_plain_comma.csv").read_bytes()))
    check(con, path, "orders", *EXPECTED["01_plain_comma.csv"][1:])
    assert values(con, "SELECT channel FROM orders WHERE order_id = 'SO-2'") == [("email",)]
