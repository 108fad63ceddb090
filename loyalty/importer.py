"""The one import path shared by the Data page and the CLI (DESIGN section 3).

A call reads each file into a staging table, maps its headers, parses every value in SQL, rolls
line-item files up to one order per order id, keys each record, compares it with what is stored, and
writes all files in ONE transaction: either every batch lands whole or nothing changes. A dry run takes
the same path and rolls back, which is how the Data page shows its validation report before commit.

Keys: the natural id (order_id, ticket_id, customer_id) when the row has one; otherwise a fingerprint of
the kind's required values (orders: customer, date, amount) plus the row's occurrence count among equal
fingerprints in the file. So re-importing a file or an overlapping export never double-counts, while two
identical purchases in one file stay two orders. A record whose key exists is updated in place (counted
as updated when a value changed, unchanged otherwise); columns the new file lacks keep their old values.

Undo: the current table holds, per key, the version of the newest batch still in force and that batch's
id; a version a later batch replaces moves to `<kind>_history`. Undoing a batch deletes its versions
from both and, for each key where its version was current, brings back the newest remaining version from
the history (or removes the key when none remains), so any batch can be undone in any order. A first
import of new keys writes its records once.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import duckdb
import pandas as pd

from . import parsing, rollups
from .access import UPLOADER, User, require, require_undo
from .db import quote_ident, scalar, write_transaction
from .mapping import merge
from .readers import DELIMITER_NAMES, FileUnreadable, Staged, stage_file
from .schema import DATE, KINDS, MONEY, NUMBER, TIMESTAMP, Column, TableSpec, spec

Progress = Callable[[float, str], None]
EXAMPLES_PER_REASON = 3
PREVIEW_RECORDS = 20


class FileRejected(ValueError):
    """A file that cannot be imported at all; the message is one sentence saying what to fix."""


@dataclass
class BatchSummary:
    kind: str
    file_name: str
    batch_id: int | None
    rows_read: int
    accepted: int
    rejected: int
    records: int
    inserted: int
    updated: int
    unchanged: int
    rejected_by_reason: dict[str, int]
    examples: dict[str, list[tuple[int | None, str]]]
    mapping: dict[str, str]
    file_format: str
    delimiter: str | None
    encoding: str | None
    sheet: str | None
    sheets: list[str]
    sha256: str
    notes: list[str] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)  # the first records as they will be stored

    def to_json(self) -> dict:
        """The CLI's JSON summary of this batch."""
        out = asdict(self)
        out["examples"] = {r: [{"line": ln, "raw": raw} for ln, raw in ex] for r, ex in self.examples.items()}
        out.pop("preview")
        return out


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------- mapping

