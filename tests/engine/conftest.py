"""Fixtures of the engine tests: a fresh store, a helper that inserts canonical rows (filling the key and
batch_id columns), and plain-pandas reference computations to check the engine against.

The reference functions are written from the contract's wording, independently of the engine's SQL."""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pandas as pd
import pytest

from loyalty.db import session
from loyalty.rollups import rebuild
from loyalty.schema import SPECS


def insert(con, kind: str, rows: list[dict]) -> None:
    """Insert canonical rows into `kind` (missing columns NULL), each with its own key, as batch 1."""
    spec = SPECS[kind]
    columns = [c.name for c in spec.stored_columns]
    start = con.execute(f"SELECT count(*) FROM {kind}").fetchall()[0][0]
    for i, r in enumerate(rows):
        unknown = set(r) - set(columns)
        assert not unknown, unknown
        con.execute(
            f"INSERT INTO {kind} ({spec.key}, {', '.join(columns)}, batch_id) VALUES (?, {', '.join('?' * len(columns))}, 1)",
            [f"{kind}-{start + i}", *[r.get(c) for c in columns]],
        )
    rebuild(con)  # what an import does after writing orders


def clear(con) -> None:
    """Empty every canonical table and the settings (to reuse one store across hypothesis examples)."""
    for kind in SPECS:
        con.execute(f"DELETE FROM {kind}")
    con.execute("DELETE FROM settings")
    rebuild(con)


def d(text: str) -> date:
    return date.fromisoformat(text)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def order(customer: str, day: str, amount, **extra) -> dict:
    return {"customer_id": customer, "order_date": d(day), "amount": amount, **extra}


@pytest.fixture
def mk():
    """Row builders: mk.order(customer, "2024-01-31", amount, **columns), mk.d("2024-01-31"),
    mk.ts("2024-01-31 09:00"); mk.insert(con, kind, rows) and mk.clear(con) for stores of one's own."""
    return SimpleNamespace(order=order, d=d, ts=ts, insert=insert, clear=clear)


@pytest.fixture
def store(tmp_path):
    """A fresh, empty store (loyalty.db.session on a new file)."""
    with session(tmp_path / "t.duckdb") as con:
        yield con


@pytest.fixture
def add(store):
    """add(kind, rows): insert canonical rows into the store."""
    return lambda kind, rows: insert(store, kind, rows)


# ------------------------------------------------------------------------------ plain-pandas references

def ref_orders(rows: list[dict], as_of: date) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["amount"] = frame["amount"].astype(float)
    return frame[frame["order_date"] <= as_of]


def ref_activity(rows: list[dict], start: date, end: date, as_of: date) -> dict:
    """Active, new, returning, orders, revenue, repeat rate of a period, from the contract's wording."""
    orders = ref_orders(rows, as_of)
    in_period = orders[(orders["order_date"] >= start) & (orders["order_date"] <= end)]
    active = set(in_period["customer_id"])
    first = orders.groupby("customer_id")["order_date"].min()
    count = orders.groupby("customer_id").size()
    new = {c for c in active if first[c] >= start}
    return {"active": len(active), "new": len(new), "returning": len(active - new), "orders": len(in_period),
            "revenue": float(in_period["amount"].sum()),
            "repeat_customer_rate": (sum(count[c] >= 2 for c in active) / len(active)) if active else None}


def ref_retention(rows: list[dict], previous_start: date, start: date, end: date, as_of: date) -> dict:
    """Customers active in the previous period (previous_start to the day before start), and of them those
    active again in the period (retained) or not (churned)."""
    orders = ref_orders(rows, as_of)
    def active(first, last):
        return set(orders[(orders["order_date"] >= first) & (orders["order_date"] <= last)]["customer_id"])
    before, now = active(previous_start, start - timedelta(days=1)), active(start, end)
    return {"previous_active": len(before), "retained": len(before & now), "churned": len(before - now)}


def ref_score(values: pd.Series, larger_is_better: bool = True) -> pd.Series:
    """1 + floor(5 × share of customers with a strictly worse value), capped at 5."""
    worse_first = values if larger_is_better else -values
    below = worse_first.rank(method="min") - 1          # how many are strictly worse
    return (1 + (5 * below / len(values)).apply(math.floor)).clip(upper=5).astype(int)


def ref_rfm(rows: list[dict], as_of: date) -> pd.DataFrame:
    """R, F, M values and scores per customer with an order up to the as-of date."""
    orders = ref_orders(rows, as_of)
    per = orders.groupby("customer_id").agg(last=("order_date", "max"), frequency=("order_date", "size"),
                                            monetary=("amount", "sum"))
    per["recency_days"] = [(as_of - last).days for last in per["last"]]
    per["r"] = ref_score(per["recency_days"], larger_is_better=False)
    per["f"] = ref_score(per["frequency"])
    per["m"] = ref_score(per["monetary"])
    return per


def ref_segment(r: int, f: int) -> str:
    """The contract's segment map, written out cell by cell."""
    if r == 5 and f >= 4:
        return "Champions"
    if r in (3, 4) and f >= 4:
        return "Loyal Customers"
    if r >= 4 and f in (2, 3):
        return "Potential Loyalists"
    if r == 5 and f == 1:
        return "New Customers"
    if r == 4 and f == 1:
        return "Promising"
    if r == 3 and f == 3:
        return "Need Attention"
    if r == 3 and f <= 2:
        return "About to Sleep"
    if r <= 2 and f in (3, 4):
        return "At Risk"
    if r <= 2 and f == 5:
        return "Can't Lose Them"
    return "Hibernating"


def ref_months_back(day: date, months: int) -> date:
    """The same day `months` earlier, month ends staying month ends (the quarters' boundaries)."""
    last_of = lambda y, m: (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day  # noqa: E731
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    is_end = day.day == last_of(day.year, day.month)
    return date(year, month + 1, last_of(year, month + 1) if is_end else min(day.day, last_of(year, month + 1)))


def ref_stage(dates: list[date], as_of: date, maintenance=False, reference=False, referrals=0, nps=None) -> str:
    """The furthest stage of one customer, from its order dates up to the as-of date."""
    dates = [x for x in dates if x <= as_of]
    if not dates:
        return "Prospect"
    if len(dates) == 1:
        return "First-time"
    bounds = [ref_months_back(as_of, 3 * k) for k in range(5)]      # bounds[k]: k quarters back
    quarters = sum(any(bounds[k + 1] < x <= bounds[k] for x in dates) for k in range(4))
    if not (quarters >= 3 or maintenance):
        return "Repeat"
    if not (referrals >= 1 or reference or (nps is not None and nps >= 9)):
        return "Client"
    return "Advocate"


@pytest.fixture
def ref():
    """The plain-pandas reference computations."""
    return SimpleNamespace(activity=ref_activity, retention=ref_retention, rfm=ref_rfm, score=ref_score,
                           segment=ref_segment, stage=ref_stage, months_back=ref_months_back)
