"""Churn risk: snapshot choice and label worked by hand, no feature that looks past its snapshot, and on
the demo data a model that beats the recency rule on a later holdout."""
from __future__ import annotations

import shutil
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from loyalty.db import session
from loyalty.models.churn import (FEATURES, calibration_table, choose_snapshots, precision_top_decile,
                                  snapshot_features, train_churn_model)
from loyalty.period import default_period, resolve_period
from tests.shop import insert, order


def test_snapshots_of_the_demo_window():
    train, test = choose_snapshots(date(2023, 11, 1), date(2026, 10, 31))
    # 30 Apr 2026 + 180 days = 27 Oct 2026 (inside); 31 May 2026 + 180 days = 27 Nov 2026 (beyond the data)
    assert test == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    # 31 Aug 2025 + 180 days = 27 Feb 2026, before the first test snapshot; 30 Sep 2025 + 180 = 29 Mar 2026, not
    assert train[-1] == date(2025, 8, 31) and train[0] == date(2024, 9, 30) and len(train) == 12
    assert choose_snapshots(date(2026, 1, 1), date(2026, 10, 31)) == ([], [])      # too short a history
    assert choose_snapshots(None, date(2026, 10, 31)) == ([], [])


def test_label_and_features_worked_by_hand(con):
    insert(con, "orders", [
        order("A", "2024-01-10", 100, order_id="A1", channel="email"),
        order("A", "2024-06-20", 50, order_id="A2", channel="web", discount=50,
              promised_date=date(2024, 6, 25), delivered_date=date(2024, 6, 28)),     # late, delivered by the snapshot
        order("A", "2024-12-27", 70, order_id="A3"),       # 180 days after 30 Jun: A stays
        order("B", "2024-03-01", 80, order_id="B1", channel="phone",
              promised_date=date(2024, 6, 1), delivered_date=date(2024, 7, 2)),       # late, but delivered after it
        order("B", "2024-12-28", 80, order_id="B2"),       # 181 days after: B left
        order("C", "2023-05-01", 10, order_id="C1"),       # no order in the 365 days up to the snapshot: not a row
    ])
    insert(con, "tickets", [
        {"ticket_id": "T1", "customer_id": "A", "opened_at": datetime(2024, 6, 30, 8), "kind": "complaint",
         "first_response_at": datetime(2024, 6, 30, 9)},                         # answered in 1 h
        {"ticket_id": "T2", "customer_id": "B", "opened_at": datetime(2024, 6, 30, 12), "kind": "inquiry"},  # SLA passes at 16:00: slow
        {"ticket_id": "T3", "customer_id": "B", "opened_at": datetime(2024, 6, 30, 22), "kind": "inquiry"},  # SLA passes after the day
    ])
    period = resolve_period(date(2025, 1, 31), date(2025, 1, 31))
    rows = snapshot_features(con, period, [date(2024, 6, 30)]).set_index("customer_id")
    assert rows.index.tolist() == ["A", "B"]
    a, b = rows.loc["A"], rows.loc["B"]
    assert (a["churned"], b["churned"]) == (False, True)
    assert (a["recency_days"], a["frequency"], a["revenue"], a["tenure_days"]) == (10, 2, 150.0, 172)
    assert (a["email_share"], a["web_share"]) == (0.5, 0.5)
    assert a["discount_share"] == pytest.approx(50 / 200)
    assert a["spend_trend"] == pytest.approx(150 / 151)                   # all revenue in the last 6 months
    assert (a["late_deliveries_12m"], a["complaints_12m"], a["slow_responses_12m"]) == (1, 1, 0)
    assert a["bad_experiences_12m"] == 2 and a["median_response_hours_12m"] == 1.0
    assert (b["late_deliveries_12m"], b["slow_responses_12m"], b["tickets_12m"]) == (0, 1, 2)
    assert b["personal_share"] == 1.0 and pd.isna(b["median_response_hours_12m"])