def _fill_raw_text(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """Give each rejected row its original text, rebuilt from the staged columns (the reader's own
    rejects keep the line as it was read)."""
    separator = "," if staged.delimiter in (None, "spaces") else staged.delimiter
    raw = "concat_ws(?, " + ", ".join(
        f"coalesce(CAST(s.{quote_ident(c)} AS VARCHAR), '')" for c in staged.columns
    ) + ")"
    con.execute(
        f"UPDATE stage_rejected r SET raw = {raw} FROM {staged.table} s WHERE r.raw IS NULL AND s._line = r._line",
        [separator],
    )


def _printable(name: str) -> str:
    """A header as it can be shown in a one-line message: control characters escaped (a line break as \\n)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in name)


def _check_mapping(table: TableSpec, mapping: dict[str, str], staged: Staged, file_name: str) -> None:
    missing = [c for c in table.required if c not in mapping]
    if table.kind == "orders" and "amount" in missing and "unit_price" in mapping:
        missing.remove("amount")  # a line-item file: amount = quantity × unit price
    if missing:
        found = ", ".join(_printable(c) for c in staged.columns[:30])
        raise FileRejected(
            f"{file_name} has no column for {' and '.join(missing)}: map one of its columns "
            f"({found}) to {'it' if len(missing) == 1 else 'them'}, or check that the file holds {table.kind}."
        )


# ---------------------------------------------------------------------------------------------- parsing

def _source_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {name: typ for name, typ, *_ in con.execute(f"DESCRIBE {table}").fetchall()}


def _text_sql(raw: str, source_type: str) -> str:
    """The column as cleaned text; whole floats (Parquet ids such as 12346.0) lose their '.0'."""
    if source_type in ("DOUBLE", "FLOAT"):
        raw = f"CASE WHEN {raw} = floor({raw}) THEN CAST(CAST({raw} AS BIGINT) AS VARCHAR) ELSE CAST({raw} AS VARCHAR) END"
    elif source_type != "VARCHAR":
        raw = f"CAST({raw} AS VARCHAR)"
    return parsing.clean(raw)


def _typed_sql(column: Column, raw: str, source_type: str) -> str | None:
    """A direct cast when a typed source (Parquet, XLSX) already holds the right kind of value."""
    temporal = source_type.startswith(("DATE", "TIMESTAMP"))
    numeric = source_type.startswith(("DECIMAL", "DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER"))
    if column.kind in (DATE, TIMESTAMP) and temporal:
        return f"CAST({raw} AS {column.sql_type})"
    if column.kind in (MONEY, NUMBER) and numeric:
        return f"TRY_CAST({raw} AS {column.sql_type})"
    return None


def _profile(con: duckdb.DuckDBPyConnection, staged: Staged, texts: dict[Column, str]) -> dict[str, bool]:
    """Per column, whether its dates are day-first (d/m/Y) or its numbers use a decimal comma."""
    probed = [c for c in texts if c.kind in (DATE, TIMESTAMP, MONEY, NUMBER)]
    if not probed:
        return {}
    probes = []
    for column in probed:
        ref = quote_ident("t_" + column.name)
        probe = parsing.slash_dayfirst_probe if column.kind in (DATE, TIMESTAMP) else parsing.decimal_comma_probe
        probes.extend(probe(ref))
    text_select = ", ".join(f"{texts[c]} AS {quote_ident('t_' + c.name)}" for c in probed)
    counts = con.execute(
        f"WITH t AS (SELECT {text_select} FROM {staged.table}) SELECT {', '.join(probes)} FROM t"
    ).fetchall()[0]
    flags = {}
    for i, column in enumerate(probed):
        first, second = counts[2 * i], counts[2 * i + 1]
        if column.kind in (DATE, TIMESTAMP):
            flags[column.name] = first > 0 and second == 0
        else:
            flags[column.name] = first > second or (first == second and staged.delimiter == ";")
    return flags


def _problem_checks(column: Column, text: str, value: str, dayfirst: bool) -> list[str]:
    """CASE arms naming the first problem of a row's value in this column."""
    name = column.name
    arms = []
    if column.kind in (DATE, TIMESTAMP):
        arms.append(
            f"WHEN {text} IS NOT NULL AND {value} IS NULL AND {parsing.readable_date(text, dayfirst)} "
            f"THEN '{name}: date out of range'"
        )
    if column.kind in parsing.PROBLEMS:
        arms.append(f"WHEN {text} IS NOT NULL AND {value} IS NULL THEN '{name}: {parsing.PROBLEMS[column.kind]}'")
    if column.low is not None:
        arms.append(
            f"WHEN {value} NOT BETWEEN {column.low} AND {column.high} "
            f"THEN '{name}: out of range {column.low}–{column.high}'"
        )
    return arms


def _build_parsed(con: duckdb.DuckDBPyConnection, table: TableSpec, staged: Staged, mapping: dict[str, str]) -> list[Column]:
    """stage_parsed: one row per file row, its parsed canonical values, its raw text and its first
    parse problem (`_reason`, NULL when the row reads cleanly). Returns the mapped columns."""
    types = _source_types(con, staged.table)
    mapped = [c for c in table.columns if c.name in mapping]
    sources = {c: "s." + quote_ident(mapping[c.name]) for c in mapped}
    texts = {c: _text_sql(sources[c], types[mapping[c.name]]) for c in mapped}
    typed = [c for c in mapped if _typed_sql(c, sources[c], types[mapping[c.name]])]
    for column in typed:  # only the rows a direct cast cannot read need their text (for the problem checks)
        texts[column] = f"CASE WHEN {_typed_sql(column, sources[column], types[mapping[column.name]])} IS NULL THEN {texts[column]} END"
    flags = _profile(con, staged, {  # a typed column is cast directly: no format to guess
        c: _text_sql(quote_ident(mapping[c.name]), types[mapping[c.name]]) for c in mapped if c not in typed
    })
    firsts, values, checks = [], [], []
    for column in mapped:
        t_ref, src_ref = quote_ident("t_" + column.name), quote_ident("src_" + column.name)
        firsts.append(f"{texts[column]} AS {t_ref}, {sources[column]} AS {src_ref}")
        flag = flags.get(column.name, False)
        value = _typed_sql(column, src_ref, types[mapping[column.name]]) or parsing.parse_value(
            column, t_ref, dayfirst=flag, decimal_comma=flag
        )
        values.append(f"{value} AS {quote_ident(column.name)}")
        checks.extend(_problem_checks(column, t_ref, quote_ident(column.name), flag))
    reason = ("CASE " + " ".join(checks) + " END") if checks else "CAST(NULL AS VARCHAR)"
    con.execute("DROP TABLE IF EXISTS stage_parsed")
    con.execute(
        f"""CREATE TEMP TABLE stage_parsed AS
            WITH t AS (SELECT s._line, {', '.join(firsts)} FROM {staged.table} s),
                 v AS (SELECT t.*, {', '.join(values)} FROM t)
            SELECT _line, {', '.join(quote_ident(c.name) for c in mapped)}, {reason} AS _reason FROM v"""
    )
    return mapped


# ---------------------------------------------------------------------------------------------- records

def _wide(quantity: str) -> str:
    """A quantity as a 38-digit decimal, so quantity × unit price cannot overflow before the range check."""
    return f"CAST({quantity} AS DECIMAL(38, 3))"


def _derived(table: TableSpec, mapping: dict[str, str], line_level: bool) -> dict[str, str]:
    """Stored columns computed from import-only ones, as SQL over the grouped row (a rolled-up
    line-item file has its amount already)."""
    derived = {}
    if table.kind == "orders" and "unit_price" in mapping and not line_level:
        quantity = _wide("coalesce(quantity, 1)") if "quantity" in mapping else "1"
        derived["amount"] = f"coalesce(amount, {quantity} * unit_price)" if "amount" in mapping else f"{quantity} * unit_price"
    if table.kind == "tickets":
        for target, minutes in (("first_response_at", "first_response_minutes"), ("resolved_at", "resolution_minutes")):
            if minutes in mapping:
                shifted = f"opened_at + to_microseconds(CAST(round({minutes} * 60000000) AS BIGINT))"
                derived[target] = f"coalesce({target}, {shifted})" if target in mapping else shifted
    return derived


@dataclass(frozen=True)
class KeyShape:
    """How a file's rows meet its natural id: whether one repeats, whether some row lacks one."""
    repeats: bool
    unkeyed: bool

    def rolled_up(self, table: TableSpec) -> bool:
        """Whether the rows are line items to roll up into orders (an order id repeats)."""
        return table.kind == "orders" and self.repeats


def _key_shape(con: duckdb.DuckDBPyConnection, table: TableSpec, mapping: dict[str, str]) -> KeyShape:
    """One pass over stage_parsed (rejected rows included, so a shape found here covers the accepted
    rows): a file whose ids are unique and present needs neither grouping nor fingerprints."""
    natural = table.natural_id
    if natural is None or natural not in mapping:
        return KeyShape(repeats=False, unkeyed=True)
    repeats, unkeyed = con.execute(
        f"SELECT count({natural}) > count(DISTINCT {natural}), count(*) > count({natural}) FROM stage_parsed"
    ).fetchall()[0]
    return KeyShape(repeats=repeats, unkeyed=unkeyed)


def _rollup_select(mapping: dict[str, str], mapped: list[Column]) -> str:
    """One order per order id from its lines: order fields from the first line that has them,
    quantities and discounts summed, the order total from the one line holding it (Shopify), else the
    sum of line amounts, else the sum of quantity × unit price."""
    quantity = _wide("coalesce(quantity, 1)") if "quantity" in mapping else "1"
    line_total = f"sum({quantity} * unit_price)" if "unit_price" in mapping else "NULL"
    exprs = ["min(_line) AS _line", "count(*) AS _lines"]
    if "amount" not in mapping:
        exprs.append(f"{line_total} AS amount")
    for column in mapped:
        name = quote_ident(column.name)
        if column.name == "unit_price":
            continue
        if column.name in ("quantity", "discount"):
            exprs.append(f"sum({name}) AS {name}")
        elif column.name == "product":
            exprs.append(f"string_agg(DISTINCT {name}, '; ' ORDER BY {name}) AS {name}")
        elif column.name == "amount":
            exprs.append(
                "CASE WHEN count(amount) = 1 THEN max(amount) WHEN count(amount) > 1 THEN sum(amount) "
                f"ELSE {line_total} END AS amount"
            )
        else:
            exprs.append(f"arg_min({name}, _line) FILTER (WHERE {name} IS NOT NULL) AS {name}")
    return (
        f"SELECT {', '.join(exprs)} FROM stage_ok "
        "GROUP BY CASE WHEN order_id IS NOT NULL THEN order_id ELSE '#' || _line END"
    )


def _grouped_select(table: TableSpec, mapping: dict[str, str], mapped: list[Column], line_level: bool,
                    repeats: bool) -> str:
    """Rows of stage_ok grouped to one per record, with `_line` (its first line) and `_lines`."""
    if line_level:
        return _rollup_select(mapping, mapped)
    names = ", ".join(quote_ident(c.name) for c in mapped)
    natural = table.natural_id
    if repeats:
        group = f"CASE WHEN {natural} IS NOT NULL THEN {natural} ELSE '#' || _line END"
        return (  # a natural id repeated in one file: the last row wins
            f"SELECT _line, count(*) OVER (PARTITION BY {group}) AS _lines, {names} FROM stage_ok "
            f"QUALIFY row_number() OVER (PARTITION BY {group} ORDER BY _line DESC) = 1"
        )
    return f"SELECT _line, 1 AS _lines, {names} FROM stage_ok"


def _record_checks(table: TableSpec) -> str:
    arms = [f"WHEN {c.name} IS NOT NULL AND TRY_CAST({c.name} AS {c.sql_type}) IS NULL THEN '{c.name}: out of range'"
            for c in table.stored_columns if c.kind in (MONEY, NUMBER)]  # a sum or product too large to store
    arms += [f"WHEN {c} IS NULL THEN '{c}: missing'" for c in table.required]
    if table.kind == "tickets":
        arms += [f"WHEN {c} < opened_at THEN '{c}: before opened_at'" for c in ("first_response_at", "resolved_at")]
    return "CASE " + " ".join(arms) + " END"


def _key_sql(table: TableSpec, natural: str | None, unkeyed: bool) -> tuple[str, str]:
    """(the fingerprint column to add, the key expression): the natural id, else 'fp:' + a hash of the
    required values + the row's occurrence among equal hashes. A file whose every row has its natural
    id skips the hash and the numbering."""
    if not unkeyed:
        return "", natural
    required_fp = " , ".join(f"coalesce(CAST({c} AS VARCHAR), '')" for c in table.required)
    natural_sql = natural or "CAST(NULL AS VARCHAR)"
    key = (f"CASE WHEN {natural_sql} IS NOT NULL THEN {natural_sql} ELSE 'fp:' || _fp || ':' || row_number() OVER ("
           f"PARTITION BY _fp, {natural_sql} IS NULL ORDER BY _line) END")
    return f", md5(concat_ws(chr(31), {required_fp})) AS _fp", key


def _held_columns(con: duckdb.DuckDBPyConnection, table: TableSpec, provided: set[str]) -> set[str]:
    """The stored columns the file lacks that some stored record holds a value in: a replaced record's values there
    are kept. The others would be NULL in every record of the batch, and held in DuckDB's memory all the same (a
    first import of 10M orders with five columns: the seven others took ~0.5 s to build and hundreds of MB)."""
    lacking = [c.name for c in table.stored_columns if c.name not in provided]
    if not lacking:
        return set()
    counts = con.execute(f"SELECT {', '.join(f'count({name})' for name in lacking)} FROM {table.kind}").fetchone()
    return {name for name, count in zip(lacking, counts) if count}


def _recorded(con: duckdb.DuckDBPyConnection, table: TableSpec) -> list[str]:
    """The stored columns stage_records holds (a column no record of the batch can hold a value in is left out)."""
    present = {name for name, *_ in con.execute("DESCRIBE stage_records").fetchall()}
    return [c.name for c in table.stored_columns if c.name in present]


def _build_records(con: duckdb.DuckDBPyConnection, table: TableSpec, mapping: dict[str, str], mapped: list[Column]) -> KeyShape:
    """stage_records (key, the stored columns a record of the batch can hold a value in, _line, _replaces: whether
    the key is stored already, _reason: NULL, the rejected records being taken out) and stage_rejected (_line,
    reason, raw) from stage_parsed. Returns how the file's rows meet their natural id."""
    shape = _key_shape(con, table, mapping)
    line_level = shape.rolled_up(table)
    con.execute("DROP VIEW IF EXISTS stage_ok")
    if line_level:  # an order with one unreadable line is rejected whole: a partial total would be wrong
        con.execute("""CREATE TEMP VIEW stage_ok AS SELECT * FROM stage_parsed
                       WHERE order_id IS NULL AND _reason IS NULL
                          OR order_id NOT IN (SELECT order_id FROM stage_parsed
                                              WHERE _reason IS NOT NULL AND order_id IS NOT NULL)""")
        con.execute("""INSERT INTO stage_rejected
                       SELECT _line, coalesce(_reason, 'order_id: another line of this order was rejected'), NULL
                       FROM stage_parsed
                       WHERE _reason IS NOT NULL
                          OR order_id IN (SELECT order_id FROM stage_parsed
                                          WHERE _reason IS NOT NULL AND order_id IS NOT NULL)""")
    else:
        con.execute("CREATE TEMP VIEW stage_ok AS SELECT * FROM stage_parsed WHERE _reason IS NULL")
        con.execute("INSERT INTO stage_rejected SELECT _line, _reason, NULL FROM stage_parsed WHERE _reason IS NOT NULL")

    derived = _derived(table, mapping, line_level)
    provided = {c.name for c in mapped if c.stored} | set(derived) | ({"amount"} if line_level else set())
    stored = table.stored_columns
    finals = []
    for column in stored:
        name = column.name
        if name in derived:
            expr = derived[name]
        elif name in provided:
            expr = name
        else:
            expr = f"CAST(NULL AS {column.sql_type})"
        if name == "amount" and table.kind == "orders":
            credit = []
            if "order_id" in mapping:
                credit.append("regexp_matches(order_id, '^C[0-9]')")
            if "quantity" in mapping:
                credit.append("quantity < 0")
            if credit:
                expr = f"CASE WHEN {' OR '.join(credit)} THEN -abs({expr}) ELSE {expr} END"
        finals.append(f"{expr} AS {name}")
    fingerprint, key = _key_sql(table, table.natural_id if table.natural_id in provided else None, shape.unkeyed)
    held = _held_columns(con, table, provided)
    keep = ", ".join(
        f"r.{c.name}" if c.name in provided else f"e.{c.name}" for c in stored if c.name in provided | held
    )
    con.execute("DROP TABLE IF EXISTS stage_records")
    con.execute(  # rejected records included, taken out below: one copy of a 10M-row file instead of two
        f"""CREATE TEMP TABLE stage_records AS
            WITH g AS ({_grouped_select(table, mapping, mapped, line_level, shape.repeats)}),
                 f AS (SELECT _line, _lines, {', '.join(finals)} FROM g),
                 c AS (SELECT f.*, {_record_checks(table)} AS _reason{fingerprint} FROM f),
                 r AS (SELECT c.*, {key} AS _key FROM c)
            SELECT r._key AS key, {keep}, r._line, e.{table.key} IS NOT NULL AS _replaces, r._reason
            FROM r LEFT JOIN {table.kind} e ON e.{table.key} = r._key"""
    )
    # A rejected record rejects every file row it was made of.
    if line_level:
        con.execute("""INSERT INTO stage_rejected
                       SELECT p._line, r._reason, NULL FROM stage_records r
                       JOIN stage_ok p ON p.order_id = r.order_id OR p._line = r._line
                       WHERE r._reason IS NOT NULL""")
    else:
        con.execute("""INSERT INTO stage_rejected
                       SELECT _line, _reason, NULL FROM stage_records
                       WHERE _reason IS NOT NULL""")
    con.execute("DELETE FROM stage_records WHERE _reason IS NOT NULL")
    for statement in ("DROP VIEW stage_ok", "DROP TABLE stage_parsed"):
        con.execute(statement)  # no longer needed: a 10M-row file's copies would crowd DuckDB's memory cap
    return shape


def _compare(con: duckdb.DuckDBPyConnection, table: TableSpec, cols: list[str]) -> dict[str, int]:
    """How many records are new, changed or already stored as they are, by the columns stage_records holds (`cols`:
    a column it leaves out is empty in the stored records too)."""
    new = "row(" + ", ".join(f"r.{c}" for c in cols) + ")"
    old = "row(" + ", ".join(f"e.{c}" for c in cols) + ")"
    rows = con.execute(
        f"""SELECT CASE WHEN e.{table.key} IS NULL THEN 'inserted'
                        WHEN {new} IS DISTINCT FROM {old} THEN 'updated' ELSE 'unchanged' END AS outcome,
                   count(*)
            FROM stage_records r LEFT JOIN {table.kind} e ON e.{table.key} = r.key
            GROUP BY outcome"""
    ).fetchall()
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    counts.update(dict(rows))
    return counts


def _write(con: duckdb.DuckDBPyConnection, table: TableSpec, batch_id: int, keyed: bool) -> None:
    """Move the versions the batch replaces to the history, then store its records as the current ones.
    `keyed`: every record's key is its natural id, which is then stored from the key after the sort (the
    same text twice through a sort by date costs ~0.4 s at 10M orders)."""
    cols = _columns_with_values(con, table)
    natural = table.natural_id if keyed else None
    replaced = f"{table.key} IN (SELECT key FROM stage_records WHERE _replaces)"
    rollups.mark_touched(con, table.kind, "FROM stage_records")
    rollups.mark_touched(con, table.kind, f"FROM {table.kind} WHERE {replaced}")
    con.execute(f"INSERT INTO {table.kind}_history SELECT * FROM {table.kind} WHERE {replaced}")
    con.execute(f"DELETE FROM {table.kind} WHERE {replaced}")
    in_order = f" ORDER BY {table.stored_by}" if table.stored_by else ""
    carried = ", ".join(["key", *(c for c in cols if c != natural), "? AS batch_id"])
    stored = ", ".join("key" if c == natural else c for c in cols)
    con.execute(f"""INSERT INTO {table.kind} ({table.key}, {', '.join(cols)}, batch_id)
                    SELECT key, {stored}, batch_id
                    FROM (SELECT {carried} FROM stage_records{in_order})""", [batch_id])


def _columns_with_values(con: duckdb.DuckDBPyConnection, table: TableSpec) -> list[str]:
    """The stored columns holding a value in some record of the batch: the others are left to their NULL
    default when the records are stored. Written in date order, every column goes through the sort: seven
    empty ones cost ~1.1 s of a 10M-order import."""
    names = _recorded(con, table)
    counts = con.execute(f"SELECT {', '.join(f'count({name})' for name in names)} FROM stage_records").fetchone()
    return [name for name, count in zip(names, counts) if count]


# ---------------------------------------------------------------------------------------------- batches

def _reason_report(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], dict[str, list[tuple[int | None, str]]]]:
    counts = dict(con.execute(
        "SELECT reason, count(*) FROM stage_rejected GROUP BY reason ORDER BY count(*) DESC, reason"
    ).fetchall())
    examples: dict[str, list[tuple[int | None, str]]] = {}
    for reason, line, raw in con.execute(
        """SELECT reason, _line, raw FROM stage_rejected
           QUALIFY row_number() OVER (PARTITION BY reason ORDER BY _line) <= ?
           ORDER BY reason, _line""", [EXAMPLES_PER_REASON]
    ).fetchall():
        examples.setdefault(reason, []).append((line, raw))
    return counts, examples


