"""Downloads that cannot run as spreadsheet formulas (CSV and XLSX), and the upload size limit."""
from __future__ import annotations

import csv
import io
import tomllib
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from streamlit import config
from streamlit.testing.v1 import AppTest

from loyalty.downloads import csv_bytes, spreadsheet_safe, xlsx_bytes

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(1)", "\t=1+1", "\r=1+1", "plain", "a=b", None]
QUOTED = ["'=cmd|' /C calc'!A0", "'+1", "'-2+3", "'@SUM(1)", "'\t=1+1", "'\r=1+1", "plain", "a=b", None]
AMOUNTS = [-5, -2.5, 0, 1, 2, 3, 4, 5, 6]


def hostile_frame() -> pd.DataFrame:
    return pd.DataFrame({"=HYPERLINK(\"http://x\")": HOSTILE, "amount": AMOUNTS, "-note": ["x"] * 9,
                         "when": pd.to_datetime(["2024-01-05 10:00"] * 9, utc=True)})


def test_text_cells_and_column_names_are_quoted_numbers_stay_numbers():
    frame = hostile_frame()
    safe = spreadsheet_safe(frame)
    assert list(safe.columns) == ["'=HYPERLINK(\"http://x\")", "amount", "'-note", "when"]
    assert safe.iloc[:, 0].tolist()[:8] == QUOTED[:8] and pd.isna(safe.iloc[8, 0])
    assert safe["amount"].tolist() == AMOUNTS and pd.api.types.is_numeric_dtype(safe["amount"])
    assert frame.columns[0] == "=HYPERLINK(\"http://x\")"                       # the original is untouched


def test_csv_download_reads_back_quoted_and_one_row_per_record():
    rows = list(csv.reader(io.StringIO(csv_bytes(hostile_frame()).decode("utf-8"), newline="")))
    assert rows[0] == ["'=HYPERLINK(\"http://x\")", "amount", "'-note", "when"]
    assert len(rows) == 10                                  # a carriage return inside a value starts no row
    assert [r[0] for r in rows[1:9]] == QUOTED[:8]
    assert [float(r[1]) for r in rows[1:]] == AMOUNTS       # -5 stays a plain number
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "@", "\t", "\r"))]


def test_xlsx_download_holds_no_formula_and_keeps_numbers_and_dates():
    sheet = load_workbook(io.BytesIO(xlsx_bytes(hostile_frame()))).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    assert [c.value for c in sheet[1]] == ["'=HYPERLINK(\"http://x\")", "amount", "'-note", "when"]
    # XML reads a carriage return back as a line feed; the apostrophe stays in front.
    assert [c.value for c in sheet["A"][1:9]] == ["'=cmd|' /C calc'!A0", "'+1", "'-2+3", "'@SUM(1)", "'\t=1+1",
                                                 "'\n=1+1", "plain", "a=b"]
    assert [c.value for c in sheet["B"][1:]] == AMOUNTS and sheet["B2"].data_type == "n"
    assert sheet["D2"].value == datetime(2024, 1, 5, 10, 0)


def test_xlsx_drops_control_characters_it_cannot_hold():
    sheet = load_workbook(io.BytesIO(xlsx_bytes(pd.DataFrame({"name": ["a\x01b\x1fc", "tab\there"]})))).active
    assert [c.value for c in sheet["A"]] == ["name", "abc", "tab\there"]


def test_tables_offer_csv_and_xlsx(db_file):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("app_pages/data.py").run()
    upload = at.file_uploader(key="data-files")
    upload.set_value(("o.csv", b"customer,date,amount\nc1,2024-01-05,10\n", "text/csv")).run()
    at.button(key="data-validate").click().run()
    at.button(key="data-import").click().run()
    labels = {e.proto.label for e in at.get("download_button")}
    assert {"Download the row as CSV", "Download the row as XLSX"} <= labels     # the history's one batch


def test_the_upload_limit_is_set_in_the_config_file():
    limit = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    assert limit == 1024 and config.get_option("server.maxUploadSize") == limit


@pytest.fixture
def one_mb_limit():
    before = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", 1)
    yield
    config.set_option("server.maxUploadSize", before)


def test_a_file_above_the_upload_limit_gets_one_clear_sentence(db_file, one_mb_limit):
    big = b"customer,date,amount\n" + b"c1,2024-01-05,10.00\n" * 60_000          # 1,200,021 bytes
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("app_pages/data.py").run()
    files = [("small.csv", b"customer,date,amount\nc1,2024-01-05,10\n", "text/csv"), ("big.csv", big, "text/csv")]
    at.file_uploader(key="data-files").set_value(files).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "big.csv is 1.1 MB, above the upload limit of 1 MB: split the export (by month, for example), or import "
        "it with the command line (python -m loyalty import), which has no size limit."]
    assert not [b for b in at.button if b.key == "data-validate"]          # nothing read, nothing checked
