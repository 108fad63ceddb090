"""The executive scorecard page in AppTest: empty store, figures equal to the engine's, URL filters."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from loyalty.db import session
from loyalty.formatting import fmt
from loyalty.metrics.scorecard import KPIS, scorecard
from loyalty.period import Filters, default_period

from .shop import SHOP_CUSTOMERS, SHOP_ORDERS, SHOP_SURVEYS, SHOP_TICKETS, insert

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def load_shop(db_file):
    with session(db_file) as con:
        for kind, rows in (("orders", SHOP_ORDERS), ("customers", SHOP_CUSTOMERS), ("tickets", SHOP_TICKETS),
                           ("surveys", SHOP_SURVEYS)):
            insert(con, kind, rows)


def engine_cards(db_file, **filters):
    with session(db_file) as con:
        return scorecard(con, default_period(con, filters=Filters(**filters)))


def test_empty_store_offers_the_demo(db_file):
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert "holds no orders yet" in at.info[0].value
    at.button(key="load-demo").click().run()
    assert not at.exception
    assert sorted(m.label for m in at.metric) == sorted(k.label for k in KPIS)


def test_tiles_show_the_engine_figures(db_file):
    load_shop(db_file)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    for card in engine_cards(db_file):
        assert shown[card["label"]] == fmt(card["value"], card["unit"])
    assert shown["Revenue"] == "1,610" and shown["Active customers"] == "4" and shown["Retention"] == "50.0%"
    assert "01 Jan 2024 – 31 Dec 2024, as of 31 Dec 2024" in at.caption[0].value


def test_filters_come_from_the_url(db_file):
    load_shop(db_file)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["region"] = ["North"]
    at.run()
    assert not at.exception
    assert at.multiselect(key="region").value == ["North"]
    assert "filtered to North" in at.caption[0].value
    shown = {m.label: m.value for m in at.metric}
    north = {c["label"]: fmt(c["value"], c["unit"]) for c in engine_cards(db_file, regions=("North",))}
    assert shown == north and shown["Revenue"] == "550"
