"""Small helpers the tests share."""
from __future__ import annotations

from pathlib import Path

import duckdb


def stored(db: Path, sql: str):
    """The rows of a query against a database file, opened just for it."""
    con = duckdb.connect(str(db))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