def _rejection_sentence(file_name: str, rows_read: int, counts: dict[str, int]) -> str:
    if rows_read == 0:
        return f"{file_name} has a header but no data rows."
    top = "; ".join(f"{n} × {reason}" for reason, n in list(counts.items())[:3])
    return (f"None of the {rows_read} rows of {file_name} could be imported ({top}): check the column "
            "mapping and the file's format.")


def _notes(con: duckdb.DuckDBPyConnection, table: TableSpec, staged: Staged, summary: BatchSummary,
           line_level: bool) -> list[str]:
    notes = []
    if staged.file_format == "text":
        notes.append(f"Read as {DELIMITER_NAMES[staged.delimiter]}-separated text, {staged.encoding}.")
    if staged.sheet:
        notes.append(f"Read sheet '{staged.sheet}' (of {', '.join(staged.sheets)}).")
    if line_level:
        notes.append(f"Rolled {summary.accepted} line items up to {summary.records} orders by order id.")
    elif summary.accepted > summary.records:
        notes.append(f"{summary.accepted - summary.records} rows repeated a {table.natural_id} of this file; "
                     "the last row of each was kept.")
    earlier = con.execute(
        "SELECT min(id) FROM import_batches WHERE sha256 = ? AND kind = ? AND status = 'committed'",
        [summary.sha256, table.kind],
    ).fetchall()[0][0]
    if earlier is not None:
        notes.append(f"This exact file was imported before as batch {earlier}; nothing is counted twice.")
    return notes


