"""The demo data set: deterministic, shaped like the contract's data model, and carrying the planted
patterns (each measured here with plain pandas, independently of the engine)."""
from __future__ import annotations

import pandas as pd
import pytest

from loyalty.demo import END, generate
from loyalty.schema import SPECS


@pytest.fixture(scope="module")
def demo():
    return generate(customers=2000, seed=7)


def test_deterministic_and_seeded(demo):
    again = generate(customers=2000, seed=7)
    for kind in demo:
        pd.testing.assert_frame_equal(demo[kind], again[kind])
    assert not generate(customers=2000, seed=8)["orders"].equals(demo["orders"])


def test_columns_are_the_stored_canonical_columns(demo):
    for kind, frame in demo.items():
        assert list(frame.columns) == [c.name for c in SPECS[kind].stored_columns]


def test_dates_stay_inside_the_window_and_in_order(demo):
    orders, customers = demo["orders"], demo["customers"]
    assert orders["order_date"].min() >= pd.Timestamp("2023-11-01").date()
    assert orders["order_date"].max() <= END.date()
    first = orders.groupby("customer_id")["order_date"].min()
    created = customers.set_index("customer_id")["created_at"]
    assert (first >= created.loc[first.index]).all()
    tickets = demo["tickets"].dropna(subset=["first_response_at"])
    assert (tickets["first_response_at"] >= tickets["opened_at"]).all()


def test_revenue_is_concentrated(demo):
    revenue = demo["orders"].groupby("customer_id")["amount"].sum().sort_values(ascending=False)
    share = revenue.head(len(revenue) // 5).sum() / revenue.sum()
    assert 0.65 <= share <= 0.9


def test_two_late_deliveries_drive_customers_away(demo):
    """Customers active in the 12 months before a cut-off who got two or more late deliveries in them
    leave (no order in the 180 days after) clearly more often than the other active customers."""
    orders = demo["orders"].assign(day=lambda o: pd.to_datetime(o["order_date"]))
    cut = END - pd.Timedelta(days=180)
    window = orders[(orders["day"] >= cut - pd.Timedelta(days=365)) & (orders["day"] < cut)]
    late = window[pd.to_datetime(window["delivered_date"]) > pd.to_datetime(window["promised_date"])]
    twice_late = late.groupby("customer_id").size().loc[lambda s: s >= 2].index
    stayed = set(orders.loc[orders["day"] >= cut, "customer_id"])
    active = pd.Index(window["customer_id"].unique())
    left = pd.Series([c not in stayed for c in active], index=active)
    bad = active.isin(twice_late)
    assert bad.sum() >= 50
    assert left[bad].mean() > 1.4 * left[~bad].mean()


def test_planted_segments_exist(demo):
    orders, customers, tickets = demo["orders"], demo["customers"], demo["tickets"]
    revenue = orders.groupby("customer_id")["amount"].sum()
    discounted = orders[orders["discount"] > 0].groupby("customer_id")["amount"].sum()
    dependent = (discounted.reindex(revenue.index, fill_value=0) / revenue) >= 0.8
    assert dependent.sum() >= 50                                   # discount-dependent buyers
    assert (~customers["customer_id"].isin(orders["customer_id"])).sum() >= 100   # prospects
    channels = orders.groupby("customer_id")["channel"].agg(set)
    assert (channels == {"email"}).sum() >= 100                    # email-only accounts
    assert (orders["amount"] < 0).sum() > 0                        # refunds and credits
    assert tickets["resolved_at"].isna().sum() > 0                 # an open backlog
    assert (customers["account_team"].str.count(";") == 0).sum() >= 400   # single-rep accounts
    referrer = customers.set_index("customer_id")["referred_by"].dropna().to_dict()

    def chain(c):
        length = 1
        while c in referrer:
            c, length = referrer[c], length + 1
        return length
    assert max(chain(c) for c in referrer) >= 3                    # referral chains
