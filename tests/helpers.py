"""Small helpers the tests share."""
from __future__ import annotations

from pathlib import Path

from loyalty.db import session


def stored(db: Path, sql: str):
    """The rows of a query against a database file, opened just for it (as the product opens it: an AppTest run
    may have left it attached, see `loyalty.db.hold_open`)."""
    with session(db) as con:
        return con.execute(sql).fetchall()
