"""The messy-file corpus: import files in the shapes real exports take, and check the exact counts and
values each must produce. Every expectation below was worked out by hand from the file's content (the
arithmetic is written next to it where it is not obvious); none was copied from the importer's output.

Text files live in tests/corpus/ (5-40 rows each). Binary shapes (XLSX with two sheets, Parquet with
typed columns, gzip, binary junk named .csv) are built from data in this module into tmp_path, so no
binary file is committed. Each test opens a fresh database: `with session(tmp_path / "t.duckdb")`.

What is checked per file (EXPECTED): rows read (data rows, header excluded), rows accepted, canonical
records after roll-up, inserted = records on a fresh database, the rejected lines (header = line 1; XLSX:
the sheet row) with the start of each reason, the import_batches row, sum(amount), distinct customers,
hand-computed stored values, and that importing the same file again inserts and updates nothing.
"""
from __future__ import annotations

import gzip
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from loyalty.access import LOCAL_USER
from loyalty.db import session
from loyalty.importer import FileRejected, import_files

CORPUS = Path(__file__).resolve().parent / "corpus"


@dataclass
class Expect:
    kind: str
    rows_read: int      # data rows in the file, header excluded
    accepted: int       # file rows accepted
    records: int        # canonical records after roll-up (= inserted on a fresh database)
    # line -> the start of its reason; None when line numbers are not defined for the format (Parquet)
    rejects: dict[int, str] | None = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)  # exact rejected_by_reason entries to check
    total: str | None = None      # sum(amount) over orders
    customers: int | None = None  # count(DISTINCT customer_id) in the kind's table
    checks: dict[str, list[tuple]] = field(default_factory=dict)  # SQL -> exact rows
    mapping: dict[str, str] | None = None
    sheet: str | None = None


T = datetime  # timestamps are stored in UTC, without a zone

