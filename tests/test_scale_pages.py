"""Every page in AppTest on one database of 1,000,000 orders (about 45,000 customers) and 100,000 support
tickets, imported from Parquet through the product's import path: each page runs without an exception,
no chart carries more than MAX_POINTS points, no grid more than one page (loyalty.ui.TABLE_ROWS) of rows,
and the long lists say which rows of how many they show, checked against counts taken straight from the
database.

The data is generated in DuckDB from hashes of distinct integers (independent uniforms, deterministic, and seconds faster than
bench.run.generate): customer k of 50,000 is drawn with a cube of a uniform, so a few customers place
thousands of orders and most place a few, and order values are log-normal (Box–Muller), as in bench.run.
"""
from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from loyalty.access import LOCAL_USER
from loyalty.db import session
from loyalty.importer import import_files
from loyalty.ui import TABLE_ROWS

from .test_pages import APP, PAGES

ORDERS, CUSTOMERS, TICKETS = 1_000_000, 50_000, 100_000
MAX_POINTS = 5_000

UNIFORMS = """SELECT i, hash(4 * i) / 2^64 AS u1, hash(4 * i + 1) / 2^64 AS u2, hash(4 * i + 2) / 2^64 AS u3,
                     hash(4 * i + 3) / 2^64 AS u4 FROM range($rows) t(i)"""   # hash(i, k) would correlate across k
ORDERS_SQL = f"""
    WITH u AS ({UNIFORMS})
    SELECT 'B' || lpad(i::VARCHAR, 9, '0') AS order_id,
           'K' || lpad(floor($customers * pow(u1, 3))::BIGINT::VARCHAR, 7, '0') AS customer_id,
           DATE '2016-11-01' + floor(u2 * 3652)::INTEGER AS order_date,
           round(CASE WHEN u4 < 0.02 THEN -1 ELSE 1 END * exp(4.5 + sqrt(-2 * ln(u3)) * cos(2 * pi() * u4)), 2) AS amount,
           ['web', 'phone', 'email', 'edi'][1 + floor(u4 * 4)::INTEGER] AS channel
    FROM u"""
TICKETS_SQL = f"""
    WITH u AS ({UNIFORMS})
    SELECT 'T' || lpad(i::VARCHAR, 8, '0') AS ticket_id,
           'K' || lpad(floor($customers * pow(u1, 3))::BIGINT::VARCHAR, 7, '0') AS customer_id,
           TIMESTAMP '2023-11-01' + to_minutes(floor(u2 * 3 * 365 * 1440)::BIGINT) AS opened_at,
           opened_at + to_minutes(floor(u3 * 4320)::BIGINT) AS first_response_at,
           opened_at + to_minutes(floor(u3 * 20000)::BIGINT) AS resolved_at,
           ['complaint', 'inquiry', 'inquiry', 'praise'][1 + floor(u4 * 4)::INTEGER] AS kind,
           CASE WHEN u4 < 0.5 THEN 1 + floor(u4 * 10)::INTEGER END AS csat
    FROM u"""


def write_parquet(sql: str, rows: int, path: Path) -> Path:
    with duckdb.connect() as con:
        pq.write_table(con.sql(sql, params={"rows": rows, "customers": CUSTOMERS}).to_arrow_table(), path)
    return path


@pytest.fixture(scope="module")
def big_db(tmp_path_factory) -> Path:
    """One 1M-order database for the module, imported from Parquet by loyalty.importer.import_files."""
    folder = tmp_path_factory.mktemp("scale")
    path = folder / "big.duckdb"
    with session(path) as con:
        import_files(con, "orders", [write_parquet(ORDERS_SQL, ORDERS, folder / "orders.parquet")], user=LOCAL_USER)
        import_files(con, "tickets", [write_parquet(TICKETS_SQL, TICKETS, folder / "tickets.parquet")], user=LOCAL_USER)
    return path


@pytest.fixture(scope="module")
def module_cache():
    """One cold start for the module: cache keys name the data version, not the file, so results of
    another test's database must not be found here, nor ours later."""
    import streamlit as st

    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture(autouse=True)
def clear_streamlit_caches(module_cache):
    """Replaces conftest's per-test clearing: the pages share one cache across this module, as the sessions
    of one server do, so the lifetime-value fit that Super customers, Customer 360 and Predictions all show
    is trained once (every other figure is computed by the first page that needs it)."""
    yield


def values_in(array) -> int:
    """How many values a plotly trace attribute holds: a list (nested for a heatmap's z) or plotly's typed
    array, {"dtype", "bdata" (base64 bytes), "shape" (for 2-D)}."""
    if isinstance(array, dict):
        if "shape" in array:
            return math.prod(int(n) for n in str(array["shape"]).split(","))
        return len(base64.b64decode(array["bdata"])) // np.dtype(array["dtype"]).itemsize
    return sum(values_in(v) if isinstance(v, (list, dict)) else 1 for v in array)


def chart_points(chart) -> int:
    """Points across a chart's traces: per trace its longest coordinate array (z cells for a heatmap)."""
    traces = json.loads(chart.proto.spec)["data"]
    return sum(max((values_in(t[a]) for a in ("x", "y", "z", "values", "labels") if t.get(a) is not None), default=0)
               for t in traces)


def grid_rows(table) -> int:
    """Rows a grid sends to the browser: its Arrow payload, or the full count of a lazily loaded one."""
    if table.proto.HasField("lazy_data"):
        return table.proto.lazy_data.row_count
    return pa.ipc.open_stream(table.proto.arrow_data.data).read_all().num_rows


def page_totals(at: AppTest) -> list[int]:
    """N of each 'Rows a–b of N' caption on the page (the tables that were paged)."""
    return [int(m.group(1).replace(",", "")) for c in at.caption
            if (m := re.match(r"Rows 1–500 of ([\d,]+), ", c.value))]


def counted(db: Path, sql: str, *params) -> int:
    with session(db) as con:
        return con.execute(sql, list(params)).fetchone()[0]


@pytest.mark.parametrize("name", PAGES)
def test_page_stays_light_at_scale(big_db, monkeypatch, name):
    monkeypatch.setenv("LOYALTY_DB", str(big_db))
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page(f"app_pages/{name}.py").run()
    assert not at.exception, at.exception
    for chart in at.get("plotly_chart"):
        assert chart_points(chart) <= MAX_POINTS, json.loads(chart.proto.spec)["layout"]
    for table in at.dataframe:
        assert grid_rows(table) <= TABLE_ROWS, table.proto.id
    totals = page_totals(at)
    assert len(at.pagination) == len(totals), "every paged table has its selector and its caption"
    if name == "customer_360":   # the default customer, the largest, has thousands of orders and tickets
        customer = at.selectbox(key="customer").value
        assert totals == [counted(big_db, f"SELECT count(*) FROM {kind} WHERE customer_id = ?", customer)
                          for kind in ("orders", "tickets")]
    elif name == "predictions":  # every buyer has a lifetime value; the churn list is long too
        assert counted(big_db, "SELECT count(DISTINCT customer_id) FROM orders") in totals
    elif name == "at_risk":
        assert totals and totals[0] > TABLE_ROWS
