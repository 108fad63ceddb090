"""Every metric on the hand-worked shop of conftest.py (period: calendar 2024, as of 2024-12-31).

Orders (amount): A 2023-03-10 (100), 2024-02-01 (200), 2024-08-15 (50, late), 2024-12-31 (300, late);
B 2023-06-01 (50); C 2024-05-05 (80), 2024-05-20 (-30, a refund); D 2024-11-11 (1000, 900 discounted);
F 2022-01-01 (10), 2024-07-01 (10, by email). E is a prospect (created 2024-06-01). F was referred by A.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from loyalty.access import LOCAL_USER
from loyalty.metrics import activity, cohorts, concentration, experience, responsiveness, rfm, signals, stages
from loyalty.metrics import super_customers
from loyalty.metrics.scope import Unavailable, frame, records, rows, statement, text_columns_as_strings, texts_by_arrow
from loyalty.metrics.scorecard import KPIS, scorecard, status
from loyalty.period import Filters, Period, default_period
from loyalty.settings import SEGMENT_RULES, save_setting, segment_rule_problems

from ..shop import YEAR_2024


def period(**filters) -> Period:
    return Period(YEAR_2024.start, YEAR_2024.end, YEAR_2024.as_of, Filters(**filters))


def test_default_period_is_the_last_12_full_months(shop):
    assert default_period(shop) == YEAR_2024          # the latest order is on 2024-12-31, a month end
    mid = default_period(shop, as_of=date(2024, 11, 15))
    assert (mid.start, mid.end) == (date(2023, 11, 1), date(2024, 10, 31))


def test_activity(shop, year):
    out = activity.activity(shop, year)
    # active A, C, D, F; new C, D; returning A, F; orders 3 + 2 + 1 + 1; revenue 550 + 50 + 1000 + 10
    assert (out["active"], out["new"], out["returning"], out["orders"]) == (4, 2, 2, 7)
    assert out["revenue"] == pytest.approx(1610.0)
    assert out["repeat_customer_rate"] == pytest.approx(3 / 4)   # A (4 orders), C (2), F (2); not D


def test_retention_and_churn(shop, year):
    out = activity.retention(shop, year)
    # 2023 active: A and B; A came back, B did not
    assert (out["previous_active"], out["retained"], out["churned"]) == (2, 1, 1)
    assert out["retention"] == pytest.approx(0.5)


def test_lapsed_customers(shop, year):
    assert activity.lapsed_customers(shop, year)["customer_id"].tolist() == ["B"]    # 579 days > 365
    save_setting(shop, "lapsed_by_own_gap", True, user=LOCAL_USER)
    # C: one 15-day gap, so lapsed after 45 days; it has been 225. A: median gap 196, 0 days since.
    assert sorted(activity.lapsed_customers(shop, year)["customer_id"]) == ["B", "C"]


def test_revenue_concentration(shop, year):
    # period revenue D 1000, A 550, C 50, F 10: the top 20% of 4 customers is ceil(0.8) = 1 customer
    out = concentration.revenue_concentration(shop, year)
    assert out.top20_share == pytest.approx(1000 / 1610)
    curve = out.curve
    assert curve["customer_share"].tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert curve["revenue_share"].tolist() == pytest.approx([0, 1000 / 1610, 1550 / 1610, 1600 / 1610, 1.0])


def test_rfm_scores_segments_and_reasons(shop, year):
    scored = rfm.rfm_customers(shop, year).set_index("customer_id")
    # recency days A 0, B 579, C 225, D 50, F 183 -> R by rank, oldest first: B1 C2 F3 D4 A5
    assert scored["r"].to_dict() == {"A": 5, "B": 1, "C": 2, "D": 4, "F": 3}
    # frequency A 4, B 1, C 2, D 1, F 2: the tied customers share the lowest-placed score
    assert scored["f"].to_dict() == {"A": 5, "B": 1, "C": 3, "D": 1, "F": 3}
    # revenue A 650, B 50, C 50, D 1000, F 20
    assert scored["m"].to_dict() == {"A": 4, "B": 2, "C": 2, "D": 5, "F": 1}
    assert scored["segment"].to_dict() == {"A": "Champions", "B": "Hibernating", "C": "At Risk",
                                           "D": "Promising", "F": "Need Attention"}
    assert scored.at["C", "reason"] == "At Risk: last order 225 days ago (R 2), 2 orders (F 3)"


def test_rfm_does_not_depend_on_row_order(con, year):
    from ..shop import SHOP_CUSTOMERS, SHOP_ORDERS, insert

    insert(con, "orders", list(reversed(SHOP_ORDERS)))
    insert(con, "customers", SHOP_CUSTOMERS)
    assert rfm.rfm_customers(con, year).set_index("customer_id")["segment"].to_dict() == {
        "A": "Champions", "B": "Hibernating", "C": "At Risk", "D": "Promising", "F": "Need Attention"}


def test_segment_summary_and_grid(shop, year):
    overview = rfm.segment_overview(shop, year)
    summary = overview.summary.set_index("segment")["customers"]
    assert summary.sum() == 5 and len(summary) == len(SEGMENT_RULES)
    assert summary["Champions"] == 1 and summary["Loyal Customers"] == 0
    grid = overview.grid
    assert len(grid) == 25 and grid["customers"].sum() == 5
    assert grid.set_index(["r", "f"]).at[(2, 3), "segment"] == "At Risk"


def test_segment_rules_are_checked_for_gaps_and_overlaps(shop):
    assert segment_rule_problems(SEGMENT_RULES) == []
    broken = [r for r in SEGMENT_RULES if r["name"] != "Promising"] + [{"name": "Greedy", "r": [5, 5], "f": [1, 2]}]
    problems = segment_rule_problems(broken)
    assert "R 4, F 1 belongs to no segment." in problems
    assert "R 5, F 1 belongs to New Customers and Greedy." in problems
    with pytest.raises(ValueError, match="not saved"):
        save_setting(shop, "segment_rules", broken, user=LOCAL_USER)


def test_stages_and_funnel(shop, year):
    counts = stages.stage_counts(shop, year)
    # E prospect; B, D one order; C repeat (its NPS 10 alone makes no advocate); F client by its
    # maintenance plan; A client by ordering in 3 of the last 4 quarters, advocate by referring F
    assert counts == {"Prospect": 1, "First-time": 2, "Repeat": 1, "Client": 1, "Advocate": 1}
    table = stages.funnel(counts)
    assert table["at_or_beyond"].tolist() == [6, 5, 3, 2, 1]
    assert table["conversion"].tolist()[1:] == pytest.approx([5 / 6, 3 / 5, 2 / 3, 1 / 2])


def test_stage_history_month_by_month(shop, year):
    history = stages.stage_history(shop, year, months=2).pivot(index="month_end", columns="stage", values="customers")
    # at 2024-11-30 A had 3 orders in Q1, Q3 of the last four quarters (Dec 2023 - Nov 2024): Repeat;
    # D had ordered; E was a prospect
    assert history.loc[date(2024, 11, 30)].to_dict() == {"Advocate": 0, "Client": 1, "First-time": 2, "Prospect": 1, "Repeat": 2}
    assert history.loc[date(2024, 12, 31)].to_dict() == {"Advocate": 1, "Client": 1, "First-time": 2, "Prospect": 1, "Repeat": 1}


def test_super_customers(shop, year):
    table = super_customers.super_customers(shop, year, only_super=False).set_index("customer_id")
    # A: 3 of 4 quarters, top quantity score, referred F -> 3 criteria; F: longest tenure only
    assert table.at["A", "meets"] == "regular, large, brings others"
    assert table.at["F", "meets"] == "long-standing"
    assert table.at["D", "meets"] == "large"
    assert super_customers.super_customers(shop, year)["customer_id"].tolist() == ["A"]
    save_setting(shop, "super_customer_threshold", 1, user=LOCAL_USER)
    assert len(super_customers.super_customers(shop, year)) == 3


def test_responsiveness(shop, year):
    out = responsiveness.responsiveness(shop, year)
    # tickets opened in 2024: t1 (1 h / 24 h), t2 (6 h / 72 h), t3 (2 h, still open)
    assert out["tickets"] == 3
    assert out["first_response_median_hours"] == pytest.approx(2)
    assert out["first_response_p90_hours"] == pytest.approx(5.2)        # 2 + 0.8 × (6 - 2)
    assert out["first_response_sla_share"] == pytest.approx(2 / 3)
    assert out["resolution_median_hours"] == pytest.approx(48)
    assert out["resolution_p90_hours"] == pytest.approx(67.2)            # 24 + 0.9 × 48
    assert out["resolution_sla_share"] == pytest.approx(1 / 2)
    assert out["complaints"] == 2 and out["complaints_per_100"] == pytest.approx(50)   # 2 per 4 active
    assert out["reopen_rate"] == pytest.approx(1 / 3)
    assert out["open_backlog"] == 1
    # CSAT answers in 2024: tickets 2, 5; surveys 5, 4, 1
    assert out["csat_mean"] == pytest.approx(17 / 5) and out["csat_share_4_5"] == pytest.approx(3 / 5)
    assert out["nps"] == pytest.approx(100 / 3)                          # 10, 10, 3


def test_missing_inputs_are_explicit_not_zero(con, year):
    from ..shop import SHOP_ORDERS, insert

    insert(con, "orders", SHOP_ORDERS)
    out = responsiveness.responsiveness(con, year)
    assert str(out["first_response_median_hours"]) == "not available: needs tickets.first_response_at"
    assert str(out["complaints_per_100"]) == "not available: needs tickets.kind"
    assert isinstance(out["csat_mean"], Unavailable) and isinstance(out["nps"], Unavailable)
    cards = {c["name"]: c for c in scorecard(con, year, trend_months=0)}
    assert isinstance(cards["maintenance_share"]["value"], Unavailable)
    assert cards["maintenance_share"]["status"] == "no data"


def test_bad_experiences_and_at_risk(shop, year):
    table = experience.bad_experiences(shop, year).set_index("customer_id")
    assert table.at["A", "bad_experiences"] == 4      # 2 late deliveries, complaint t1, CSAT 2 on t1
    assert table.at["A", "reason"] == "2 late deliveries, 1 complaint, 1 CSAT ≤ 2"
    assert table.at["C", "bad_experiences"] == 1      # t2 answered after 6 h, over the 4 h SLA
    assert table.at["D", "reason"] == "1 complaint, 1 CSAT ≤ 2, 1 NPS ≤ 6"
    at_risk = experience.bad_experiences(shop, year, at_risk_only=True)
    assert at_risk["customer_id"].tolist() == ["D", "A"]   # by revenue at stake: 1000, 550


def test_a_customer_list_converts_by_arrow_to_the_same_frame(shop, year):
    """`many_rows` only changes how the result reaches pandas: every column type the metrics return, NULLs
    and an all-NULL text column included, comes out as the direct conversion gives it."""
    query = """SELECT * FROM (VALUES
        ('A', NULL::VARCHAR, DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04', 1.5::DOUBLE, 7::BIGINT, TRUE, 2.25::DECIMAL(18, 2),
         12::HUGEINT, ['x', 'y'], 3::INTEGER),
        (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)) t(text, empty, day, moment, ratio, count, flag,
                                                                               money, total, names, small)"""
    pd.testing.assert_frame_equal(texts_by_arrow(shop, shop.sql(query)), text_columns_as_strings(shop.execute(query)))
    pd.testing.assert_frame_equal(signals.at_risk_customers(shop, year),
                                  frame(shop, signals.facts(False) + signals.AT_RISK + signals.AT_RISK_ROWS, year,
                                        **signals.signal_params(shop), **experience.bad_params(shop, year.as_of),
                                        reasons=list(signals.AT_RISK_REASONS), offset=0, limit=None))


SCOPE_NAMES = ["customers_in_scope", "orders_in_scope", "buyers", "own_gap", "buyers_and_gaps", "customer_months_in_scope",
               "dated_orders", "customer_spans_in_scope", "period_customers", "period_revenue", "previous_customers",
               "known_since", "known_customers", "referral_dates", "tickets_in_scope", "surveys_in_scope", "windows"]


def scope_read(text: str) -> list[str]:
    return [name for name in SCOPE_NAMES if f"\n{name} AS " in text or text.startswith(f"WITH {name} AS ")]


def test_a_statement_carries_the_scope_it_reads_and_nothing_else(shop, year):
    count = "n AS (SELECT count(*) AS n FROM orders_in_scope) SELECT * FROM n"
    assert scope_read(statement(count, Filters())) == ["orders_in_scope"]
    assert scope_read(statement(count, Filters(regions=("North",)))) == ["customers_in_scope", "orders_in_scope"]
    # through others: buyers_and_gaps reads buyers and own_gap, which read the orders
    assert scope_read(statement("g AS (SELECT * FROM buyers_and_gaps) SELECT * FROM g", Filters())) == [
        "orders_in_scope", "buyers", "own_gap", "buyers_and_gaps"]
    assert statement("one AS (SELECT 1 AS one) SELECT * FROM one", Filters()) == "WITH one AS (SELECT 1 AS one) SELECT * FROM one"
    assert rows(shop, count, year) == [{"n": 10}]   # A 4, B 1, C 2, D 1, F 2 orders up to the end of 2024
    assert rows(shop, count, period(regions=("nowhere",))) == [{"n": 0}]
    # every expression but the gaps, which nothing of these reads
    assert [n for n in SCOPE_NAMES if n not in ("own_gap", "buyers_and_gaps")] == scope_read(statement(
        "w AS (SELECT * FROM windows, previous_customers, known_customers, "
        "referral_dates, tickets_in_scope, surveys_in_scope, period_revenue, customer_spans_in_scope) SELECT 1",
        Filters(regions=("North",))))


def test_rows_are_plain_python_values_as_records_of_a_frame_gives_them(shop, year):
    query = """x AS (SELECT * FROM (VALUES ('A', 2.25::DECIMAL(18, 2), NULL::DOUBLE, 7::BIGINT, 0.5::DOUBLE, TRUE),
                                          (NULL, NULL, 1.5::DOUBLE, NULL, 'NaN'::DOUBLE, NULL)) t(text, money, ratio, count, share, flag))
               SELECT * FROM x"""
    found = rows(shop, query, year)
    assert found == [{"text": "A", "money": 2.25, "ratio": None, "count": 7, "share": 0.5, "flag": True},
                     {"text": None, "money": None, "ratio": 1.5, "count": None, "share": None, "flag": None}]
    assert [type(v) for v in found[0].values()] == [str, float, type(None), int, float, bool]
    assert found == records(frame(shop, query, year))


def test_disloyalty_signals(shop, year):
    table = signals.customer_signals(shop, year).set_index("customer_id")
    assert table.at["C", "declining_spend"] == "declining spend: 0 in the last 6 months against 50 before"
    # D's one order (1000) carried a discount: all of its revenue came from discounted orders
    assert table.at["D", "discount_dependent"] == "discount-dependent: 100% of the last 12 months' revenue discounted"
    assert table.at["F", "routine_only"] == "routine-only: all 1 order of the last 12 months by email, no outreach"
    assert table["no_outreach_90d"].notna().sum() == 4                      # A, C, D, F ordered, none reached out to
    assert sorted(table.index[table["single_contact"].notna()]) == ["C", "D"]   # team of one; D's orders from Ann only
    assert "overdue" not in (table.at["A", "reasons"] or "")
    assert isinstance(signals.signal_availability(shop)["price_complaints"], Unavailable)


def test_cohorts_and_revenue_retention(shop, year):
    table = cohorts.cohort_retention(shop, year)
    table["cohort"] = table["cohort"].dt.date
    a = table[table["cohort"] == date(2023, 3, 1)]
    assert a["months_since"].tolist() == [0, 11, 17, 21] and a["revenue"].tolist() == [100, 200, 50, 300]
    assert date(2022, 1, 1) not in set(table["cohort"])     # older than the 24 cohorts shown
    out = cohorts.revenue_retention(shop, year).total
    # customers active in 2023: A (100) and B (50); in 2024 A brought 550, B nothing
    assert out["nrr"] == pytest.approx(550 / 150) and out["grr"] == pytest.approx(100 / 150)


def test_filters(shop):
    north = period(regions=("North",))
    assert activity.activity(shop, north)["active"] == 1 and activity.activity(shop, north)["revenue"] == pytest.approx(550)
    assert stages.stage_counts(shop, north) == {"Prospect": 1, "First-time": 1, "Repeat": 0, "Client": 0, "Advocate": 1}
    nothing = period(channels=("phone",))
    out = activity.activity(shop, nothing)
    assert (out["active"], out["revenue"], out["repeat_customer_rate"]) == (0, 0, None)
    assert concentration.revenue_concentration(shop, nothing).top20_share is None
    assert sum(stages.stage_counts(shop, nothing).values()) == 0     # an order filter leaves prospects out
    assert rfm.segment_overview(shop, nothing).summary["customers"].sum() == 0


def test_empty_period(shop):
    empty = Period(date(2020, 1, 1), date(2020, 12, 31), date(2020, 12, 31))
    out = activity.activity(shop, empty)
    assert (out["active"], out["orders"], out["revenue"]) == (0, 0, 0)
    assert activity.retention(shop, empty)["retention"] is None


@pytest.mark.parametrize("name, value, target, expected", [
    ("retention", 0.8, 0.75, "on target"), ("retention", 0.7, 0.75, "within 10%"), ("retention", 0.6, 0.75, "off"),
    ("complaints_per_100", 4, 5, "on target"), ("complaints_per_100", 5.4, 5, "within 10%"),
    ("complaints_per_100", 6, 5, "off"), ("revenue", 100, None, "no target"), ("nps", None, 30, "no data"),
])
def test_kpi_status(name, value, target, expected):
    kpi = next(k for k in KPIS if k.name == name)
    assert status(kpi, value, target) == expected


def test_scorecard(shop, year):
    save_setting(shop, "targets", {"revenue": 1500}, user=LOCAL_USER)
    cards = {c["name"]: c for c in scorecard(shop, year, trend_months=12)}
    revenue = cards["revenue"]
    # 2023 revenue as of 2023-12-31: A 100 + B 50
    assert (revenue["value"], revenue["previous"], revenue["target"], revenue["status"]) == (1610, 150, 1500, "on target")
    assert revenue["delta"] == pytest.approx(1460)
    # Jan..Dec 2024: A in Feb (200), Aug (50), Dec (300); C in May (80 - 30); F in Jul (10); D in Nov (1000)
    assert revenue["trend"] == [0, 200, 0, 0, 50, 0, 10, 50, 0, 0, 1000, 300]
    assert cards["retention"]["target"] == 0.75 and cards["retention"]["status"] == "off"   # 0.5
    assert cards["referrals"]["value"] == 0          # F was referred, but became a prospect in 2021
    assert cards["reference_willing"]["value"] == 0
    assert cards["maintenance_share"]["value"] == pytest.approx(1 / 4)   # F of A, C, D, F


def test_segment_migration_between_month_ends(shop, year):
    # At 2024-11-30: recency A 107, B 548, C 194, D 19, F 152 days -> R: B1 C2 F3 A4 D5; orders A 3,
    # B 1, C 2, D 1, F 2 -> F: A5 B1 C3 D1 F3. So A was Loyal (R4 F5) and D New (R5 F1); a month later
    # A's December order makes it a Champion and D, 50 days on, Promising (R4 F1).
    moves = rfm.segment_movement(shop, year, months=1).moves
    got = {(r.segment_before, r.segment): r.customers for r in moves.itertuples()}
    assert got == {("Loyal Customers", "Champions"): 1, ("Hibernating", "Hibernating"): 1,
                   ("At Risk", "At Risk"): 1, ("New Customers", "Promising"): 1, ("Need Attention", "Need Attention"): 1}
    assert set(moves["month_end"].dt.date) == {date(2024, 12, 31)}
    champions = rfm.segment_movement(shop, year, months=1).champions
    assert champions[["new_champions", "lost_champions"]].values.tolist() == [[1, 0]]
