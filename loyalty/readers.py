"""Read an uploaded file into a DuckDB staging table of text columns, whatever shape the export takes.

Formats: delimited text (comma, semicolon, tab, pipe, or runs of spaces; UTF-8 with or without BOM,
Latin-1 / Windows-1252), XLSX (a chosen sheet) and Parquet, each optionally gzip-compressed. Text and
Parquet stream through DuckDB's readers; only XLSX goes through openpyxl, a sheet being at most about a
million rows. The staging table has a `_line` column: the physical line of the record in the file
(header = line 1) for text, the sheet row for XLSX, the row number for Parquet. Line numbers assume
one line per record (a quoted value spanning lines, or a blank line, shifts the lines after it).
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import pyarrow as pa

from .db import quote_ident, scalar

SAMPLE_BYTES = 256 * 1024
HEADER_SEARCH_ROWS = 20  # XLSX: the header may sit below a few title lines
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", "spaces": "runs of spaces"}


class FileUnreadable(ValueError):
    """The file cannot be read at all; the message is one sentence for the user."""


@dataclass
class Staged:
    """A file read into a staging table: its columns (in file order) and what the reader rejected."""
    table: str
    columns: list[str]
    file_format: str
    rows_read: int
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    bad_rows: list[tuple[int, str, str]] = field(default_factory=list)  # (line, reason, raw text)


def _head(path: Path, compressed: bool, size: int = SAMPLE_BYTES) -> bytes:
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as fh:
            return fh.read(size)
    except (OSError, EOFError) as exc:
        raise FileUnreadable(f"{path.name} cannot be read: {exc}.") from None


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def detect_format(path: Path) -> tuple[str, bool]:
    """('text' | 'xlsx' | 'parquet', gzip-compressed?) from the file's first bytes."""
    if not path.exists():
        raise FileUnreadable(f"{path} does not exist.")
    if path.stat().st_size == 0:
        raise FileUnreadable(f"{path.name} is empty.")
    compressed = _is_gzip(path)
    head = _head(path, compressed, 8)
    if head.startswith(b"PAR1"):
        return "parquet", compressed
    if head.startswith(b"PK\x03\x04"):
        return "xlsx", compressed
    return "text", compressed


def _decompressed_copy(path: Path, workdir: Path) -> Path:
    target = workdir / path.name.removesuffix(".gz")
    with gzip.open(path, "rb") as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return target


def _encoding(path: Path, sample: bytes) -> str:
    """'utf-8' when the sample decodes as UTF-8; 'utf-16' when it starts with a UTF-16 byte-order mark;
    else 'windows-1252' (Latin-1), or 'utf-8+windows-1252' when valid UTF-8 characters sit among the
    Windows-1252 bytes (lines appended by another program). Raises FileUnreadable for binary data."""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if min(even, odd) == 0 and max(even, odd) * 4 > len(sample):  # ASCII text as UTF-16 without a BOM
            raise FileUnreadable(f"{path.name} is UTF-16 text without a byte-order mark: save it as UTF-8 CSV.")
        raise FileUnreadable(
            f"{path.name} is not a text file (it holds binary data): export it as CSV, XLSX or Parquet."
        )
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(sample) - 4:  # a multi-byte character cut by the sample's end
            return "utf-8"
    if sample.decode("utf-8", "cp1252_fallback") != sample.decode("cp1252", "latin1_fallback"):
        return "utf-8+windows-1252"
    return "windows-1252"


DECODERS = {"utf-16": ("utf-16", "strict"), "windows-1252": ("cp1252", "latin1_fallback"),
            "utf-8+windows-1252": ("utf-8", "cp1252_fallback")}


