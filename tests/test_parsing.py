"""Value parsing: each SQL builder against values worked out by hand."""
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from loyalty import parsing
from loyalty.schema import CHANNEL, TICKET_KIND, Column
from loyalty.mapping import auto_map, load_mapping_json, merge, normalise


@pytest.fixture(scope="module")
def duck():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    yield con
    con.close()


def parse(duck, builder, text):
    return duck.execute(
        f"WITH t AS (SELECT {parsing.clean('$v')} AS x) SELECT {builder('x')} FROM t", {"v": text}
    ).fetchall()[0][0]


@pytest.mark.parametrize("text, expected", [
    ("2024-03-01", date(2024, 3, 1)),
    ("2024-03-01 17:45:10", date(2024, 3, 1)),
    ("03/04/2024", date(2024, 3, 4)),          # m/d/Y
    ("12/1/2010 8:26", date(2010, 12, 1)),     # UCI Online Retail
    ("01.03.2024", date(2024, 3, 1)),          # d.m.Y
    ("20240301", date(2024, 3, 1)),            # yyyymmdd
    ("45292", date(2024, 1, 1)),               # Excel serial: 1899-12-30 + 45292 days
    ("01-Mar-2024", date(2024, 3, 1)),
    ("Mar 1, 2024", date(2024, 3, 1)),
    ("2024-03-01T23:30:00-05:00", date(2024, 3, 1)),  # a DATE keeps the local date as written
    ("1850-01-01", None),                      # out of range
    ("soon", None),
    ("N/A", None),
])
def test_dates(duck, text, expected):
    assert parse(duck, parsing.parse_date, text) == expected


def test_day_first_slash_dates(duck):
    assert parse(duck, lambda x: parsing.parse_date(x, dayfirst=True), "03/04/2024") == date(2024, 4, 3)


@pytest.mark.parametrize("text, expected", [
    ("2024-03-01T23:30:00-05:00", datetime(2024, 3, 2, 4, 30)),   # +5 h to UTC
    ("2024-03-01 10:00:00 +02:00", datetime(2024, 3, 1, 8, 0)),
    ("2024-03-01T10:00:00Z", datetime(2024, 3, 1, 10, 0)),
    ("45292.5", datetime(2024, 1, 1, 12, 0)),                     # half a day
    ("2024-03-01", datetime(2024, 3, 1)),
])
def test_timestamps_are_utc(duck, text, expected):
    assert parse(duck, parsing.parse_timestamp, text) == expected


@pytest.mark.parametrize("text, comma, expected", [
    ("$1,234.50", False, Decimal("1234.50")),
    ("(12.00)", False, Decimal("-12.00")),
    ("-5", False, Decimal("-5.00")),
    ("5-", False, Decimal("-5.00")),
    ("USD 1 234.5", False, Decimal("1234.50")),
    ("1'234.50", False, Decimal("1234.50")),
    ("€12", False, Decimal("12.00")),
    ("1.2.3", False, None),
    ("abc", False, None),
    ("1.234,50", True, Decimal("1234.50")),
    ("12,5", True, Decimal("12.50")),
    ("(1.000)", True, Decimal("-1000.00")),
    ("€ 12,00", True, Decimal("12.00")),
])
def test_amounts(duck, text, comma, expected):
    assert parse(duck, lambda x: parsing.parse_number(x, comma, "DECIMAL(18,2)"), text) == expected


@pytest.mark.parametrize("text, expected", [
    ("", None), ("   ", None), ("NA", None), (" n/a ", None), ("NULL", None), ("None", None), ("NaN", None),
    ("NaT", None), ("-", None), ("#N/A", None), ("--", None), ("\u00a0N/A\u00a0", None),  # no-break spaces trim too
    ("nana", "nana"), ("  none yet ", "none yet"), ("N/A-7", "N/A-7"), ("\tNA", "\tNA"),  # a tab is not trimmed
    ("  K-00042  ", "K-00042"), ("K-7 ", "K-7"), (" K-7", "K-7"), ("\u3000K-7\u202f", "K-7"),  # ideographic, narrow
    ("\u00a0\u00a0", None), ("K\u00a01", "K\u00a01"), ("née", "née"), (" Nän ", "Nän"), ("NA\u00a0", None),
])
def test_missing_placeholders_and_trimming(duck, text, expected):
    assert duck.execute(f"SELECT {parsing.clean('$v')}", {"v": text}).fetchall()[0][0] == expected


@pytest.mark.parametrize("kind, text, expected", [
    (CHANNEL, "E-Mail", "email"), (CHANNEL, "TELEPHONE", "phone"), (CHANNEL, "Webshop", "web"),
    (CHANNEL, "In Person", "in_person"), (CHANNEL, "visit", "in_person"), (CHANNEL, "EDI", "edi"),
    (CHANNEL, "fax", "other"), (CHANNEL, "n/a", None),
    (TICKET_KIND, "Enquiry", "inquiry"), (TICKET_KIND, "Incident", "complaint"), (TICKET_KIND, "visit", "outreach"),
    (TICKET_KIND, "Compliment", "praise"), (TICKET_KIND, "billing", "other"), (TICKET_KIND, "", None),
])
def test_channels_and_ticket_kinds_read_case_blind(duck, kind, text, expected):
    assert parse(duck, lambda x: parsing.parse_value(Column("c", kind), x), text) == expected


@pytest.mark.parametrize("text, expected", [("Yes", True), ("n", False), ("1", True), ("0", False), ("maybe", None),
                                            ("OUI", True), ("Nein", False), ("1.0", True), ("sí", True), ("x", True)])
def test_booleans(duck, text, expected):
    assert parse(duck, parsing.parse_bool, text) == expected


def test_ids_trimmed_and_emails_case_blind(duck):
    assert parse(duck, parsing.parse_id, "  Bob@Example.COM ") == "bob@example.com"
    assert parse(duck, parsing.parse_id, " 0042 ") == "0042"


def test_header_normalisation_and_synonyms():
    assert normalise("Order #") == "order"
    assert normalise("Cust. ID") == "custid"
    assert auto_map("orders", ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]) == {
        "order_id": "InvoiceNo", "product": "StockCode", "quantity": "Quantity",
        "order_date": "InvoiceDate", "unit_price": "UnitPrice", "customer_id": "CustomerID",
    }
    assert auto_map("orders", ["Account", "Date", "Net Amount"]) == {
        "customer_id": "Account", "order_date": "Date", "amount": "Net Amount"}


def test_user_mapping_overrides_and_unmaps():
    headers = ["Cust", "When", "Total", "Revenue"]
    mapping = merge("orders", headers, {"amount": "Revenue", "customer_id": "Cust", "order_date": "When"})
    assert mapping == {"amount": "Revenue", "customer_id": "Cust", "order_date": "When"}
    assert "amount" not in merge("orders", headers, {"amount": None})
    with pytest.raises(ValueError, match="no such column"):
        merge("orders", headers, {"amount": "Price"})
    with pytest.raises(ValueError, match="not one of the orders columns"):
        merge("orders", headers, {"colour": "Cust"})


def test_mapping_json_is_checked():
    assert load_mapping_json('{"amount": "Total"}') == {"amount": "Total"}
    with pytest.raises(ValueError, match="not valid JSON"):
        load_mapping_json("{amount: Total}")
    with pytest.raises(ValueError, match="JSON object"):
        load_mapping_json('["amount"]')