def _import_one(con: duckdb.DuckDBPyConnection, kind: str, path: Path, override: dict[str, str] | None,
                sheet: str | None, user: str, dry_run: bool, display_name: str | None,
                step: Callable[[float, str], None]) -> BatchSummary:
    table = spec(kind)
    name = display_name or path.name
    started = _now()
    step(0.0, f"Reading {name}")
    try:
        staged = stage_file(con, path, sheet)
    except FileUnreadable as exc:
        raise FileRejected(str(exc)) from None
    try:
        mapping = merge(kind, staged.columns, override)
    except ValueError as exc:
        raise FileRejected(str(exc)) from None
    _check_mapping(table, mapping, staged, name)
    con.execute("CREATE OR REPLACE TEMP TABLE stage_rejected (_line BIGINT, reason VARCHAR, raw VARCHAR)")
    if staged.bad_rows:
        con.executemany("INSERT INTO stage_rejected VALUES (?, ?, ?)", [list(r) for r in staged.bad_rows])
    step(0.35, f"Checking the {staged.rows_read:,} rows of {name}")
    try:
        mapped = _build_parsed(con, table, staged, mapping)
        step(0.6, f"Building records from {name}")
        shape = _build_records(con, table, mapping, mapped)
    except (duckdb.OutOfRangeException, duckdb.ConversionException):  # e.g. a sum of hundreds of 30-digit lines
        raise FileRejected(f"{name} holds numbers too large to compute with: check its amounts, quantities and "
                           "unit prices.") from None
    _fill_raw_text(con, staged)
    con.execute(f"DROP TABLE {staged.table}")   # no longer needed: room in DuckDB's memory cap for the sort below
    counts, examples = _reason_report(con)
    rejected = scalar(con, "SELECT count(DISTINCT _line) FROM stage_rejected")
    records = scalar(con, "SELECT count(*) FROM stage_records")
    if records == 0:
        raise FileRejected(_rejection_sentence(name, staged.rows_read, counts))
    step(0.75, f"Comparing {records:,} records with the database")
    recorded = _recorded(con, table)
    outcome = _compare(con, table, recorded)
    summary = BatchSummary(
        kind=kind, file_name=name, batch_id=None, rows_read=staged.rows_read,
        accepted=staged.rows_read - rejected, rejected=rejected, records=records, **outcome,
        rejected_by_reason=counts, examples=examples, mapping=mapping, file_format=staged.file_format,
        delimiter=staged.delimiter, encoding=staged.encoding, sheet=staged.sheet, sheets=staged.sheets,
        sha256=file_sha256(path),
    )
    summary.notes = _notes(con, table, staged, summary, shape.rolled_up(table))
    every_column = ", ".join(c.name if c.name in recorded else f"CAST(NULL AS {c.sql_type}) AS {c.name}"
                             for c in table.stored_columns)
    summary.preview = con.execute(
        f"SELECT {every_column} FROM stage_records ORDER BY _line LIMIT ?", [PREVIEW_RECORDS]
    ).df().to_dict("records")
    if dry_run:
        return summary
    step(0.85, f"Writing {records:,} records")
    summary.batch_id = scalar(con, "SELECT nextval('batch_seq')")
    _write(con, table, summary.batch_id, keyed=not shape.unkeyed)
    rollups.refresh(con)
    con.execute(
        """INSERT INTO rejected_rows (batch_id, line, reason, raw)
           SELECT ?, _line, reason, raw FROM stage_rejected ORDER BY _line""", [summary.batch_id]
    )
    con.execute(
        """INSERT INTO import_batches (id, kind, file_name, sha256, rows_read, inserted, updated, unchanged,
                                       rejected, status, uploaded_by, started_at, finished_at, mapping)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'committed', ?, ?, ?, ?)""",
        [summary.batch_id, kind, name, summary.sha256, summary.rows_read, summary.inserted, summary.updated,
         summary.unchanged, summary.rejected, user, started, _now(), json.dumps(mapping)],
    )
    return summary