def _transcode(path: Path, compressed: bool, encoding: str, workdir: Path) -> Path:
    """A UTF-8 copy of a UTF-16, Windows-1252 (Latin-1 for its five undefined bytes) or mixed file, in chunks."""
    codec, errors = DECODERS[encoding]
    target = workdir / "utf8.csv"
    opener = gzip.open if compressed else open
    with opener(path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        reader = io.TextIOWrapper(src, encoding=codec, errors=errors, newline="")
        try:
            shutil.copyfileobj(reader, dst, 1 << 20)
        except UnicodeDecodeError:
            raise FileUnreadable(f"{path.name} is not valid {encoding.upper()} text: save it as UTF-8 CSV.") from None
    return target


def _latin1_fallback(exc: UnicodeDecodeError) -> tuple[str, int]:
    return exc.object[exc.start:exc.end].decode("latin-1"), exc.end


def _cp1252_fallback(exc: UnicodeDecodeError) -> tuple[str, int]:
    """Decode the bytes that are not UTF-8 as Windows-1252 (Latin-1 for its undefined ones)."""
    return exc.object[exc.start:exc.end].decode("cp1252", "latin1_fallback"), exc.end


codecs.register_error("latin1_fallback", _latin1_fallback)
codecs.register_error("cp1252_fallback", _cp1252_fallback)


def sniff_delimiter(text: str) -> str:
    """The delimiter whose field count is most consistent across the sample's lines; 'spaces' for
    space-aligned text."""
    lines = [ln for ln in text.splitlines()[:200] if ln.strip()]
    if not lines:
        raise FileUnreadable("The file has no header line.")
    best, best_score = None, (0.0, 0)
    for delim in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delim)]
        width = counts[0]
        if width < 2:
            continue
        score = (sum(c == width for c in counts) / len(counts), width)
        if score > best_score:
            best, best_score = delim, score
    if best is not None:
        return best
    if len(re.split(r"\s+", lines[0].strip())) > 1:
        return "spaces"
    return ","  # a single-column file


def _space_pattern(sample_lines: list[str]) -> str:
    """Split on runs of 2+ spaces when that gives most lines the header's width, else on any run."""
    wide = r"\s{2,}|\t"
    header_width = len(re.split(wide, sample_lines[0].strip()))
    fitting = sum(len(re.split(wide, ln.strip())) == header_width for ln in sample_lines[1:])
    if header_width > 1 and fitting * 2 > len(sample_lines) - 1:
        return wide
    return r"\s+"


def _stage_text(con: duckdb.DuckDBPyConnection, path: Path, compressed: bool, table: str, workdir: Path) -> Staged:
    sample = _head(path, compressed)
    encoding = _encoding(path, sample)
    source = path
    if encoding != "utf-8":
        source, compressed = _transcode(path, compressed, encoding, workdir), False
        sample = _head(source, False)
    text = sample.decode("utf-8", errors="ignore").lstrip("\ufeff")
    if not text.strip():
        raise FileUnreadable(f"{path.name} has no header line: it holds only blank lines.")
    delimiter = sniff_delimiter(text)
    if delimiter == "spaces":
        staged = _stage_spaces(con, source, path.name, text, table)
    else:
        staged = _stage_delimited(con, source, path.name, delimiter, table)
    staged.encoding = encoding
    return staged


# One row per rejected line: DuckDB logs a short line once for every column it misses.
REJECTED_LINES_SQL = """SELECT line, arg_min(error_type, column_idx), trim(any_value(csv_line), E'\\r\\n')
                        FROM stage_rejects GROUP BY line ORDER BY line"""


def _text_fault(exc: duckdb.Error) -> str:
    """What to look for in a delimited file DuckDB's reader gave up on (its own words name no line)."""
    if "line size" in str(exc).splitlines()[0].lower():  # the first line says what failed; the rest lists options
        return "a line is longer than 4 MB, so it is probably not a table"
    return 'look for a quote (") that is opened and never closed, or export the file again'


def _stage_delimited(con: duckdb.DuckDBPyConnection, source: Path, name: str, delimiter: str, table: str) -> Staged:
    con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("DROP TABLE IF EXISTS stage_rejects; DROP TABLE IF EXISTS stage_reject_scans")
    try:
        con.execute(
            f"""CREATE TEMP TABLE {table} AS
                SELECT * FROM read_csv(?, delim = ?, header = true, all_varchar = true, quote = '"',
                                       escape = '"', store_rejects = true, rejects_table = 'stage_rejects',
                                       rejects_scan = 'stage_reject_scans', auto_detect = true,
                                       max_line_size = 4194304)""",
            [str(source), delimiter],
        )
    except duckdb.Error as exc:
        raise FileUnreadable(
            f"{name} cannot be read as {DELIMITER_NAMES[delimiter]}-separated text: {_text_fault(exc)}."
        ) from None
    rejects = con.execute(REJECTED_LINES_SQL).fetchall()
    # Accepted row i (0-based, file order) sits on line i + 2 plus the rejected lines before it.
    con.execute("CREATE OR REPLACE TEMP TABLE stage_shifts (at_row BIGINT)")
    if rejects:
        con.executemany(
            "INSERT INTO stage_shifts VALUES (?)", [[line - 2 - k] for k, (line, _, _) in enumerate(rejects)]
        )
    _number_rows(con, table, 2, shifted=bool(rejects))
    columns = [c for c in _columns(con, table) if c != "_line"]
    bad = [(line, _reject_reason(kind), raw) for line, kind, raw in rejects]
    rows = scalar(con, f"SELECT count(*) FROM {table}") + len(bad)
    return Staged(table, columns, "text", rows, delimiter=delimiter, bad_rows=bad)


