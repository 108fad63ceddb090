"""Every page in AppTest, on an empty store and on the hand-worked shop (figures as the engine gives
them; the shop's figures are worked out in tests/engine/test_metrics.py)."""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loyalty.access import LOCAL_USER
from loyalty.db import session
from loyalty.importer import import_files, undo_batch
from loyalty.formatting import fmt
from loyalty.metrics import signals
from loyalty.metrics.accounts import circumstantial_loyalty
from loyalty.metrics.cohorts import revenue_retention
from loyalty.metrics.customer import customer_summary
from loyalty.metrics.responsiveness import responsiveness
from loyalty.metrics.rfm import segment_movement
from loyalty.metrics.scorecard import scorecard
from loyalty.metrics.stages import funnel, stage_counts
from loyalty.metrics.super_customers import super_customers
from loyalty.period import default_period
from loyalty.settings import get_settings
from loyalty.ui import TABLE_ROWS

from .shop import insert, order
from .test_scorecard_page import load_shop

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = ["scorecard", "super_customers", "funnel", "responsiveness", "at_risk", "customer_360", "predictions", "data",
         "settings"]


def open_page(name: str, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(f"app_pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("name", PAGES)
def test_every_page_on_an_empty_store(db_file, name):
    at = open_page(name)
    if name not in ("data", "settings"):
        assert at.button(key="load-demo"), "the empty store offers the demo data"


@pytest.mark.parametrize("name", PAGES)
def test_every_page_on_the_shop(db_file, name):
    load_shop(db_file)
    open_page(name)


def test_funnel_page_figures(db_file):
    load_shop(db_file)
    at = open_page("funnel")
    assert not [c.value for c in at.caption if "placed by what is on record" in c.value]   # the shop has every input
    table = at.dataframe[0].value
    assert table["at_or_beyond"].tolist() == [6, 5, 3, 2, 1]
    assert table["conversion"].tolist() == ["", "83.3%", "60.0%", "66.7%", "50.0%"]


def test_funnel_says_which_stages_cannot_see_their_inputs(db_file):
    with session(db_file) as con:    # customer, date and amount only
        insert(con, "orders", [{"customer_id": "A", "order_date": date(2024, 1, 5), "amount": 10}])
    captions = [c.value for c in open_page("funnel").caption]
    tail = " — customers are placed by what is on record, so this stage may show fewer than it should."
    assert [c for c in captions if c.endswith(tail)] == [
        "Prospect: not available: needs customers.customer_id" + tail,
        "Client: not available: needs customers.on_maintenance_plan" + tail,
        "Advocate: not available: needs customers.referred_by or customers.reference_willing or surveys.nps" + tail]


def test_responsiveness_says_churn_by_experience_needs_tickets_surveys_or_deliveries(db_file):
    with session(db_file) as con:    # customer, date and amount only
        insert(con, "orders", [{"customer_id": c, "order_date": date(2024, m, 5), "amount": 10}
                               for c, m in [("A", 1), ("B", 1), ("A", 8)]])
    at = open_page("responsiveness")
    assert "Not available: needs delivery dates on orders, support tickets or survey answers." in [i.value for i in at.info]
    assert not [d for d in at.dataframe if "customers_with" in d.value.columns]


def test_responsiveness_page_figures(db_file):
    load_shop(db_file)
    at = open_page("responsiveness")
    shown = {m.label: m.value for m in at.metric}
    assert shown["Median first response"] == "2.0 h" and shown["First responses within SLA"] == "66.7%"
    assert shown["Open backlog"] == "1" and shown["NPS"] == "33.3"
    assert [d for d in at.dataframe if "customers_with" in d.value.columns]     # churn by experience is shown


def test_at_risk_page_lists_reasons_by_revenue(db_file):
    load_shop(db_file)
    view = open_page("at_risk").dataframe[0].value
    assert view["customer_id"].tolist()[:2] == ["D", "A"]       # revenue at stake 1,000 and 550
    assert "1 complaint, 1 CSAT ≤ 2, 1 NPS ≤ 6" in view.iloc[0]["why"]


def test_at_risk_page_offers_only_the_signals_it_can_judge(db_file):
    days = ("2024-01-01", "2024-02-01", "2024-03-01")    # A: usually an order every 30 days, none since March
    with session(db_file) as con:    # customer, date and amount only
        insert(con, "orders", [{"customer_id": c, "order_date": date.fromisoformat(d), "amount": 10}
                               for c, d in [("A", day) for day in days] + [("B", "2024-12-31")]])
    at = open_page("at_risk")     # as of 31 Dec 2024: A overdue, and its spend fell from 30 to nothing
    assert at.multiselect(key="risk-signals").options == ["Overdue (1)", "Declining spend (1)"]
    assert "2+ bad experiences: not available: needs delivery dates on orders, support tickets or survey answers." in \
        [c.value for c in at.caption]


def import_at_risk_customers(db: Path, first: int, last: int) -> int:
    """Customers `first` to `last` - 1 (customer i paying i + 1 an order) imported as a batch (its id returned):
    three orders a month apart early in 2024, every third customer also one in December, and Z's order on
    31 Dec 2024. As of that day all of them spend less in the last 6 months than in the 6 before, and those
    without a December order are overdue (305 days since the last order, usually 30 between)."""
    rows = [("Z", "2024-12-31", 5)]
    for i in range(first, last):
        days = ["2024-01-01", "2024-01-31", "2024-03-01"] + (["2024-12-01"] if i % 3 == 0 else [])
        rows += [(f"C{i:04d}", day, i + 1) for day in days]
    path = db.with_name(f"orders_{first}.csv")
    path.write_text("customer_id,order_date,amount\n" + "".join(f"{c},{d},{a}\n" for c, d, a in rows))
    with session(db) as con:
        return import_files(con, "orders", [path], user=LOCAL_USER)[0].batch_id


def by_revenue_at_stake(first: int, last: int) -> list[str]:
    """The customers of `import_at_risk_customers` by the last 12 months' revenue, 4 (i + 1) or 3 (i + 1)."""
    return [f"C{i:04d}" for i in sorted(range(first, last), key=lambda i: (-(4 if i % 3 == 0 else 3) * (i + 1), i))]


def test_at_risk_page_fetches_each_page_and_choice_from_the_database(db_file, monkeypatch):
    """Each page and choice of reasons is one query for the page shown, until it is cached; a new choice starts
    at its first page (`import_at_risk_customers`: 1,200 declining, 800 of them overdue)."""
    import_at_risk_customers(db_file, 0, 1200)
    listed = by_revenue_at_stake(0, 1200)
    overdue = [who for who in listed if int(who[1:]) % 3]
    queried = []
    computed = signals.at_risk_overview

    @functools.wraps(computed)
    def noted(con, period, reasons, offset, limit):
        queried.append((reasons, offset))
        return computed(con, period, reasons, offset, limit)

    monkeypatch.setattr(signals, "at_risk_overview", noted)
    both = ("overdue", "declining_spend")
    at = open_page("at_risk")
    assert at.multiselect(key="risk-signals").options == ["Overdue (800)", "Declining spend (1,200)"]
    at.pagination[0].set_value(2).run()
    assert any(c.value.startswith("1,200 customers, largest revenue") for c in at.caption)
    assert at.dataframe[0].value["customer_id"].tolist() == listed[500:1000]
    at.pagination[0].set_value(3).run()
    assert at.dataframe[0].value["customer_id"].tolist() == listed[1000:]
    at.multiselect(key="risk-signals").set_value(["overdue"]).run()     # 800 rows, from the first page
    assert not at.exception and any(c.value.startswith("800 customers, largest revenue") for c in at.caption)
    assert at.dataframe[0].value["customer_id"].tolist() == overdue[:500]
    at.pagination[0].set_value(2).run()
    view = at.dataframe[0].value
    assert view["customer_id"].tolist() == overdue[500:]
    assert view.iloc[0]["why"] == "overdue: 305 days since the last order, usually one every 30 days"
    assert view["signals"].tolist() == [1] * 300
    at.multiselect(key="risk-signals").set_value(list(both)).run()     # back to every reason: its first page, cached
    assert at.dataframe[0].value["customer_id"].tolist() == listed[:500]
    assert queried == [(both, 0), (both, 500), (both, 1000), (("overdue",), 0), (("overdue",), 500)]


def test_at_risk_page_starts_over_when_its_page_is_gone(db_file):
    """On the fourth page of 1,600 customers at risk, the batch of the last 400 is undone: three pages are left,
    and Streamlit starts over at the first, which the page fetches though its run began on the fourth."""
    import_at_risk_customers(db_file, 0, 1200)
    later = import_at_risk_customers(db_file, 1200, 1600)
    at = open_page("at_risk")
    at.pagination[0].set_value(4).run()
    assert at.dataframe[0].value["customer_id"].tolist() == by_revenue_at_stake(0, 1600)[1500:]
    with session(db_file) as con:
        undo_batch(con, later, user=LOCAL_USER)
    at.run()
    assert not at.exception and any(c.value.startswith("Rows 1–500 of 1,200,") for c in at.caption)
    assert at.dataframe[0].value["customer_id"].tolist() == by_revenue_at_stake(0, 1200)[:500]


def test_customer_360(db_file):
    load_shop(db_file)
    at = open_page("customer_360", customer="A")
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Stage"], shown["Segment"], shown["Orders"]) == ("Advocate", "Champions", "4")
    assert any("Champions: last order 0 days ago (R 5), 4 orders (F 5)" in m.value for m in at.markdown)
    facts = [c.value for c in at.caption if c.value.startswith("Region:")]
    assert facts == ["Region: North · Industry: — · Prospect since: 01 Jan 2023 · Account team: Ann, Bo · Maintenance plan: no · "
                     "Reference-willing: no · Referred by: —"]
    with session(db_file) as con:
        bad = customer_summary(con, default_period(con), "A")["bad_experiences"]
    assert shown["Bad experiences"] == f"{bad:,}"


def test_customer_360_says_bad_experiences_need_tickets_surveys_or_deliveries(db_file):
    with session(db_file) as con:
        insert(con, "orders", [order("A", "2024-01-05", 100), order("A", "2024-03-05", 50)])
    at = open_page("customer_360", customer="A")
    bad = [m for m in at.metric if m.label == "Bad experiences"][0]
    assert bad.value == "n/a"
    assert bad.proto.help == "not available: needs delivery dates on orders, support tickets or survey answers."


def test_scorecard_says_super_customers_at_risk_need_tickets_surveys_or_deliveries(db_file):
    with session(db_file) as con:
        insert(con, "orders", [order("A", "2024-01-05", 100), order("A", "2024-03-05", 50)])
    at = open_page("scorecard")
    assert "Not available: needs delivery dates on orders, support tickets or survey answers." in [i.value for i in at.info]
    assert not [s for s in at.success if "No super customer" in s.value]


def test_scorecard_counts_a_few_active_customers_in_whole_numbers(db_file):
    with session(db_file) as con:
        insert(con, "orders", [order("A", "2024-01-05", 100), order("A", "2024-03-05", 50)])
    chart = [c for c in open_page("scorecard").get("plotly_chart") if "Active customers" in c.proto.spec][0]
    axis = json.loads(chart.proto.spec)["layout"]["yaxis2"]
    assert (axis["tickmode"], axis["dtick"], axis["tickformat"]) == ("linear", 1, ",.0f")   # 0, 1, 2: not 0, 0.2, 0.4


def test_super_customers_page_lists_a(db_file):
    load_shop(db_file)
    at = open_page("super_customers")
    supers = [d.value for d in at.dataframe if "meets" in d.value.columns][0]
    assert supers["customer_id"].tolist() == ["A"] and supers.iloc[0]["meets"] == "regular, large, brings others"
    assert not [c.value for c in at.caption if c.value.startswith("Brings others:")]   # the shop has referrals


def test_super_customers_page_says_bringing_others_is_unknown_without_referrals(db_file):
    with session(db_file) as con:    # customer, date and amount only
        insert(con, "orders", [{"customer_id": "A", "order_date": date(2024, 1, 5), "amount": 10}])
    captions = [c.value for c in open_page("super_customers").caption]
    assert "Brings others: not available: needs customers.referred_by or customers.reference_willing; the criteria " \
           "met count the three known ones." in captions


def test_super_customers_page_says_what_circumstantial_loyalty_needs(db_file):
    load_shop(db_file)     # the shop's orders carry discounts, not products
    at = open_page("super_customers")
    captions = [c.value for c in at.caption]
    assert "Single-product customers: not available: needs orders.product." in captions
    with session(db_file) as con:
        flagged = int(circumstantial_loyalty(con, default_period(con))["discount_dependent"].sum())
    assert flagged >= 1 and any(c.startswith(f"{flagged:,} discount-dependent customers over the last 12 months")
                                for c in captions)


def test_settings_saves_targets(db_file):
    load_shop(db_file)
    at = open_page("settings")
    at.number_input(key="sla-first").set_value(8.0)
    at.button(key="save-definitions").click().run()
    assert not at.exception
    assert "Definitions saved." in [s.value for s in at.success]
    with session(db_file) as con:
        assert get_settings(con)["sla_first_response_hours"] == 8.0


@pytest.mark.parametrize("name", [p for p in PAGES if p != "settings"])
def test_every_page_on_demo_data(demo_db, monkeypatch, name):
    monkeypatch.setenv("LOYALTY_DB", str(demo_db))
    at = open_page(name)
    with session(demo_db) as con:
        period = default_period(con)
        if name == "scorecard":
            shown = {m.label: m.value for m in at.metric}
            assert shown == {c["label"]: fmt(c["value"], c["unit"]) for c in scorecard(con, period)}
        elif name == "funnel":
            assert at.dataframe[0].value["at_or_beyond"].tolist() == funnel(stage_counts(con, period))["at_or_beyond"].tolist()
            retention = revenue_retention(con, period)
            assert {m.label: m.value for m in at.metric}["Net revenue retention"] == f"{retention.total['nrr']:.1%}"
            by_cohort = [d.value for d in at.dataframe if "grr" in d.value.columns][0]
            assert len(retention.by_cohort) > 12 and len(by_cohort) == min(len(retention.by_cohort), TABLE_ROWS)
            assert by_cohort["customers"].tolist() == retention.by_cohort["customers"].head(TABLE_ROWS).tolist()
            assert by_cohort["grr"].tolist() == pytest.approx(retention.by_cohort["grr"].head(TABLE_ROWS).tolist())
        elif name == "responsiveness":
            shown = {m.label: m.value for m in at.metric}
            assert shown["Open backlog"] == fmt(responsiveness(con, period)["open_backlog"], "count")
        elif name == "super_customers":
            supers = [d.value for d in at.dataframe if "meets" in d.value.columns][0]
            assert supers["customer_id"].tolist() == super_customers(con, period)["customer_id"].head(500).tolist()


def test_segment_movement_on_super_customers_when_asked(demo_db, monkeypatch):
    monkeypatch.setenv("LOYALTY_DB", str(demo_db))
    at = open_page("super_customers")
    assert not [d for d in at.dataframe if "To" in list(d.value.columns) or "segment_before" in d.value.columns]
    at.toggle(key="show-migration").set_value(True).run()      # scoring 13 month ends waits for the toggle
    assert not at.exception
    with session(demo_db) as con:
        migration = segment_movement(con, default_period(con)).moves
    latest = migration[migration["month_end"] == migration["month_end"].max()]
    moved = latest[latest["segment_before"] != latest["segment"]]
    shown = [d.value for d in at.dataframe if "segment_before" in d.value.columns][0]
    assert len(moved) > 5 and sorted(zip(shown["segment_before"], shown["segment"], shown["customers"])) == \
        sorted(zip(moved["segment_before"], moved["segment"], moved["customers"]))


def test_lifetime_value_on_super_customers_and_customer_360(demo_db, monkeypatch):
    from loyalty.formatting import compact
    from loyalty.models.value import customer_value

    monkeypatch.setenv("LOYALTY_DB", str(demo_db))
    with session(demo_db) as con:
        forecast = customer_value(con, default_period(con))
    expected = forecast.customers.set_index("customer_id")
    at = open_page("super_customers")
    supers = [d.value for d in at.dataframe if "meets" in d.value.columns][0]
    assert supers["clv_12m"].tolist() == expected.loc[supers["customer_id"], "clv_12m"].tolist()
    assert any(forecast.caption() in c.value for c in at.caption)
    customer = supers["customer_id"].iloc[0]
    shown = {m.label: m.value for m in open_page("customer_360", customer=customer).metric}
    assert shown["12-month CLV"] == compact(expected.loc[customer, "clv_12m"])
    assert shown["Expected purchases, next 12 months"] == f"{expected.loc[customer, 'expected_purchases_12m']:,.1f}"


def test_predictions_page_figures(demo_db, monkeypatch):
    from loyalty.models.churn import train_churn_model
    from loyalty.models.clusters import customer_clusters
    from loyalty.models.rules import rules_of_thumb
    from loyalty.models.value import customer_value

    monkeypatch.setenv("LOYALTY_DB", str(demo_db))
    at = open_page("predictions")
    with session(demo_db) as con:
        period = default_period(con)
        clusters, churn = customer_clusters(con, period), train_churn_model(con, period)
        forecast, rules = customer_value(con, period), rules_of_thumb(con, period)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Clusters"] == str(clusters.k) and shown["Silhouette"] == f"{clusters.silhouette:.2f}"
    scores = churn.evaluation.set_index("score")["roc_auc"]
    assert shown["ROC AUC, churn model"] == f"{scores.iloc[0]:.3f}"
    assert shown["ROC AUC, recency rule"] == f"{scores.iloc[1]:.3f}"
    table = lambda column: [d.value for d in at.dataframe if column in d.value.columns][0]  # noqa: E731
    profiles = table("description")
    assert profiles["description"].tolist() == clusters.profiles["description"].tolist()
    risk = table("churn_risk")
    assert risk["customer_id"].tolist() == churn.risk["customer_id"].head(500).tolist()
    assert at.warning[0].value == (f"The lifetime-value models are not used: {forecast.reason}. "
                                   "Figures come from the run-rate rule.")
    verdicts = [e.value for e in [*at.success, *at.info, *at.warning]]
    assert all(rule.verdict in verdicts for rule in rules)
    assert all(any(rule.sample in m.value for m in at.markdown) for rule in rules)


def import_in_another_process(db_file: Path, lock_wait: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loyalty", "import", "orders",
                           str(Path(__file__).parent / "corpus" / "01_plain_comma.csv"), "--db", str(db_file)],
                          capture_output=True, text=True, env={**os.environ, "LOYALTY_LOCK_WAIT": lock_wait},
                          timeout=120)


def test_a_page_run_opens_the_database_once_and_holds_it_briefly(db_file, monkeypatch):
    """A cold page makes many cached calls; the run opens the file once for all of them and closes it when the
    run ends, keeping the database attached for the next run (`hold_open`); once the hold ends another process
    can write (a scheduled import waits that long at most)."""
    from loyalty import db, ui

    load_shop(db_file)
    monkeypatch.setenv("LOYALTY_HOLD_OPEN", "600")
    opened, closed = [], []
    real_connect, real_close = ui.connect, ui.close
    monkeypatch.setattr(ui, "connect", lambda *a, **k: opened.append(real_connect(*a, **k)) or opened[-1])
    monkeypatch.setattr(ui, "close", lambda con: closed.append(con) or real_close(con))
    open_page("super_customers")    # caches cleared by the fixture: every cached call, the filters and the version
    assert len(opened) == 1 and closed == opened
    refused = import_in_another_process(db_file, lock_wait="0")
    assert refused.returncode == 1 and "is busy" in refused.stderr   # held by this process after the run
    db.release_hold()
    writer = import_in_another_process(db_file, lock_wait="0")
    assert writer.returncode == 0, writer.stderr                     # nothing else kept it


def test_a_hold_lets_go_after_half_the_writers_wait_instead_of_going_on(db_file, monkeypatch):
    """However often runs come, a hold lasts at most half of LOYALTY_LOCK_WAIT: a writer waiting that long sees
    the file let go between runs (0 s here: every second hold lets go, the next run holds again)."""
    from loyalty import db

    load_shop(db_file)
    monkeypatch.setenv("LOYALTY_HOLD_OPEN", "600")
    monkeypatch.setenv("LOYALTY_LOCK_WAIT", "0")
    held = []
    for _ in range(3):
        open_page("super_customers")
        held.append(db._HOLD.con is not None)
    assert held == [True, False, True]
    monkeypatch.setenv("LOYALTY_LOCK_WAIT", "600")
    for _ in range(2):
        open_page("super_customers")
        held.append(db._HOLD.con is not None)
    assert held[3:] == [True, True]


def test_the_hold_ends_by_itself_and_a_waiting_writer_gets_the_file(db_file, monkeypatch):
    """The hold's timer lets go of the file: a writer waiting for it gets it (2 s of hold, 60 s of patience);
    with LOYALTY_HOLD_OPEN=0 a run holds nothing."""
    from loyalty import db

    load_shop(db_file)
    monkeypatch.setenv("LOYALTY_HOLD_OPEN", "2")
    open_page("super_customers")
    assert db._HOLD.con is not None and db._HOLD.path == db_file
    writer = import_in_another_process(db_file, lock_wait="60")
    assert writer.returncode == 0, writer.stderr
    assert db._HOLD.con is None
    monkeypatch.setenv("LOYALTY_HOLD_OPEN", "0")
    open_page("super_customers")
    assert db._HOLD.con is None
    assert import_in_another_process(db_file, lock_wait="0").returncode == 0


def test_a_connection_outside_a_page_run_is_its_own_and_closed_after_use(db_file):
    """A download built when clicked runs in another thread, outside any run: it reads with a connection of
    its own, closed when done (a connection kept by that thread would hold the file for good)."""
    import threading

    import duckdb

    from loyalty.ui import reading

    seen = []

    def download():
        with reading() as con:
            seen.append((con, con.execute("SELECT 42").fetchall()))

    worker = threading.Thread(target=download)
    worker.start()
    worker.join()
    con, result = seen[0]
    assert result == [(42,)]
    with pytest.raises(duckdb.ConnectionException):
        con.execute("SELECT 1")
