"""Super customers: the four criteria per customer, the threshold, missing referral data, super customers at risk."""
from __future__ import annotations

from datetime import date

import pandas as pd

from loyalty.access import LOCAL_USER
from loyalty.metrics import super_customers
from loyalty.period import Period
from loyalty.rollups import count_columns
from loyalty.settings import save_setting

AS_OF = date(2024, 12, 31)
YEAR = Period(date(2024, 1, 1), AS_OF, AS_OF)


def orders(mk) -> list[dict]:
    """Revenue S1 1000 > S2 50 > S3 30 > S4 20 > S5 10; quantity S2 100 > S1 5 > S3 3 > S4 2 > S5 1;
    first orders S2 2019 < S3 2020 < S4 2021 < S1 Jan 2024 < S5 Jun 2024 (so tenure scores 5, 4, 3, 2, 1)."""
    return [mk.order("S1", "2024-01-15", 400, quantity=2), mk.order("S1", "2024-04-15", 300, quantity=2),
            mk.order("S1", "2024-07-15", 300, quantity=1),
            mk.order("S2", "2019-01-01", 25, quantity=50), mk.order("S2", "2024-10-01", 25, quantity=50),
            mk.order("S3", "2020-01-01", 15, quantity=2), mk.order("S3", "2024-12-01", 15, quantity=1),
            mk.order("S4", "2021-01-01", 5, quantity=0.5), mk.order("S4", "2024-02-01", 5, quantity=0.5),
            mk.order("S4", "2024-05-01", 5, quantity=0.5), mk.order("S4", "2024-11-01", 5, quantity=0.5),
            mk.order("S5", "2024-06-01", 10, quantity=1)]


CUSTOMERS = [{"customer_id": "S1", "reference_willing": True}, {"customer_id": "S2", "reference_willing": False},
             {"customer_id": "S3", "reference_willing": False}, {"customer_id": "S4", "reference_willing": True},
             {"customer_id": "S5", "reference_willing": False},
             {"customer_id": "N", "referred_by": "S2", "created_at": date(2023, 5, 5)}]


def test_criteria_per_customer(store, add, mk):
    add("orders", orders(mk))
    add("customers", CUSTOMERS)
    table = super_customers.super_customers(store, YEAR, only_super=False).set_index("customer_id")
    # S1: orders in Q1, Q2, Q3 (regular), M score 5 (large), reference-willing
    # S2: quantity score 5 (large), tenure score 5 (long-standing), referred N
    # S4: orders in Q1, Q2, Q4 (regular), reference-willing; S3 (tenure score 4) and S5 meet nothing
    assert table["meets"].to_dict() == {"S1": "regular, large, brings others",
                                        "S2": "large, long-standing, brings others",
                                        "S4": "regular, brings others", "S3": "", "S5": ""}
    assert table["criteria_met"].to_dict() == {"S1": 3, "S2": 3, "S4": 2, "S3": 0, "S5": 0}
    assert table.at["S2", "referrals"] == 1 and table.at["S1", "orders"] == 3
    assert list(table.index) == ["S1", "S2", "S4", "S3", "S5"]        # most criteria, then revenue


def test_threshold_from_settings(store, add, mk):
    add("orders", orders(mk))
    add("customers", CUSTOMERS)
    assert super_customers.super_customers(store, YEAR)["customer_id"].tolist() == ["S1", "S2"]
    save_setting(store, "super_customer_threshold", 2, user=LOCAL_USER)
    assert super_customers.super_customers(store, YEAR)["customer_id"].tolist() == ["S1", "S2", "S4"]
    save_setting(store, "super_customer_threshold", 4, user=LOCAL_USER)
    assert super_customers.super_customers(store, YEAR).empty


def test_without_referral_data_bringing_others_is_unknown_not_false(store, add, mk):
    add("orders", orders(mk))
    missing = super_customers.super_customer_availability(store)
    assert str(missing["bringing_others"]) == ("not available: needs customers.referred_by or "
                                               "customers.reference_willing")
    table = super_customers.super_customers(store, YEAR, only_super=False).set_index("customer_id")
    assert table["bringing_others"].isna().all()
    assert table["criteria_met"].to_dict() == {"S1": 2, "S2": 2, "S4": 1, "S3": 0, "S5": 0}


def test_super_customers_at_risk(store, add, mk):
    add("orders", orders(mk))
    add("customers", CUSTOMERS)
    add("tickets", [{"customer_id": "S1", "opened_at": mk.ts("2024-03-01 09:00"), "kind": "complaint"},
                    {"customer_id": "S1", "opened_at": mk.ts("2024-09-01 09:00"), "kind": "complaint"},
                    {"customer_id": "S2", "opened_at": mk.ts("2024-09-01 09:00"), "kind": "complaint"},
                    {"customer_id": "S3", "opened_at": mk.ts("2024-09-01 09:00"), "kind": "complaint"},
                    {"customer_id": "S3", "opened_at": mk.ts("2024-10-01 09:00"), "kind": "complaint"}])
    risky = super_customers.at_risk_super_customers(store, YEAR)
    # S3 had two complaints but is no super customer; S2 had one
    assert risky[["customer_id", "bad_experiences", "reason"]].values.tolist() == [["S1", 2, "2 complaints"]]
    # without tickets, surveys or delivery dates nobody is scored: no rows, the same columns and types
    store.execute("DELETE FROM tickets")
    count_columns(store)
    none = super_customers.at_risk_super_customers(store, YEAR)
    assert none.empty and none.dtypes.to_dict() == risky.dtypes.to_dict()


def test_empty_store(store):
    assert super_customers.super_customers(store, YEAR).empty
    assert isinstance(super_customers.at_risk_super_customers(store, YEAR), pd.DataFrame)