EXPECTED: dict[str, Expect] = {
    # -- plain comma CSV with order ids; ids keep their leading zeros
    "01_plain_comma.csv": Expect(
        "orders", 8, 8, 8,
        total="1815.85",  # 120.00 + 80.50 + 40.00 + 200.00 + 15.25 + 310.10 + 0.99 + 1049.01
        customers=4,      # 00123, 00456, 00789, 01000
        checks={
            "SELECT order_id, customer_id, order_date, amount, channel, sales_rep, product FROM orders "
            "WHERE order_id = 'SO-1006'": [("SO-1006", "00123", date(2024, 2, 29), D("310.10"), "web", "Ann", "Gizmo")],
            # 00123: 120 + 40 + 310.10; 00456: 80.50 + 15.25; 00789: 200 + 1049.01; 01000: 0.99
            "SELECT customer_id, count(*), sum(amount) FROM orders GROUP BY 1 ORDER BY 1": [
                ("00123", 3, D("470.10")), ("00456", 2, D("95.75")), ("00789", 2, D("1249.01")), ("01000", 1, D("0.99"))],
            "SELECT min(order_date), max(order_date) FROM orders": [(date(2024, 1, 3), date(2024, 3, 31))],
        },
    ),
    # -- the corrected re-export of 01 (used alone here, and on top of 01 in test_reimport_with_changes)
    "01b_plain_comma_corrected.csv": Expect(
        "orders", 5, 5, 5,
        total="1329.76",  # 120.00 + 85.50 + 15.25 + 1049.01 + 60.00
        customers=4,
    ),
    # -- German ERP: semicolons, decimal comma with '.' thousands, d.m.Y; German headers mapped explicitly
    "02_german_erp_semicolon.csv": Expect(
        "orders", 6, 6, 6,
        mapping={"order_id": "Belegnummer", "customer_id": "Kundennummer", "order_date": "Datum",
                 "amount": "Betrag", "quantity": "Menge"},
        total="15672.57",  # 1234.50 + 99.90 - 15.00 + 2000.00 + 7.50 + 12345.67
        customers=3,
        checks={"SELECT order_id, customer_id, order_date, amount, quantity FROM orders ORDER BY 1": [
            ("R-2024-001", "00042", date(2024, 1, 5), D("1234.50"), D(2)),
            ("R-2024-002", "00042", date(2024, 1, 12), D("99.90"), D(1)),
            ("R-2024-003", "00107", date(2024, 1, 31), D("-15.00"), D(1)),
            ("R-2024-004", "00311", date(2024, 2, 1), D("2000.00"), D(10)),
            ("R-2024-005", "00107", date(2024, 2, 29), D("7.50"), D(3)),      # "7,5"
            ("R-2024-006", "00311", date(2024, 3, 13), D("12345.67"), D(100)),
        ]},
    ),
    # -- tab-separated, commas inside values, "Order #" / "Cust ID" / "Date" / "Total" / "Qty" headers
    "03_tab_separated.tsv": Expect(
        "orders", 5, 5, 5,
        total="1315.50",  # 10 + 20 + 30 + 1250 + 5.5
        customers=3,
        checks={
            "SELECT order_id, customer_id, order_date, amount, quantity, product FROM orders WHERE order_id = 'T-04'":
                [("T-04", "K3", date(2024, 3, 4), D("1250.00"), D(50), "Tea, green")],
            "SELECT count(*) FROM orders WHERE product LIKE 'Tea, %'": [(3,)],  # T-01, T-02, T-04
        },
    ),
    # -- pipe-delimited .txt, yyyymmdd dates, parentheses and leading-minus negatives
    "04_pipe_delimited.txt": Expect(
        "orders", 6, 6, 6,
        total="1325.50",  # 100 + 200.5 - 50 + 75.25 - 0.25 + 1000
        customers=3,
        checks={"SELECT order_id, customer_id, order_date, amount, status FROM orders ORDER BY 1": [
            ("P-1", "A-1", date(2024, 1, 5), D("100.00"), "open"),
            ("P-2", "A-2", date(2024, 1, 6), D("200.50"), "paid"),
            ("P-3", "A-1", date(2024, 1, 7), D("-50.00"), "refunded"),
            ("P-4", "A-3", date(2024, 2, 15), D("75.25"), "paid"),
            ("P-5", "A-2", date(2024, 3, 1), D("-0.25"), "paid"),
            ("P-6", "A-3", date(2024, 12, 31), D("1000.00"), "paid"),
        ]},
    ),
    # -- space-aligned report: columns separated by runs of spaces; single spaces stay inside a value
    #    ("Acme Corp", header "ORDER DATE"); right-aligned amounts; no order id
    "05_space_aligned_report.txt": Expect(
        "orders", 5, 5, 5,
        total="1839.95",  # 1000 + 250 + 500 + 99.95 - 10
        customers=3,
        checks={
            "SELECT customer_id, count(*), sum(amount) FROM orders GROUP BY 1 ORDER BY 1": [
                ("Acme Corp", 2, D("1500.00")), ("Beta Ltd", 2, D("240.00")), ("Gamma AG", 1, D("99.95"))],
            "SELECT count(order_id) FROM orders": [(0,)],
            "SELECT order_date FROM orders WHERE amount < 0": [(date(2024, 4, 30),)],
        },
    ),
    # -- UTF-8 with a BOM before the first header ("Order #" must still be found), non-ASCII text
    "06_utf8_bom.csv": Expect(
        "orders", 5, 5, 5,
        total="150.00",  # 10 + 20 + 30 + 40 + 50
        customers=3,
        checks={"SELECT order_id, customer_id, product FROM orders ORDER BY 1": [
            ("B-1", "c-01", "Crème brûlée"), ("B-2", "c-02", "Smørrebrød"), ("B-3", "c-01", "Crème brûlée"),
            ("B-4", "c-03", "Ćevapi"), ("B-5", "c-02", "Smørrebrød")]},
    ),
    # -- Windows-1252: accented names, "€" (byte 0x80) before or after the amount, decimal comma, d.m.Y
    "07_windows1252_euro.csv": Expect(
        "orders", 5, 5, 5,
        total="2540.00",  # 1200 + 45.50 + 300 + 1000 - 5.50
        customers=3,
        checks={
            # Café Zoë: 45.50 - 5.50; Müller GmbH: 1200 + 300; Société Générale: 1000
            "SELECT customer_id, count(*), sum(amount) FROM orders GROUP BY 1 ORDER BY 1": [
                ("Café Zoë", 2, D("40.00")), ("Müller GmbH", 2, D("1500.00")), ("Société Générale", 1, D("1000.00"))],
            "SELECT product FROM orders WHERE order_date = DATE '2024-06-20'": [("Würstchen",)],
        },
    ),
    # -- Shopify orders export: one row per line item; Name, Email, Paid at and Total only on the first
    #    line of an order; Total includes shipping/tax/discount, so it wins over quantity x price
    "08_shopify_line_items.csv": Expect(
        "orders", 8, 8, 4,
        total="240.00",  # 55 + 33 + 12 + 140 (not the line sums 50, 30, 12, 150)
        customers=3,     # jane, tom, ann (e-mails lower-cased)
        checks={"SELECT order_id, customer_id, order_date, amount FROM orders ORDER BY 1": [
            ("#1001", "jane@example.com", date(2024, 7, 1), D("55.00")),
            ("#1002", "tom@example.com", date(2024, 7, 2), D("33.00")),  # 23:30 -05:00: local date kept
            ("#1003", "jane@example.com", date(2024, 7, 5), D("12.00")),
            ("#1004", "ann@example.com", date(2024, 7, 6), D("140.00")),
        ]},
    ),
    # -- UCI Online Retail: invoice lines, no amount column (amount = sum of Quantity x UnitPrice),
    #    m/d/Y h:mm dates, "C" credit notes, and one line without a CustomerID (line 15)
    "09_online_retail_invoices.csv": Expect(
        "orders", 14, 13, 8,
        rejects={15: "customer_id: missing"},
        total="210.37",  # 57.64 + 22.20 + 66.68 + 25.50 + 50.55 + 19.95 - 27.50 - 4.65
        customers=6,     # 17850, 13047, 14527, 15311, 18074, 17420
        checks={"SELECT order_id, customer_id, order_date, amount FROM orders ORDER BY 1": [
            ("536365", "17850", date(2010, 12, 1), D("57.64")),   # 6*2.55 + 6*3.39 + 8*2.75 = 15.30 + 20.34 + 22.00
            ("536366", "17850", date(2010, 12, 1), D("22.20")),   # 6*1.85 + 6*1.85
            ("536367", "13047", date(2010, 12, 1), D("66.68")),   # 32*1.69 + 6*2.10 = 54.08 + 12.60
            ("536368", "13047", date(2010, 12, 1), D("25.50")),   # 6*4.25
            ("536384", "18074", date(2010, 12, 1), D("50.55")),   # 3*6.45 + 48*0.65 = 19.35 + 31.20
            ("536385", "17420", date(2010, 12, 2), D("19.95")),   # 12/2/2010 is 2 December
            ("C536379", "14527", date(2010, 12, 1), D("-27.50")),  # -1 * 27.50, credit note
            ("C536383", "15311", date(2010, 12, 1), D("-4.65")),   # -1 * 4.65, credit note
        ]},
    ),
    # -- no order id: customer, date, quantity, amount; lines 2 and 3 are identical and both count
    "10_purchases_no_order_id.csv": Expect(
        "orders", 6, 6, 6,
        total="89.91",  # 4 * 9.99 + 29.97 + 19.98
        customers=3,
        checks={"SELECT customer_id, order_date, count(*), sum(amount) FROM orders GROUP BY 1, 2 ORDER BY 1, 2": [
            ("u1", date(2024, 8, 1), 2, D("19.98")),
            ("u1", date(2024, 8, 4), 1, D("9.99")),
            ("u2", date(2024, 8, 2), 2, D("39.96")),   # 29.97 + 9.99
            ("u3", date(2024, 8, 3), 1, D("19.98")),
        ]},
    ),
    # -- the overlapping pair alone (together: test_overlapping_exports)
    "11a_export_jan_feb.csv": Expect("orders", 5, 5, 5, total="140.00", customers=3),  # 10 + 20 + 30 + 40 + 40
    "11b_export_feb_mar.csv": Expect("orders", 5, 5, 5, total="220.00", customers=4),  # 30 + 40 + 40 + 50 + 60
    # -- bad rows, each with one problem; N/A and NA in the optional channel are missing, not errors
    "12_bad_rows.csv": Expect(
        "orders", 13, 3, 3,
        rejects={
            3: "order_date: not a date",          # 31/31/2024
            4: "amount: not a number",            # twenty
            5: "customer_id: missing",
            6: "row: wrong number of fields",     # one field too many
            8: "order_date: date out of range",   # 1850-01-01
            9: "amount: missing",
            10: "order_date: missing",
            11: "order_date: not a date",         # 2024-02-30
            12: "amount: not a number",           # 1.2.3
            13: "row: wrong number of fields",    # one field too few
        },
        reasons={"order_date: not a date": 2, "amount: not a number": 2, "customer_id: missing": 1,
                 "row: wrong number of fields": 2, "order_date: date out of range": 1},
        total="83.00",  # X1 10 + X6 60 + X13 13
        customers=3,    # w1, w6, W1 (not an e-mail: case kept)
        checks={
            "SELECT order_id, customer_id, channel FROM orders ORDER BY order_date": [
                ("X1", "w1", "web"), ("X6", "w6", None), ("X13", "W1", None)],
            "SELECT line FROM rejected_rows WHERE raw LIKE '%twenty%'": [(4,)],
            "SELECT line FROM rejected_rows WHERE raw LIKE '%extra%'": [(6,)],
        },
    ),
    # -- amounts: $ with thousands separators, parentheses, currency codes, trailing minus, £
    "13_amount_formats.csv": Expect(
        "orders", 10, 10, 10,
        # 1234.56 - 45 + 99 - 12.50 + 7 - 1000 + 2500.10 + 1000000 - 3.33 + 0.67
        total="1002780.50",
        customers=4,
        checks={"SELECT order_id, amount FROM orders ORDER BY order_date": [
            ("M1", D("1234.56")), ("M2", D("-45.00")), ("M3", D("99.00")), ("M4", D("-12.50")),
            ("M5", D("7.00")), ("M6", D("-1000.00")), ("M7", D("2500.10")), ("M8", D("1000000.00")),
            ("M9", D("-3.33")), ("M10", D("0.67"))]},
    ),
    # -- one date column, many formats; order D<nn> is on 2024-11-<nn>.
    #    45600 = 45292 (2024-01-01) + 308 days = day 309 of 2024 = 4 November (Jan-Oct hold 305 days);
    #    45608.5 = 12 November, noon; offsets keep the written local date (D05 is 6 Nov in UTC, D06 is 5 Nov)
    "14_mixed_dates.csv": Expect(
        "orders", 12, 12, 12,
        total="12.00",
        customers=1,
        checks={"SELECT order_id, order_date FROM orders ORDER BY 1": [
            (f"D{d:02d}", date(2024, 11, d)) for d in range(1, 13)]},
    ),
    # -- e-mail ids: surrounding spaces trimmed, lower-cased, so Alice/alice/ALICE are one customer
    "15_email_ids.csv": Expect(
        "orders", 6, 6, 6,
        total="210.00",  # 10 + 20 + 30 + 40 + 50 + 60
        customers=3,
        checks={"SELECT customer_id, count(*), sum(amount) FROM orders GROUP BY 1 ORDER BY 1": [
            ("alice@example.com", 3, D("90.00")),   # 10 + 20 + 60
            ("bob@example.com", 2, D("70.00")),     # 30 + 40
            ("carol@example.org", 1, D("50.00"))]},
    ),
    # -- CRM customers: yes/no/1/0/Y-style booleans, referred_by, account team "A;B"; "maybe" is rejected
    "16_customers_crm.csv": Expect(
        "customers", 6, 5, 5,
        mapping={"name": "Company Name", "created_at": "Customer since",
                 "on_maintenance_plan": "Maintenance Plan", "reference_willing": "Reference"},
        rejects={5: "on_maintenance_plan:"},
        customers=5,
        checks={"SELECT customer_id, name, region, industry, created_at, on_maintenance_plan, reference_willing, "
                "referred_by, account_team FROM customers ORDER BY 1": [
            ("00017", "Acme", "North", "Retail", date(2023, 1, 15), True, False, None, "Ann;Bo"),
            ("00018", "Beta", "South", "Logistics", date(2023, 2, 1), False, True, "00017", "Cy"),
            ("00019", "Gamma", "East", "Retail", date(2023, 3, 1), True, False, "00018", "Ann"),  # 03/01/2023 m/d/Y
            ("00021", "Epsilon", "North", "Retail", None, True, False, "00017", "Ann;Cy"),
            ("00022", "Zeta", None, "Logistics", date(2023, 6, 30), False, True, None, None),
        ]},
    ),
    # -- Zendesk-style tickets: durations in minutes become timestamps; csat 7 and 0 out of range;
    #    a ticket without a creation time
    "17_zendesk_tickets.csv": Expect(
        "tickets", 8, 5, 5,
        mapping={"ticket_id": "Id", "customer_id": "Requester email", "opened_at": "Created at",
                 "kind": "Type", "channel": "Via", "csat": "Satisfaction Score"},
        rejects={4: "csat: out of range 1–5", 6: "opened_at: missing", 8: "csat: out of range 1–5"},
        customers=4,  # ann (101, 102), bo (104), cy (106), dee (108)
        checks={"SELECT ticket_id, customer_id, opened_at, first_response_at, resolved_at, channel, csat "
                "FROM tickets ORDER BY 1": [
            ("101", "ann@x.com", T(2024, 5, 1, 9), T(2024, 5, 1, 9, 30), T(2024, 5, 1, 13), "email", 5),  # +30, +240 min
            ("102", "ann@x.com", T(2024, 5, 2, 10), T(2024, 5, 2, 20), None, "web", None),             # +600 min
            # 08:00+02:00 = 06:00 UTC; +45 min; +1500 min = +25 h
            ("104", "bo@y.com", T(2024, 5, 4, 6), T(2024, 5, 4, 6, 45), T(2024, 5, 5, 7), "email", 4),
            ("106", "cy@z.com", T(2024, 5, 6, 23, 50), T(2024, 5, 7, 0, 10), None, "email", 2),       # +20 min
            ("108", "dee@w.com", T(2024, 5, 8, 8), None, None, "web", None),                          # csat N/A
        ]},
    ),
    # -- surveys: nps 11 and -1 out of range, csat 6 out of range, nps 8.5 not a whole number
    "18_surveys.csv": Expect(
        "surveys", 8, 4, 4,
        mapping={"customer_id": "Respondent Email", "answered_at": "Submitted at"},
        rejects={3: "nps: out of range 0–10", 7: "nps: out of range 0–10", 8: "csat: out of range 1–5", 9: "nps:"},
        reasons={"nps: out of range 0–10": 2, "csat: out of range 1–5": 1},
        customers=3,  # ann (twice), cy, dee
        checks={
            "SELECT customer_id, answered_at, nps, csat FROM surveys ORDER BY answered_at": [
                ("ann@x.com", T(2024, 6, 1, 12), 9, 5),
                ("cy@z.com", T(2024, 6, 3, 12), 3, None),
                ("dee@w.com", T(2024, 6, 3, 23, 30), 10, 5),   # 2024-06-04 01:30 +02:00
                ("ann@x.com", T(2024, 6, 5, 12), 0, 1),
            ],
            "SELECT sum(nps) FROM surveys": [(22,)],  # 9 + 3 + 10 + 0
        },
    ),
    # -- headers nobody would guess: an explicit mapping; "Gross" is ignored, "Net Value" is the amount
    "23_odd_headers_mapping.csv": Expect(
        "orders", 5, 5, 5,
        mapping={"order_id": "Doc No", "customer_id": "Sold-To Party", "order_date": "Posting Dt",
                 "amount": "Net Value", "sales_rep": "Rep"},
        total="1360.00",  # 100 + 200 + 50 + 10 + 1000
        customers=3,
        checks={"SELECT order_id, customer_id, amount, sales_rep FROM orders WHERE order_id = 'INV-9005'": [
            ("INV-9005", "SOLD-002", D("1000.00"), "Bo")]},
    ),
    # -- UK export: a first component above 12 (13/01, 31/12) makes the whole column d/m/Y; £ amounts
    "24_uk_dayfirst.csv": Expect(
        "orders", 5, 5, 5,
        total="1302.99",  # 12 + 1200.50 + 0.50 + 99.99 - 10
        customers=3,
        checks={"SELECT order_id, order_date, amount FROM orders ORDER BY 1": [
            ("UK-1", date(2024, 1, 13), D("12.00")),
            ("UK-2", date(2024, 3, 2), D("1200.50")),
            ("UK-3", date(2024, 12, 31), D("0.50")),
            ("UK-4", date(2024, 2, 1), D("99.99")),
            ("UK-5", date(2024, 6, 5), D("-10.00")),
        ]},
    ),
    # -- generated (see BUILDERS): XLSX whose data is on the second sheet, chosen by sheet=
    "30_two_sheets.xlsx": Expect(
        "orders", 6, 5, 5,
        sheet="Orders",
        rejects={4: "order_date: not a date"},  # sheet row 4: X-3
        total="1125.24",  # 100.50 + 20 + 1000 + 19.99 - 15.25
        customers=3,      # "0042" (text cell), "42" (number cell), "0077"
        checks={"SELECT order_id, customer_id, order_date, amount FROM orders ORDER BY 1": [
            ("X-1", "0042", date(2024, 1, 5), D("100.50")),   # date cell
            ("X-2", "42", date(2024, 1, 6), D("20.00")),      # number cell 42, text date
            ("X-4", "0077", date(2024, 1, 8), D("1000.00")),  # "$1,000.00" as text
            ("X-5", "0077", date(2024, 1, 9), D("19.99")),    # serial 45300 = 45292 + 8
            ("X-6", "0042", date(2024, 1, 31), D("-15.25")),  # 23:59 on the 31st
        ]},
    ),
    # -- generated: Parquet with typed columns (float ids as pandas writes them, timestamps, floats);
    #    P-4 has no customer (line numbers are not defined for Parquet, so only the reason is checked)
    "31_typed.parquet": Expect(
        "orders", 5, 4, 4,
        rejects=None,
        reasons={"customer_id: missing": 1},
        total="24.85",  # 10 + 20.25 - 5.5 + 0.1
        customers=3,
        checks={"SELECT order_id, customer_id, order_date, amount, quantity FROM orders ORDER BY 1": [
            ("P-1", "12346", date(2024, 2, 1), D("10.00"), D(1)),
            ("P-2", "12347", date(2024, 2, 2), D("20.25"), D(2)),
            ("P-3", "12346", date(2024, 2, 3), D("-5.50"), D(1)),
            ("P-5", "12348", date(2024, 2, 29), D("0.10"), D(3)),
        ]},
    ),
}
# gzip-compressed copies give exactly what the uncompressed file gives
EXPECTED["32_online_retail.csv.gz"] = EXPECTED["09_online_retail_invoices.csv"]
EXPECTED["33_windows1252.csv.gz"] = EXPECTED["07_windows1252_euro.csv"]
EXPECTED["34_bad_rows.csv.gz"] = EXPECTED["12_bad_rows.csv"]
EXPECTED["35_typed.parquet.gz"] = EXPECTED["31_typed.parquet"]


