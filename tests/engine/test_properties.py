"""Invariants of the engine on random data (hypothesis), each checked against plain pandas."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.db import session
from loyalty.importer import import_files
from loyalty.metrics import activity, rfm, stages
from loyalty.period import Period
from loyalty.report import build_report

from ..shop import insert

PERIOD = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31))

orders_strategy = st.lists(
    st.tuples(st.integers(0, 11),                      # customer
              st.integers(0, 3 * 365),                 # day offset from 2022-01-01
              st.integers(-50, 500)),                  # amount, refunds included
    min_size=0, max_size=40)
prospects_strategy = st.lists(st.integers(12, 16), max_size=4, unique=True)


def load(con, orders, prospects):
    rows = [{"order_id": f"O{i}", "customer_id": f"C{c}", "order_date": date(2022, 1, 1) + timedelta(days=d),
             "amount": a, "quantity": 1} for i, (c, d, a) in enumerate(orders)]
    insert(con, "orders", rows)
    insert(con, "customers", [{"customer_id": f"C{c}"} for c in prospects])
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "amount", "quantity"])


PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(orders=orders_strategy, prospects=prospects_strategy)
def test_stages_partition_customers_and_the_funnel_never_grows(tmp_path_factory, orders, prospects):
    with session(tmp_path_factory.mktemp("p") / "t.duckdb") as con:
        frame = load(con, orders, prospects)
        counts = stages.stage_counts(con, PERIOD)
        known = set(frame.loc[frame["order_date"] <= PERIOD.as_of, "customer_id"]) | {f"C{c}" for c in prospects}
        assert sum(counts.values()) == len(known)
        assert len(stages.customer_stages(con, PERIOD)) == len(known)     # exactly one stage each
        at_or_beyond = stages.funnel(counts)["at_or_beyond"].tolist()
        assert all(a >= b for a, b in zip(at_or_beyond, at_or_beyond[1:]))


@PROPERTY
@given(orders=orders_strategy)
def test_segments_cover_every_buyer_and_revenue_adds_up(tmp_path_factory, orders):
    with session(tmp_path_factory.mktemp("p") / "t.duckdb") as con:
        frame = load(con, orders, [])
        buyers = frame.loc[frame["order_date"] <= PERIOD.as_of, "customer_id"].nunique()
        assert rfm.segment_summary(con, PERIOD)["customers"].sum() == buyers
        in_period = frame[(frame["order_date"] >= PERIOD.start) & (frame["order_date"] <= PERIOD.end)]
        out = activity.activity(con, PERIOD)
        assert out["revenue"] == float(in_period["amount"].sum())
        assert out["orders"] == len(in_period)
        assert out["active"] == in_period["customer_id"].nunique()


@PROPERTY
@given(orders=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 700), st.integers(1, 300)), min_size=1, max_size=30))
def test_reimporting_the_same_file_changes_no_metric(tmp_path_factory, orders):
    folder = tmp_path_factory.mktemp("p")
    path = folder / "orders.csv"
    lines = ["customer,date,amount"] + [f"c{c},{date(2023, 1, 1) + timedelta(days=d)},{a}" for c, d, a in orders]
    path.write_text("\n".join(lines) + "\n")
    with session(folder / "t.duckdb") as con:
        import_files(con, "orders", [path])
        before = json.dumps(build_report(con), sort_keys=True)
        again = import_files(con, "orders", [path])[0]
        assert again.inserted == 0
        assert json.dumps(build_report(con), sort_keys=True) == before
