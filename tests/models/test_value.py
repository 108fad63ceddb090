"""Guardrails of the lifetime-value forecast on small hand-built inputs: the run-rate rule, worked by
hand, whenever the models must not be trusted, and never a NaN or negative CLV."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty.models import value
from loyalty.models.clv import BgNbdFit, GammaGammaFit, bgnbd_problem, gamma_gamma_problem
from loyalty.models.value import MODEL, RUN_RATE, forecast_values


def features(rows: list[tuple]) -> pd.DataFrame:
    columns = ["customer_id", "frequency", "recency", "T", "monetary", "purchases", "revenue", "span_days"]
    return pd.DataFrame(rows, columns=columns)


def regular_buyers(count: int, spend: float = 50.0) -> pd.DataFrame:
    """Customers who buy every week without fail, always for the same amount ("too regular")."""
    weeks = np.tile(np.arange(10, 50), count // 40 + 1)[:count]
    return features([(f"R{i}", w, w, w, spend, w + 1, spend * (w + 1), 7 * w + 1) for i, w in enumerate(weeks)])


def test_too_few_repeat_customers_fall_back_to_the_run_rate_worked_by_hand():
    small = features([
        ("A", 3, 40.0, 104.0, 300.0, 4, 1200.0, 730),   # 1,200 over 730 days: 1,200 × 365.25 / 730 = 600.41 a year
        ("B", 0, 0.0, 1.0, None, 1, 100.0, 10),         # 10 days count as one month: 100 × 12 = 1,200
        ("C", 1, 2.0, 20.0, 80.0, 2, -40.0, 141),       # refunds exceed purchases: never below zero
    ])
    forecast = forecast_values(small)
    assert forecast.method == RUN_RATE
    assert forecast.reason == "only 2 customers have bought more than once (the model needs at least 300)"
    assert forecast.reason in forecast.caption()
    clv = forecast.customers.set_index("customer_id")["clv_12m"]
    assert clv["A"] == pytest.approx(600.41, abs=0.01)
    assert clv["B"] == pytest.approx(1200.0)
    assert clv["C"] == 0.0
    purchases = forecast.customers.set_index("customer_id")["expected_purchases_12m"]
    assert purchases["A"] == pytest.approx(4 * 365.25 / 730)
    assert forecast.customers["p_alive"].isna().all()            # the rule makes no claim about being alive
    assert (forecast.customers["method"] == RUN_RATE).all()


def test_a_fit_that_did_not_converge_is_not_used():
    fit = BgNbdFit(r=0.5, alpha=2.0, a=0.8, b=3.0, log_likelihood=-100.0, converged=False, customers=1000,
                   repeat_customers=600)
    assert bgnbd_problem(fit) == "the purchase model's fit did not converge"


def test_degenerate_estimates_are_not_used():
    at_the_edge = BgNbdFit(r=0.5, alpha=2.0, a=1e-4, b=3.0, log_likelihood=-100.0, converged=True, customers=1000,
                           repeat_customers=600)
    assert bgnbd_problem(at_the_edge).startswith("the purchase model's estimate of a (0.0001) is degenerate")
    unbounded = GammaGammaFit(p=2.0, q=0.9, gamma=10.0, log_likelihood=-10.0, converged=True, customers=600)
    assert "unbounded" in gamma_gamma_problem(unbounded)


def test_too_regular_customers_fall_back_with_a_reason():
    forecast = forecast_values(regular_buyers(400))
    assert forecast.method == RUN_RATE and forecast.reason
    assert forecast.bgnbd.repeat_customers == 400           # enough customers: the fit itself is what fails
    assert np.isfinite(forecast.customers["clv_12m"]).all() and (forecast.customers["clv_12m"] >= 0).all()


def test_a_constant_spend_makes_the_spend_model_fall_back(monkeypatch):
    good = BgNbdFit(r=0.5, alpha=2.0, a=0.8, b=3.0, log_likelihood=-100.0, converged=True, customers=400,
                    repeat_customers=400)
    monkeypatch.setattr(value.clv, "fit_bgnbd", lambda *args: good)
    forecast = forecast_values(regular_buyers(400))
    assert forecast.method == RUN_RATE
    assert forecast.reason.startswith("the spend model's") and forecast.gamma_gamma is not None


def test_a_customer_whose_model_value_is_not_usable_gets_the_run_rate(monkeypatch):
    good_purchases = BgNbdFit(r=0.5, alpha=2.0, a=0.8, b=3.0, log_likelihood=-1.0, converged=True, customers=3,
                              repeat_customers=400)
    good_spend = GammaGammaFit(p=2.0, q=3.0, gamma=10.0, log_likelihood=-1.0, converged=True, customers=400)
    monkeypatch.setattr(value.clv, "fit_bgnbd", lambda *args: good_purchases)
    monkeypatch.setattr(value.clv, "fit_gamma_gamma", lambda *args: good_spend)
    monkeypatch.setattr(value, "model_values", lambda f, b, s: pd.DataFrame(
        {"expected_purchases_12m": [1.0, np.nan, 2.0], "p_alive": [0.9, 0.5, 0.8], "clv_12m": [50.0, 10.0, -3.0]},
        index=f.index))
    three = features([("A", 1, 5.0, 50.0, 20.0, 2, 40.0, 365), ("B", 2, 5.0, 50.0, 20.0, 3, 73.05, 365),
                      ("C", 0, 0.0, 50.0, None, 1, 36.525, 365)])
    forecast = forecast_values(three)
    assert forecast.method == MODEL and forecast.reason is None
    rows = forecast.customers.set_index("customer_id")
    assert rows.loc["A", "clv_12m"] == 50.0 and rows.loc["A", "method"] == MODEL
    assert rows.loc["B", "clv_12m"] == pytest.approx(73.05 * 365.25 / 365)       # its own run-rate
    assert rows.loc["C", "clv_12m"] == pytest.approx(36.525 * 365.25 / 365)
    assert rows.loc["B", "method"].startswith(RUN_RATE) and rows.loc["C", "method"].startswith(RUN_RATE)


def test_no_customers():
    forecast = forecast_values(features([]))
    assert forecast.method == RUN_RATE and forecast.customers.empty
    assert forecast.reason == "no customer has an order up to the as-of date"


def test_customer_features_from_orders_worked_by_hand(con):
    from datetime import date

    from loyalty.period import Filters, resolve_period
    from loyalty.models.value import customer_features
    from tests.shop import insert, order

    insert(con, "orders", [
        order("A", "2024-01-01", 100, order_id="A1"),
        order("A", "2024-01-01", 50, order_id="A2"),       # same day: one purchase of 150
        order("A", "2024-01-15", 60, order_id="A3"),
        order("A", "2024-03-11", 40, order_id="A4"),
        order("A", "2024-03-12", -40, order_id="A5"),      # a refund day is not a purchase
        order("A", "2024-12-31", 999, order_id="A6"),      # after the as-of date
        order("B", "2024-05-01", 70, order_id="B1", channel="email"),
    ])
    period = resolve_period(date(2024, 6, 30), date(2024, 6, 30))
    rows = customer_features(con, period).set_index("customer_id")
    a = rows.loc["A"]
    assert (a["frequency"], a["purchases"]) == (2, 3)
    assert a["recency"] == pytest.approx(70 / 7)               # 1 Jan to 11 Mar 2024: 70 days
    assert a["T"] == pytest.approx(181 / 7)                    # 1 Jan to 30 Jun 2024: 181 days
    assert a["monetary"] == pytest.approx((60 + 40) / 2)
    assert (a["revenue"], a["span_days"]) == (210.0, 182)
    b = rows.loc["B"]
    assert (b["frequency"], b["recency"], b["T"], b["span_days"]) == (0, 0.0, 60 / 7, 61)
    assert pd.isna(b["monetary"])
    web_only = resolve_period(date(2024, 6, 30), date(2024, 6, 30), filters=Filters(channels=("web",)))
    assert customer_features(con, web_only)["customer_id"].tolist() == ["A"]


def test_values_are_looked_up_by_customer_id_as_a_merge_would(con):
    """with_value and value_of find each customer by a binary search in the forecast's ids, which holds only
    when customer_features hands them over in Python's string order: ids with capitals, digits, accents and
    other scripts check that, against a plain pandas merge (an id without orders gets no value)."""
    from datetime import date

    from loyalty.models.value import customer_value, value_of, with_value
    from loyalty.period import resolve_period
    from tests.shop import insert, order

    ids = ["b", "B", "a10", "a9", "Ärger", "Zoe", "été", "Ωmega", "东京", "z z", "_x", "0"]
    insert(con, "orders", [order(c, f"2024-0{1 + k % 6}-0{1 + k % 9}", 10 + k, order_id=f"O{i}-{k}")
                           for i, c in enumerate(ids) for k in range(1 + i % 3)])
    forecast = customer_value(con, resolve_period(date(2024, 6, 30), date(2024, 6, 30)))
    assert sorted(forecast.customers["customer_id"]) == sorted(ids)
    table = pd.DataFrame({"customer_id": ["東", *reversed(ids), "nobody", "Zoe"], "n": range(len(ids) + 3)})
    expected = table.merge(forecast.customers[["customer_id", "expected_purchases_12m", "clv_12m"]],
                           on="customer_id", how="left")
    pd.testing.assert_frame_equal(with_value(table, forecast), expected)
    by_id = forecast.customers.set_index("customer_id")
    for customer in ids:
        found = value_of(forecast, customer)
        assert found["customer_id"] == customer and found["clv_12m"] == pytest.approx(by_id.at[customer, "clv_12m"])
    assert value_of(forecast, "nobody") is None and value_of(forecast, "東") is None
