"""Tables as downloadable files (CSV and XLSX) that cannot run as spreadsheet formulas.

A spreadsheet treats a cell that starts with = + - @ (or a tab or carriage return before them) as a
formula, so a customer name such as "=HYPERLINK(…)" in an export could run when the file is opened.
Every text cell and every column name that starts with one of those characters gets a leading
apostrophe (the OWASP advice for CSV injection); numbers, dates and booleans are written as they are,
so a negative amount stays a number.
"""
from __future__ import annotations

import io

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value):
    """The value, with a leading apostrophe when it is text a spreadsheet would read as a formula."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) else value


def _typed(series: pd.Series) -> bool:
    """Numbers, dates and booleans: typed cells, never formulas."""
    return (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)
            or pd.api.types.is_timedelta64_dtype(series))


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose column names and text cells cannot run as spreadsheet formulas."""
    safe = frame.copy()
    for column in safe.columns:
        if not _typed(safe[column]):
            safe[column] = safe[column].map(neutralised)
    safe.columns = [neutralised(name) for name in safe.columns]
    return safe


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with CRLF line ends (RFC 4180), so a value holding a line break is quoted and cannot start a row."""
    return spreadsheet_safe(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "data") -> bytes:
    """One sheet. XLSX has no time zones (the values are UTC, as everywhere in the product) and cannot
    hold control characters other than tab and line breaks, which are dropped."""
    safe = spreadsheet_safe(frame)
    for column in safe.columns:
        if isinstance(safe[column].dtype, pd.DatetimeTZDtype):
            safe[column] = safe[column].dt.tz_localize(None)
        elif not _typed(safe[column]):
            safe[column] = safe[column].map(lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)
    safe.columns = [ILLEGAL_CHARACTERS_RE.sub("", n) if isinstance(n, str) else n for n in safe.columns]
    out = io.BytesIO()
    safe.to_excel(out, index=False, sheet_name=sheet, engine="openpyxl")
    return out.getvalue()