# ---------------------------------------------------------------------------------- generated files

def _gzip(source: Path, target: Path) -> Path:
    target.write_bytes(gzip.compress(source.read_bytes(), mtime=0))
    return target


def build_junk(path: Path) -> Path:
    """An old binary .xls (OLE2 signature) saved under a .csv name: NUL bytes and control bytes."""
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(range(256)) * 8)
    return path


def build_xlsx(path: Path) -> Path:
    """Two sheets: 'Notes' first (no table), 'Orders' second with the header on row 1 and typed cells."""
    import openpyxl

    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["Exported from the ERP"])
    notes.append(["Period", "January 2024"])
    sheet = book.create_sheet("Orders")
    sheet.append(["Order ID", "Customer ID", "Order Date", "Amount", "Quantity"])  # row 1
    sheet.append(["X-1", "0042", datetime(2024, 1, 5), 100.5, 1])                 # row 2
    sheet.append(["X-2", 42, "2024-01-06", 20, 2])                                 # row 3
    sheet.append(["X-3", "0042", "not a date", 5, 1])                              # row 4: rejected
    sheet.append(["X-4", "0077", datetime(2024, 1, 8), "$1,000.00", 3])            # row 5
    sheet.append(["X-5", "0077", 45300, 19.99, 1])                                 # row 6
    sheet.append(["X-6", "0042", datetime(2024, 1, 31, 23, 59), -15.25, 1])        # row 7
    book.properties.created = book.properties.modified = datetime(2024, 2, 1)
    book.save(path)
    # openpyxl stamps the save time (zip members, docProps 'modified'): repack with a fixed one, so the
    # workbook has the same bytes on every run
    with zipfile.ZipFile(path) as src:
        members = [(info.filename, src.read(info)) for info in src.infolist()]
    members = [(m, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-02-01T00:00:00Z", d)) for m, d in members]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for member, data in members:
            dst.writestr(zipfile.ZipInfo(member, date_time=(2024, 2, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return path


def build_parquet(path: Path) -> Path:
    import pandas as pd

    pd.DataFrame({
        "InvoiceNo": ["P-1", "P-2", "P-3", "P-4", "P-5"],
        "CustomerID": [12346.0, 12347.0, 12346.0, None, 12348.0],   # float ids with a gap, as pandas writes them
        "InvoiceDate": pd.to_datetime(["2024-02-01 10:00", "2024-02-02 11:00", "2024-02-03 12:00",
                                       "2024-02-04 09:00", "2024-02-29 23:59"]),
        "Revenue": [10.0, 20.25, -5.5, 99.0, 0.1],
        "Quantity": [1, 2, 1, 1, 3],
    }).to_parquet(path, index=False)
    return path


def build_truncated_gzip(path: Path) -> Path:
    """A gzip download cut off half-way."""
    data = gzip.compress((CORPUS / "09_online_retail_invoices.csv").read_bytes() * 20, mtime=0)
    path.write_bytes(data[: len(data) // 2])
    return path


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "19_binary_junk.csv": build_junk,
    "30_two_sheets.xlsx": build_xlsx,
    "31_typed.parquet": build_parquet,
    "32_online_retail.csv.gz": lambda p: _gzip(CORPUS / "09_online_retail_invoices.csv", p),
    "33_windows1252.csv.gz": lambda p: _gzip(CORPUS / "07_windows1252_euro.csv", p),
    "34_bad_rows.csv.gz": lambda p: _gzip(CORPUS / "12_bad_rows.csv", p),
    "35_typed.parquet.gz": lambda p: _gzip(build_parquet(p.parent / "typed.parquet"), p),
    "36_truncated.csv.gz": build_truncated_gzip,
}


@pytest.fixture
def corpus(tmp_path) -> Callable[[str], Path]:
    """The path of a corpus file: committed text files as they are, binary ones built into tmp_path."""
    def _path(name: str) -> Path:
        if name in BUILDERS:
            target = tmp_path / "files" / name
            target.parent.mkdir(exist_ok=True)
            return target if target.exists() else BUILDERS[name](target)
        return CORPUS / name
    return _path


def rows(con, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


# ---------------------------------------------------------------------------------- the corpus

def test_corpus_is_complete():
    """Every committed corpus file is used by a test, and every expected file exists or is built."""
    used = set(EXPECTED) | set(BUILDERS) | {name for name, *_ in REFUSED.values()}
    assert {p.name for p in CORPUS.iterdir()} <= used
    assert all((CORPUS / n).exists() or n in BUILDERS for n in used)
    assert len(used) >= 16


@pytest.mark.parametrize("name", list(EXPECTED))
def test_corpus_file(tmp_path, corpus, name):
    exp = EXPECTED[name]
    path = corpus(name)
    options = {"mapping": exp.mapping, "sheet": exp.sheet}
    with session(tmp_path / "t.duckdb") as con:
        [s] = import_files(con, exp.kind, [path], user=LOCAL_USER, **options)

        # counts
        assert (s.file_name, s.kind) == (path.name, exp.kind)
        assert isinstance(s.batch_id, int)
        got = (s.rows_read, s.accepted, s.rejected, s.records, s.inserted, s.updated, s.unchanged)
        assert got == (exp.rows_read, exp.accepted, exp.rows_read - exp.accepted, exp.records, exp.records, 0, 0)
        assert sum(s.rejected_by_reason.values()) == s.rejected, s.rejected_by_reason
        for reason, count in exp.reasons.items():
            assert s.rejected_by_reason.get(reason) == count, s.rejected_by_reason
        assert rows(con, "SELECT rows_read, inserted, updated, unchanged, rejected FROM import_batches WHERE id = ?",
                    [s.batch_id]) == [(exp.rows_read, exp.records, 0, 0, exp.rows_read - exp.accepted)]

        # rejected rows: the exact lines, each reason starting with the expected text
        stored = rows(con, "SELECT line, reason FROM rejected_rows WHERE batch_id = ? ORDER BY line", [s.batch_id])
        assert len(stored) == exp.rows_read - exp.accepted, stored
        if exp.rejects is not None:
            assert [line for line, _ in stored] == sorted(exp.rejects), stored
            for line, reason in stored:
                assert reason.startswith(exp.rejects[line]), (line, reason)
        for _, reason in stored:
            assert re.match(r"^[a-z_]+: \S", reason), reason  # "<canonical column>: <problem>"

        # stored values
        assert rows(con, f"SELECT count(*) FROM {exp.kind}") == [(exp.records,)]
        if exp.total is not None:
            assert rows(con, "SELECT sum(amount) FROM orders") == [(D(exp.total),)]
        if exp.customers is not None:
            assert rows(con, f"SELECT count(DISTINCT customer_id) FROM {exp.kind}") == [(exp.customers,)]
        for sql, expected in exp.checks.items():
            assert rows(con, sql) == expected, sql

        # the same file again: nothing new, nothing changed, nothing counted twice
        [again] = import_files(con, exp.kind, [path], user=LOCAL_USER, **options)
        assert (again.rows_read, again.accepted, again.records) == (exp.rows_read, exp.accepted, exp.records)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, exp.records)
        assert rows(con, f"SELECT count(*) FROM {exp.kind}") == [(exp.records,)]
        if exp.total is not None:
            assert rows(con, "SELECT sum(amount) FROM orders") == [(D(exp.total),)]


# case -> (file, kind, options, pattern the one-sentence message must match)
REFUSED = {
    "binary junk named .csv": ("19_binary_junk.csv", "orders", {}, None),
    "no date column": ("20_missing_required.csv", "orders", {}, r"(?i)order.?date"),
    "header only": ("21_header_only.csv", "orders", {}, None),
    "no acceptable row": ("22_all_rows_bad.csv", "orders", {}, None),
    "odd headers without a mapping": ("23_odd_headers_mapping.csv", "orders", {}, r"(?i)customer.?id"),
    "xlsx: first sheet holds notes": ("30_two_sheets.xlsx", "orders", {}, None),
    "xlsx: no such sheet": ("30_two_sheets.xlsx", "orders", {"sheet": "Sheet9"}, "Sheet9"),
    "truncated gzip": ("36_truncated.csv.gz", "orders", {}, None),
    "orders file as tickets": ("01_plain_comma.csv", "tickets", {}, r"(?i)opened.?at"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_corpus_file_refused(tmp_path, corpus, case):
    name, kind, options, pattern = REFUSED[case]
    path = corpus(name)
    with session(tmp_path / "t.duckdb") as con:
        with pytest.raises(FileRejected) as caught:
            import_files(con, kind, [path], user=LOCAL_USER, **options)
        message = str(caught.value)
        assert message and "\n" not in message and "Traceback" not in message, message
        assert path.name in message, message   # the user may have uploaded several files
        if pattern:
            assert re.search(pattern, message), message
        for table in ("import_batches", "rejected_rows", "orders", "orders_history", "tickets"):
            assert rows(con, f"SELECT count(*) FROM {table}") == [(0,)], table


# ---------------------------------------------------------------------------------- across imports

@pytest.mark.parametrize("together", [False, True], ids=["two calls", "one call"])
def test_overlapping_exports(tmp_path, together):
    """Jan-Feb, then Feb-Mar, without order ids: February (v1 30.00 and v3's two identical 40.00
    purchases) is counted once, and v3's two identical purchases stay two."""
    a, b = CORPUS / "11a_export_jan_feb.csv", CORPUS / "11b_export_feb_mar.csv"
    with session(tmp_path / "t.duckdb") as con:
        if together:
            first, second = import_files(con, "orders", [a, b], user=LOCAL_USER)
        else:
            [first] = import_files(con, "orders", [a], user=LOCAL_USER)
            [second] = import_files(con, "orders", [b], user=LOCAL_USER)
        assert (first.inserted, first.updated, first.unchanged) == (5, 0, 0)
        assert (second.inserted, second.updated, second.unchanged) == (2, 0, 3)   # v2 in March, v4
        # 10 + 20 + 30 + 40 + 40 + 50 + 60
        assert rows(con, "SELECT count(*), sum(amount), count(DISTINCT customer_id) FROM orders") == [(7, D("250.00"), 4)]
        assert rows(con, "SELECT count(*) FROM orders WHERE month(order_date) = 2") == [(3,)]
        assert rows(con, "SELECT count(*) FROM orders WHERE customer_id = 'v3'") == [(2,)]
        [again] = import_files(con, "orders", [b], user=LOCAL_USER)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)


def test_reimport_with_changes_updates_in_place(tmp_path):
    """01 then its corrected re-export 01b: SO-1002's amount and SO-1005's channel changed (updated),
    SO-1001 and SO-1008 as before (unchanged), SO-1009 is new; SO-1003/4/6/7 are left alone."""
    with session(tmp_path / "t.duckdb") as con:
        import_files(con, "orders", [CORPUS / "01_plain_comma.csv"], user=LOCAL_USER)
        [s] = import_files(con, "orders", [CORPUS / "01b_plain_comma_corrected.csv"], user=LOCAL_USER)
        assert (s.rows_read, s.records, s.inserted, s.updated, s.unchanged) == (5, 5, 1, 2, 2)
        # 1815.85 + (85.50 - 80.50) + 60.00
        assert rows(con, "SELECT count(*), sum(amount) FROM orders") == [(9, D("1880.85"))]
        assert rows(con, "SELECT order_id, amount, channel FROM orders WHERE order_id IN ('SO-1002', 'SO-1005') ORDER BY 1") == [
            ("SO-1002", D("85.50"), "email"), ("SO-1005", D("15.25"), "phone")]
        assert rows(con, "SELECT count(*) FROM orders WHERE order_id = 'SO-1002'") == [(1,)]


def test_dry_run_validates_and_writes_nothing(tmp_path):
    with session(tmp_path / "t.duckdb") as con:
        [s] = import_files(con, "orders", [CORPUS / "12_bad_rows.csv"], dry_run=True, user=LOCAL_USER)
        assert s.batch_id is None
        assert (s.rows_read, s.accepted, s.rejected, s.records, s.inserted) == (13, 3, 10, 3, 3)
        assert s.rejected_by_reason["row: wrong number of fields"] == 2
        for table in ("import_batches", "rejected_rows", "orders", "orders_history"):
            assert rows(con, f"SELECT count(*) FROM {table}") == [(0,)], table


def test_line_items_and_files_mix_in_one_call(tmp_path):
    """The Shopify and UCI files in one call: two batches, 4 + 8 orders, 240.00 + 210.37."""
    with session(tmp_path / "t.duckdb") as con:
        shop, uci = import_files(con, "orders", [CORPUS / "08_shopify_line_items.csv",
                                                 CORPUS / "09_online_retail_invoices.csv"], user=LOCAL_USER)
        assert (shop.records, uci.records, uci.rejected) == (4, 8, 1)
        assert shop.batch_id != uci.batch_id
        assert rows(con, "SELECT count(*), sum(amount) FROM orders") == [(12, D("450.37"))]
        assert rows(con, "SELECT batch_id, line, reason FROM rejected_rows") == [(uci.batch_id, 15, "customer_id: missing")]