def test_nothing_after_a_snapshot_changes_its_features(demo_db, tmp_path):
    snap = [date(2025, 8, 31)]
    copy = tmp_path / "changed.duckdb"
    shutil.copy(demo_db, copy)
    with session(demo_db) as con:
        period = default_period(con)
        before = snapshot_features(con, period, snap)
    with session(copy) as con:
        customers = before["customer_id"].head(40).tolist()
        insert(con, "orders", [order(c, "2025-09-01", 5000, order_id=f"X{i}", channel="email", discount=10)
                               for i, c in enumerate(customers)])
        insert(con, "tickets", [{"ticket_id": f"Y{i}", "customer_id": c, "opened_at": datetime(2025, 9, 1, 1),
                                 "kind": "complaint", "csat": 1} for i, c in enumerate(customers)])
        insert(con, "surveys", [{"customer_id": c, "answered_at": datetime(2025, 9, 1, 1), "nps": 0}
                                for c in customers])
        con.execute("UPDATE orders SET delivered_date = DATE '2025-09-15' WHERE order_date <= DATE '2025-08-31' "
                    "AND (delivered_date > DATE '2025-08-31' OR delivered_date IS NULL)")
        before_snap = "opened_at < TIMESTAMP '2025-09-01'"
        con.execute(f"UPDATE tickets SET first_response_at = TIMESTAMP '2025-09-10' WHERE {before_snap} "
                    "AND (first_response_at IS NULL OR first_response_at >= TIMESTAMP '2025-09-01')")
        con.execute(f"UPDATE tickets SET resolved_at = TIMESTAMP '2025-09-20', csat = 1 WHERE {before_snap} "
                    "AND (resolved_at IS NULL OR resolved_at >= TIMESTAMP '2025-09-01')")
        after = snapshot_features(con, period, snap)
    pd.testing.assert_frame_equal(before.drop(columns="churned"), after.drop(columns="churned"))
    assert not after["churned"].equals(before["churned"])          # the label does look ahead, and saw the orders


def test_the_model_beats_the_recency_rule_on_the_later_holdout(demo_db):
    with session(demo_db) as con:
        model = train_churn_model(con, default_period(con))
    assert model.note is None and model.test_rows > 300 and model.train_rows > 1000
    scores = model.evaluation.set_index("score")
    assert scores.loc["churn model", "roc_auc"] > scores.loc["recency rule (days since last order)", "roc_auc"]
    calibration = model.calibration
    assert calibration["rows"].sum() == model.test_rows and len(calibration) == 10
    assert calibration["observed"].mul(calibration["rows"]).sum() / model.test_rows == pytest.approx(model.test_churn_rate)
    assert model.drivers["feature"].tolist()[0] == "recency_days" and set(model.drivers["feature"]) == set(FEATURES)
    risk = model.risk["churn_risk"]
    assert risk.between(0, 1).all() and risk.is_monotonic_decreasing


def test_too_little_history_says_so(con):
    insert(con, "orders", [order("A", "2026-01-10", 100, order_id="A1")])
    model = train_churn_model(con, default_period(con))
    assert model.note.startswith("the data need about 21 months of orders") and model.evaluation is None


def test_precision_and_calibration_worked_by_hand():
    churned = np.array([1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    score = np.arange(20, 0, -1, dtype=float)             # the first rows score highest
    assert precision_top_decile(churned, score) == 0.5    # top 2 rows: 1 and 0
    table = calibration_table(churned, score / 20)
    assert table["rows"].tolist() == [2] * 10
    assert table.iloc[-1]["observed"] == 0.5 and table.iloc[-1]["mean_predicted"] == pytest.approx((20 + 19) / 40)
    assert table.iloc[0]["observed"] == 0.0


def test_a_store_with_orders_only_trains_without_the_missing_inputs(demo_db, tmp_path):
    copy = tmp_path / "orders_only.duckdb"
    shutil.copy(demo_db, copy)
    with session(copy) as con:
        con.execute("DELETE FROM tickets")
        con.execute("DELETE FROM surveys")
        con.execute("UPDATE orders SET discount = NULL")
        model = train_churn_model(con, default_period(con))
    assert model.note is None
    assert {"median_response_hours_12m", "discount_share"}.isdisjoint(model.drivers["feature"])
    assert "recency_days" in set(model.drivers["feature"]) and model.risk["churn_risk"].between(0, 1).all()


def test_a_sample_of_customers_keeps_each_sampled_customers_features(demo_db):
    from loyalty.models.churn import sample_stride

    snaps = [date(2025, 6, 30), date(2025, 8, 31)]
    with session(demo_db) as con:
        period = default_period(con)
        everyone = snapshot_features(con, period, snaps)
        part = snapshot_features(con, period, snaps, stride=3)
        assert sample_stride(con, period, 15) == 1            # small data: every customer
    assert 0 < len(part) < len(everyone) / 2
    same = everyone.merge(part[["snap", "customer_id"]], on=["snap", "customer_id"])
    pd.testing.assert_frame_equal(same.reset_index(drop=True), part.reset_index(drop=True))
