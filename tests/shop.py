"""A small shop worked out by hand (the expected figures are in tests/engine/test_metrics.py), inserted
straight into the canonical tables. Its fixtures live in tests/conftest.py."""
from __future__ import annotations

from datetime import date, datetime

from loyalty.period import Period
from loyalty.rollups import rebuild
from loyalty.schema import SPECS


def insert(con, kind: str, rows: list[dict]) -> None:
    """Insert canonical rows (missing columns NULL), keyed by position, as batch 1."""
    spec = SPECS[kind]
    columns = [c.name for c in spec.stored_columns]
    for i, r in enumerate(rows):
        unknown = set(r) - set(columns)
        assert not unknown, unknown
        con.execute(
            f"INSERT INTO {kind} ({spec.key}, {', '.join(columns)}, batch_id) VALUES (?, {', '.join('?' * len(columns))}, 1)",
            [r.get(spec.natural_id) or f"k{i}", *[r.get(c) for c in columns]],
        )
    rebuild(con)  # what an import does after writing orders


def order(customer, day, amount, **extra):
    return {"customer_id": customer, "order_date": date.fromisoformat(day), "amount": amount, "quantity": 1,
            "channel": "web", "sales_rep": "Ann", **extra}


SHOP_ORDERS = [
    order("A", "2023-03-10", 100, order_id="A1"),
    order("A", "2024-02-01", 200, order_id="A2"),
    order("A", "2024-08-15", 50, order_id="A3", promised_date=date(2024, 8, 20), delivered_date=date(2024, 8, 25)),
    order("A", "2024-12-31", 300, order_id="A4", promised_date=date(2024, 12, 20), delivered_date=date(2024, 12, 29)),
    order("B", "2023-06-01", 50, order_id="B1"),
    order("C", "2024-05-05", 80, order_id="C1"),
    order("C", "2024-05-20", -30, order_id="C2"),
    order("D", "2024-11-11", 1000, order_id="D1", discount=900),
    order("F", "2022-01-01", 10, order_id="F1"),
    order("F", "2024-07-01", 10, order_id="F2", channel="email"),
]

SHOP_CUSTOMERS = [
    {"customer_id": "A", "region": "North", "account_team": "Ann;Bo", "on_maintenance_plan": False,
     "reference_willing": False, "created_at": date(2023, 1, 1)},
    {"customer_id": "B", "region": "North", "on_maintenance_plan": False, "reference_willing": False},
    {"customer_id": "C", "region": "South", "account_team": "Cy", "on_maintenance_plan": False, "reference_willing": False},
    {"customer_id": "D", "region": "South", "on_maintenance_plan": False, "reference_willing": False},
    {"customer_id": "E", "region": "North", "created_at": date(2024, 6, 1), "on_maintenance_plan": False,
     "reference_willing": False},
    {"customer_id": "F", "region": "South", "account_team": "Ann;Bo;Cy", "on_maintenance_plan": True,
     "reference_willing": False, "referred_by": "A", "created_at": date(2021, 12, 1)},
]


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


SHOP_TICKETS = [
    {"ticket_id": "t1", "customer_id": "A", "opened_at": ts("2024-03-01 09:00"), "first_response_at": ts("2024-03-01 10:00"),
     "resolved_at": ts("2024-03-02 09:00"), "kind": "complaint", "csat": 2, "reopened": False},
    {"ticket_id": "t2", "customer_id": "C", "opened_at": ts("2024-06-01 08:00"), "first_response_at": ts("2024-06-01 14:00"),
     "resolved_at": ts("2024-06-04 08:00"), "kind": "inquiry", "csat": 5, "reopened": True},
    {"ticket_id": "t3", "customer_id": "D", "opened_at": ts("2024-12-30 10:00"), "first_response_at": ts("2024-12-30 12:00"),
     "kind": "complaint", "reopened": False},
    {"ticket_id": "t4", "customer_id": "B", "opened_at": ts("2023-12-01 09:00"), "first_response_at": ts("2023-12-01 10:00"),
     "resolved_at": ts("2023-12-01 12:00"), "kind": "outreach", "reopened": False},
]

SHOP_SURVEYS = [
    {"customer_id": "A", "answered_at": ts("2024-04-01 12:00"), "nps": 10, "csat": 5},
    {"customer_id": "C", "answered_at": ts("2024-09-01 12:00"), "nps": 10, "csat": 4},
    {"customer_id": "D", "answered_at": ts("2024-11-20 12:00"), "nps": 3, "csat": 1},
    {"customer_id": "B", "answered_at": ts("2023-05-01 12:00"), "nps": 0, "csat": 1},
]

YEAR_2024 = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31))
