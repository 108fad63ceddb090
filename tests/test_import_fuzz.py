"""A hypothesis fuzz of the import path: random bytes, and random near-CSV text (random headers, some of
them known column names, random cells, delimiters, quoting, line ends and encodings), imported as a
random kind into one database that grows across examples.

Every example must end in either a refusal (FileRejected: one sentence naming the file, no table
changed) or a clean import (accepted + rejected = rows read; the batch added exactly its records,
versions and rejected rows), never in another exception; and the database must stay consistent."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from loyalty.access import LOCAL_USER
from loyalty.db import session
from loyalty.importer import FileRejected, import_files
from loyalty.schema import KINDS

KNOWN_HEADERS = ["customer", "Customer ID", "email", "date", "Order Date", "created at", "amount", "Total",
                 "order id", "Invoice", "quantity", "unit price", "ticket id", "nps", "csat", "region",
                 "first reply time in minutes", "rowid", "_line", "channel", "date"]
CELLS = ["", "c1", "C1@X.COM", "2024-01-05", "05.01.2024", "13/01/2024", "01/13/2024", "45296", "20240105",
         "2024-01-05T10:00:00+02:00", "0001-01-01", "9999-12-31", "12.50", "1.234,56", "(3.00)", "$1,000.00",
         "-0", "1e30", "NaN", "∞", "99999999999999999999", "=1+1", "'; DROP TABLE orders; --", "yes", "7", "11",
         "web", "x,y", 'say "hi"', "Müller", "  ", "\t", "—", "NULL"]

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
cells = st.one_of(st.sampled_from(CELLS), texts)
# The required columns of each kind under a name the mapping knows, and values that column can hold.
REQUIRED = {"orders": ["customer", "date", "amount"], "customers": ["customer id"],
            "tickets": ["customer", "created at"], "surveys": ["customer", "date"]}
GOOD = {"customer": ["c1", "c2", "A@B.C", "00042"], "customer id": ["c1", "c2", "c3"],
        "date": ["2024-01-05", "05.01.2024", "1/13/2024", "20240105"], "created at": ["2024-01-05 10:00", "2024-02-01T08:30:00Z"],
        "amount": ["10", "12.50", "-3.00", "(4.00)", "1,234.56"]}


def _field(value: str, delimiter: str, quote_all: bool) -> str:
    if quote_all or delimiter in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _cell_for(name: str):
    """Mostly a good value for a required column, else anything."""
    if name not in GOOD:
        return cells
    return st.integers(0, 3).flatmap(lambda i: st.sampled_from(GOOD[name]) if i else cells)


@st.composite
def near_csv(draw, kind: str) -> bytes:
    """A delimited file that often has the kind's required columns, with good, odd and random values."""
    extras = draw(st.lists(st.one_of(st.sampled_from(KNOWN_HEADERS), texts), max_size=5))
    names = (REQUIRED[kind] if draw(st.integers(0, 4)) else []) + extras
    names = draw(st.permutations(names)) if names else [draw(texts)]
    delimiter = draw(st.sampled_from([",", ";", "\t", "|", "  "]))
    quote_all = draw(st.booleans())
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        width = draw(st.sampled_from([len(names)] * 6 + [max(0, len(names) - 1), len(names) + 1]))  # some short or long
        rows.append([draw(_cell_for(names[i])) if i < len(names) else draw(cells) for i in range(width)])
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(delimiter.join(_field(v, delimiter, quote_all) for v in row) for row in [names, *rows])
    text += draw(st.sampled_from(["", end]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    return text.encode(encoding, errors="replace")


TABLES = [t for kind in KINDS for t in (kind, f"{kind}_history")] + ["import_batches", "rejected_rows"]


def counts(con) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}


def assert_consistent(con) -> None:
    """Without undo, each kind's table holds one row per key ever inserted and, with its history, every version
    written; each replaced version has a current one of a later batch; each batch's counts add up."""
    for kind in KINDS:
        key = {"orders": "order_key", "customers": "customer_key", "tickets": "ticket_key", "surveys": "survey_key"}[kind]
        current, keys, history, unmatched = con.execute(
            f"SELECT (SELECT count(*) FROM {kind}), (SELECT count(DISTINCT {key}) FROM {kind}), "
            f"(SELECT count(*) FROM {kind}_history), "
            f"(SELECT count(*) FROM {kind}_history h WHERE NOT EXISTS (SELECT 1 FROM {kind} c "
            f" WHERE c.{key} = h.{key} AND c.batch_id > h.batch_id))").fetchall()[0]
        inserted, written = con.execute(
            "SELECT coalesce(sum(inserted), 0), coalesce(sum(inserted + updated + unchanged), 0) "
            "FROM import_batches WHERE kind = ?", [kind]).fetchall()[0]
        assert current == keys == inserted and current + history == written and unmatched == 0, kind
    assert con.execute("SELECT coalesce(sum(rejected), 0) FROM import_batches").fetchall()[0][0] == \
        con.execute("SELECT count(*) FROM rejected_rows").fetchall()[0][0]


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory) -> Path:
    """One database for all examples, seeded with a row of every kind."""
    folder = tmp_path_factory.mktemp("fuzz")
    seed = folder / "seed.csv"
    seed.write_text("customer,date,amount,nps,region,ticket id,created at\n"
                    "c1,2024-01-05,12.50,7,North,T1,2024-01-05 10:00\n")
    with session(folder / "fuzz.duckdb") as con:
        for kind in KINDS:
            assert import_files(con, kind, [seed], user=LOCAL_USER)[0].inserted == 1
    return folder / "fuzz.duckdb"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=st.sampled_from(KINDS).flatmap(
           lambda kind: st.tuples(st.just(kind), st.one_of(st.binary(max_size=600), near_csv(kind)))),
       suffix=st.sampled_from([".csv", ".txt"]))
def test_fuzz_import_ends_in_a_clean_import_or_one_sentence(fuzz_db, case, suffix):
    kind, data = case
    with tempfile.TemporaryDirectory(prefix="loyalty-fuzz-") as tmp, session(fuzz_db) as con:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        before = counts(con)
        try:
            [summary] = import_files(con, kind, [path], user=LOCAL_USER)
        except FileRejected as exc:
            message = str(exc)
            event("refused")
            assert "\n" not in message and "Traceback" not in message and message.endswith("."), message
            assert not re.search(r"(Error|Exception)\b", message), message
            assert path.name in message, message
            assert counts(con) == before
        else:
            event("imported with rejected rows" if summary.rejected else "imported whole")
            assert summary.accepted + summary.rejected == summary.rows_read
            after = counts(con)
            assert after[f"{kind}_history"] - before[f"{kind}_history"] == summary.updated + summary.unchanged
            assert after[kind] - before[kind] == summary.inserted
            assert after["import_batches"] - before["import_batches"] == 1
            assert after["rejected_rows"] - before["rejected_rows"] == summary.rejected
        assert_consistent(con)