def _number_rows(con: duckdb.DuckDBPyConnection, table: str, first_line: int, shifted: bool = False) -> None:
    """Add `_line` to `table`: the row's 0-based position in file order plus `first_line`, plus (when
    `shifted`) the number of `stage_shifts` positions at or before it (the lines the reader rejected).
    Done in place, column by column: copying a file of 10,000 columns would take minutes. Inside a
    transaction DuckDB numbers new rows from a large base, so positions are relative to the smallest rowid."""
    _rename_reserved(con, table)
    base = scalar(con, f"SELECT coalesce(min(rowid), 0) FROM {table}")
    con.execute(f"ALTER TABLE {table} ADD COLUMN _line BIGINT")
    con.execute(f"UPDATE {table} SET _line = rowid - ? + ?", [base, first_line])
    if shifted:
        con.execute(
            f"""UPDATE {table} SET _line = {table}._line + k.skipped FROM (
                    SELECT t.rowid AS row_id, s.skipped FROM {table} t ASOF JOIN (
                        SELECT at_row, sum(count(*)) OVER (ORDER BY at_row) AS skipped
                        FROM stage_shifts GROUP BY at_row) s ON t._line - ? >= s.at_row) k
                WHERE {table}.rowid = k.row_id""",
            [first_line],
        )


RESERVED_COLUMNS = ("_line", "rowid")


def _rename_reserved(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """A file column named like the staging table's line number or DuckDB's row id (any case) gets a
    suffix, as a repeated header would."""
    names = _columns(con, table)
    taken = {n.lower() for n in names}
    for name in names:
        if name.lower() in RESERVED_COLUMNS:
            n = 1
            while f"{name}_{n}".lower() in taken:
                n += 1
            taken.add(f"{name}_{n}".lower())
            con.execute(f"ALTER TABLE {table} RENAME COLUMN {quote_ident(name)} TO {quote_ident(f'{name}_{n}')}")


def _reject_reason(error_type: str) -> str:
    if error_type in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
        return "row: wrong number of fields"
    return f"row: {error_type.lower()}"


def _stage_spaces(con: duckdb.DuckDBPyConnection, source: Path, name: str, text: str, table: str) -> Staged:
    lines = [ln for ln in text.splitlines()[:200] if ln.strip()]
    pattern = _space_pattern(lines)
    header = re.split(pattern, lines[0].strip().lstrip("\ufeff"))
    con.execute(f"DROP TABLE IF EXISTS {table}")
    try:  # whole lines: split on a control character no text export holds
        con.execute(
            f"""CREATE TEMP TABLE {table}_lines AS
                SELECT line FROM read_csv(?, delim = '\x1f', header = false, quote = '', escape = '',
                                          columns = {{'line': 'VARCHAR'}}, auto_detect = false)""",
            [str(source)],
        )
    except duckdb.Error:
        raise FileUnreadable(f"{name} cannot be read as text aligned with spaces: it holds control characters "
                             "that no table export has, so export it again as CSV.") from None
    con.execute(f"ALTER TABLE {table}_lines ADD COLUMN parts VARCHAR[]")
    con.execute(f"UPDATE {table}_lines SET parts = regexp_split_to_array(trim(line), ?)", [pattern])
    _number_rows(con, f"{table}_lines", 1)
    select = ", ".join(f"parts[{i + 1}] AS {quote_ident(name)}" for i, name in enumerate(header))
    con.execute(
        f"CREATE TEMP TABLE {table} AS SELECT _line, {select} FROM {table}_lines "
        f"WHERE _line > 1 AND len(parts) = ? AND parts <> ['']",
        [len(header)],
    )
    bad = con.execute(
        f"SELECT _line, array_to_string(parts, ' ') FROM {table}_lines "
        f"WHERE _line > 1 AND len(parts) <> ? AND parts <> [''] ORDER BY _line",
        [len(header)],
    ).fetchall()
    con.execute(f"DROP TABLE {table}_lines")
    rows = scalar(con, f"SELECT count(*) FROM {table}") + len(bad)
    return Staged(table, header, "text", rows, delimiter="spaces",
                  bad_rows=[(line, "row: wrong number of fields", raw) for line, raw in bad])


def _cell_text(value: object) -> str | None:
    """Excel cell values as the text an export would hold (dates ISO, whole numbers without '.0')."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def sheet_names(path: Path) -> list[str]:
    """The sheets of a workbook, in order."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except Exception:  # openpyxl raises many kinds for a broken workbook
        raise FileUnreadable(f"{path.name} is not a readable Excel workbook: save it again from Excel as .xlsx, "
                             "or export it as CSV.") from None
    names = book.sheetnames
    book.close()
    return names


def _stage_xlsx(con: duckdb.DuckDBPyConnection, path: Path, sheet: str | None, table: str) -> Staged:
    import openpyxl

    names = sheet_names(path)
    chosen = sheet or names[0]
    if chosen not in names:
        raise FileUnreadable(f"{path.name} has no sheet '{chosen}' (its sheets: {', '.join(names)}).")
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = enumerate(book[chosen].iter_rows(values_only=True), start=1)
    head = [next(rows, None) for _ in range(HEADER_SEARCH_ROWS)]
    head = [item for item in head if item is not None]
    filled = [sum(v is not None and str(v).strip() != "" for v in row) for _, row in head]
    if not filled or max(filled) == 0:
        book.close()
        raise FileUnreadable(f"Sheet '{chosen}' of {path.name} is empty.")
    # The header is the first of the widest rows near the top: title lines above it are skipped.
    at = filled.index(max(filled))
    header = [str(v).strip() if v is not None and str(v).strip() else f"column{i + 1}"
              for i, v in enumerate(head[at][1])]
    width = len(header)
    lines, cols = [], [[] for _ in header]
    for line, row in itertools.chain(head[at + 1:], rows):
        if not any(v is not None and str(v).strip() != "" for v in row):
            continue
        lines.append(line)
        for i in range(width):
            cols[i].append(_cell_text(row[i]) if i < len(row) else None)
    book.close()
    arrow = pa.table({"_line": pa.array(lines, pa.int64()), **{f"c{i}": pa.array(c, pa.string()) for i, c in enumerate(cols)}})
    header = _dedupe(header)
    con.register("stage_arrow", arrow)
    select = ", ".join(f"c{i} AS {quote_ident(name)}" for i, name in enumerate(header))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT _line, {select} FROM stage_arrow")
    con.unregister("stage_arrow")
    return Staged(table, header, "xlsx", len(lines), sheet=chosen, sheets=names)


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name}_{n}")
    return out


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> Staged:
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_parquet(?)", [str(path)])
    except duckdb.Error as exc:
        raise FileUnreadable(f"{path.name} is not a readable Parquet file: {_first_line(exc)}.") from None
    _number_rows(con, table, 1)
    columns = [c for c in _columns(con, table) if c != "_line"]
    rows = scalar(con, f"SELECT count(*) FROM {table}")
    return Staged(table, columns, "parquet", rows)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]