def _drop_stage_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP VIEW IF EXISTS stage_ok")
    for name in ("stage_raw", "stage_parsed", "stage_records", "stage_rejected",
                 "stage_shifts", "stage_rejects", "stage_reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {name}")


def import_files(con: duckdb.DuckDBPyConnection, kind: str, paths: Iterable[str | Path],
                 mapping: dict[str, str] | None = None, sheet: str | None = None, dry_run: bool = False, *,
                 user: User, progress: Progress | None = None,
                 display_names: list[str] | None = None) -> list[BatchSummary]:
    """Import files of one kind as one transaction, one batch per file, recorded as uploaded by `user`.
    Raises PermissionDenied below the uploader role (a dry run too), FileRejected (and writes nothing)
    when any file cannot be imported; a dry run validates and writes nothing."""
    require(user, UPLOADER, "Importing")
    spec(kind)
    paths = [Path(p) for p in paths]
    names = display_names or [p.name for p in paths]
    summaries = []
    try:
        with write_transaction(con, commit=not dry_run):
            for i, (path, name) in enumerate(zip(paths, names)):
                def step(fraction: float, text: str, i: int = i) -> None:
                    if progress:
                        progress((i + fraction) / len(paths), text)
                summaries.append(_import_one(con, kind, path, mapping, sheet, user.email, dry_run, name, step))
    finally:
        _drop_stage_tables(con)
    if progress:
        progress(1.0, "Done")
    return summaries


