"""The command line: `python -m loyalty import|batches|undo|demo|report …` (DESIGN section 6).

Every command opens the database only for its own operation, so it can run while the app is up; a
failure prints one line on stderr and exits with status 1, never a traceback.

The command line acts as `loyalty.access.operator()`: an admin named after the OS account (recorded as
the batches' `uploaded_by`). Whoever can run it can read and write the database file directly, so a
role check here would protect nothing; the roles guard the app, where people sign in.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

from .access import PermissionDenied, operator
from .db import StoreBusy, db_path, session
from .importer import FileRejected, UndoRefused, batches, import_files, row_counts, undo_batch
from .mapping import load_mapping_json
from .schema import KINDS


def _json_default(value):
    return str(value)


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, default=_json_default, ensure_ascii=False))


def cmd_import(args: argparse.Namespace) -> int:
    mapping = None
    if args.mapping:
        text = Path(args.mapping).read_text() if Path(args.mapping).is_file() else args.mapping
        mapping = load_mapping_json(text)
    with session(args.db) as con:
        summaries = import_files(con, args.kind, args.files, mapping=mapping, sheet=args.sheet, dry_run=args.dry_run,
                                 user=operator())
    result = [s.to_json() for s in summaries]
    _print_json(result[0] if len(result) == 1 else result)
    return 0


def cmd_batches(args: argparse.Namespace) -> int:
    with session(args.db) as con:
        frame = batches(con)
    _print_json(json.loads(frame.to_json(orient="records", date_format="iso")))
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    with session(args.db) as con:
        _print_json(undo_batch(con, args.batch_id, user=operator()))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import load_demo

    with session(args.db) as con:
        if args.if_empty and row_counts(con)["orders"]:
            print(f"{db_path(args.db)} already holds data; demo not loaded.", file=sys.stderr)
            return 0
        _print_json(load_demo(con, customers=args.customers, seed=args.seed, user=operator()))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    with session(args.db) as con:
        write_report(con, fmt=args.format, out=args.out, as_of=args.as_of, start=args.date_from, end=args.date_to)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loyalty", description="Loyalty Lens command line.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--db", help="database file (default: $LOYALTY_DB or data/loyalty.duckdb)")
        p.set_defaults(handler=handler)
        return p

    p = add("import", cmd_import, "Import export files of one kind; prints a JSON summary.")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--mapping", help='JSON {"canonical column": "file header"} or a file holding it')
    p.add_argument("--sheet", help="XLSX sheet to read (default: the first)")
    p.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")

    add("batches", cmd_batches, "List import batches, newest first.")

    p = add("undo", cmd_undo, "Undo one import batch.")
    p.add_argument("batch_id", type=int)

    p = add("demo", cmd_demo, "Load the deterministic demo data set (all four kinds).")
    p.add_argument("--customers", type=int, default=5000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--if-empty", action="store_true", help="only when the database holds no orders")

    p = add("report", cmd_report, "Scorecard and segment figures for a period.")
    p.add_argument("--as-of", help="as-of date (default: the latest order date)")
    p.add_argument("--from", dest="date_from", help="first day of the period (inclusive)")
    p.add_argument("--to", dest="date_to", help="last day of the period (inclusive)")
    p.add_argument("--format", choices=("json", "csv", "pdf", "html"), default="json",
                   help="json or csv: the figures; pdf or html: the executive briefing")
    p.add_argument("--out", help="write to this file instead of standard output")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (FileRejected, UndoRefused, PermissionDenied, StoreBusy, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except duckdb.Error as exc:
        print(f"error: the database reported: {str(exc).splitlines()[0]}", file=sys.stderr)
    return 1