def _first_line(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    return re.sub(r"^[A-Za-z ]+Error: ", "", text).rstrip(".")


def stage_file(con: duckdb.DuckDBPyConnection, path: str | os.PathLike, sheet: str | None = None,
               table: str = "stage_raw") -> Staged:
    """Read one file into the temp table `table` of `con`; raises FileUnreadable with one sentence."""
    path = Path(path)
    file_format, compressed = detect_format(path)
    with tempfile.TemporaryDirectory(prefix="loyalty-import-") as tmp:
        workdir = Path(tmp)
        if file_format == "text":
            staged = _stage_text(con, path, compressed, table, workdir)
        else:
            source = _decompressed_copy(path, workdir) if compressed else path
            if file_format == "xlsx":
                staged = _stage_xlsx(con, source, sheet, table)
            else:
                staged = _stage_parquet(con, source, table)
    if not staged.columns:
        raise FileUnreadable(f"{path.name} has no columns.")
    return staged


def preview_file(path: str | os.PathLike, sheet: str | None = None, rows: int = 20):
    """(Staged, first rows as a DataFrame) for the upload screen, read in a private in-memory database
    (the store is not touched) from at most the first megabyte of a text file."""
    path = Path(path)
    file_format, compressed = detect_format(path)
    con = duckdb.connect()
    try:
        with tempfile.TemporaryDirectory(prefix="loyalty-preview-") as tmp:
            source = path
            if file_format == "text":
                head = _head(path, compressed, 1 << 20)
                if len(head) == 1 << 20 and b"\n" in head:
                    head = head[: head.rindex(b"\n") + 1]
                source = Path(tmp) / path.name.removesuffix(".gz")
                source.write_bytes(head)
            staged = stage_file(con, source, sheet)
            sample = con.execute(f"SELECT * EXCLUDE (_line) FROM {staged.table} ORDER BY _line LIMIT ?", [rows]).df()
    finally:
        con.close()
    return staged, sample