def import_frame(con: duckdb.DuckDBPyConnection, kind: str, frame: pd.DataFrame, name: str, *,
                 user: User) -> BatchSummary:
    """Import a DataFrame of canonical columns through the same path as a file (used by the demo)."""
    with tempfile.TemporaryDirectory(prefix="loyalty-frame-") as tmp:
        path = Path(tmp) / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        return import_files(con, kind, [path], user=user, display_names=[name])[0]


class UndoRefused(ValueError):
    """The batch cannot be undone; the message says why."""


def undo_batch(con: duckdb.DuckDBPyConnection, batch_id: int, *, user: User) -> dict[str, int]:
    """Take a batch back: its records return to their previous versions (or disappear). One transaction.
    Uploaders may undo their own batches, admins any (PermissionDenied otherwise)."""
    require(user, UPLOADER, "Undoing a batch")
    found = con.execute("SELECT kind, status, uploaded_by FROM import_batches WHERE id = ?", [batch_id]).fetchall()
    if not found:
        raise UndoRefused(f"There is no batch {batch_id}.")
    kind, status, uploaded_by = found[0]
    require_undo(user, batch_id, uploaded_by)
    if status != "committed":
        raise UndoRefused(f"Batch {batch_id} is {status}; only committed batches can be undone.")
    table = spec(kind)
    key = table.key
    with write_transaction(con):
        con.execute(f"CREATE OR REPLACE TEMP TABLE undo_keys AS SELECT {key} AS key FROM {kind} WHERE batch_id = ?",
                    [batch_id])
        undone = f"{key} IN (SELECT key FROM undo_keys)"
        undone_rows = f"FROM {kind} WHERE {undone}"
        rollups.mark_touched(con, kind, undone_rows)  # the batch's orders, about to go
        con.execute(f"DELETE FROM {kind}_history WHERE batch_id = ?", [batch_id])  # versions already replaced
        con.execute(f"DELETE FROM {kind} WHERE batch_id = ?", [batch_id])
        con.execute(f"""INSERT INTO {kind} SELECT * FROM {kind}_history WHERE {undone}
                        QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY batch_id DESC) = 1""")
        con.execute(f"DELETE FROM {kind}_history h USING {kind} c "
                    f"WHERE c.{undone} AND h.{key} = c.{key} AND h.batch_id = c.batch_id")  # current again
        rollups.mark_touched(con, kind, undone_rows)  # the versions restored in their place
        restored = scalar(con, f"SELECT count(*) FROM {kind} WHERE {undone}")
        removed = scalar(con, "SELECT count(*) FROM undo_keys") - restored
        rollups.refresh(con)
        con.execute("UPDATE import_batches SET status = 'undone', undone_at = ? WHERE id = ?", [_now(), batch_id])
        con.execute("DROP TABLE undo_keys")
    return {"batch_id": batch_id, "removed": removed, "restored": restored}


def batches(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The import history, newest first."""
    return con.execute(
        """SELECT id AS batch, kind, file_name AS file, status, rows_read, inserted, updated, unchanged,
                  rejected, uploaded_by, started_at, finished_at, undone_at, sha256
           FROM import_batches ORDER BY id DESC"""
    ).df()


def rejected_rows(con: duckdb.DuckDBPyConnection, batch_id: int) -> pd.DataFrame:
    """Every rejected row of a batch with its line number, reason and raw text."""
    return con.execute(
        "SELECT line, reason, raw FROM rejected_rows WHERE batch_id = ? ORDER BY line", [batch_id]
    ).df()


def row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Current records per kind."""
    return {k: scalar(con, f"SELECT count(*) FROM {k}") for k in KINDS}
