"""Period defaults, the last four quarters, and settings with their checks."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from loyalty.access import LOCAL_USER
from loyalty.period import Period, default_period, last_quarters, month_ends, resolve_period
from loyalty.settings import DEFAULTS, SEGMENT_RULES, get_settings, save_setting, segment_rule_problems


def test_as_of_defaults_to_the_latest_order_and_the_period_to_the_last_12_full_months(store, add, mk):
    add("orders", [mk.order("A", "2024-03-10", 5), mk.order("B", "2024-11-15", 7)])
    period = default_period(store)
    # 15 Nov is not a month end: the 12 full months are Nov 2023 .. Oct 2024
    assert (period.start, period.end, period.as_of) == (date(2023, 11, 1), date(2024, 10, 31), date(2024, 11, 15))


def test_a_month_end_as_of_closes_the_period(store):
    period = default_period(store, as_of=date(2024, 2, 29))
    assert (period.start, period.end) == (date(2023, 3, 1), date(2024, 2, 29))


def test_explicit_dates_keep_the_latest_order_as_the_as_of_date():
    latest = date(2024, 12, 31)
    assert resolve_period(latest, start=date(2024, 5, 1), end=date(2024, 5, 31)).as_of == latest
    only_to = resolve_period(latest, end=date(2024, 6, 30))
    assert (only_to.start, only_to.end) == (date(2023, 7, 1), date(2024, 6, 30))
    only_from = resolve_period(latest, start=date(2024, 10, 1))
    assert (only_from.start, only_from.end) == (date(2024, 10, 1), latest)
    with pytest.raises(ValueError, match="after it ends"):
        resolve_period(latest, start=date(2024, 6, 1), end=date(2024, 5, 1))


def test_empty_store_defaults_to_today(store):
    assert default_period(store).as_of == date.today()


def test_previous_period_has_the_same_length():
    year = Period(date(2024, 1, 1), date(2024, 12, 31), date(2024, 12, 31))
    assert (year.previous().start, year.previous().end) == (date(2023, 1, 1), date(2023, 12, 31))
    march = Period(date(2024, 3, 1), date(2024, 3, 31), date(2024, 3, 31))
    assert (march.previous().start, march.previous().end) == (date(2024, 2, 1), date(2024, 2, 29))
    days = Period(date(2024, 3, 5), date(2024, 3, 14), date(2024, 3, 14))      # 10 days
    assert (days.previous().start, days.previous().end) == (date(2024, 2, 24), date(2024, 3, 4))


def test_quarters_are_calendar_quarters_at_a_quarter_end():
    assert last_quarters(date(2024, 12, 31)) == [
        (date(2024, 1, 1), date(2024, 3, 31)), (date(2024, 4, 1), date(2024, 6, 30)),
        (date(2024, 7, 1), date(2024, 9, 30)), (date(2024, 10, 1), date(2024, 12, 31))]
    assert last_quarters(date(2024, 11, 15))[-1] == (date(2024, 8, 16), date(2024, 11, 15))


@hsettings(max_examples=200, deadline=None)
@given(st.dates(date(2000, 1, 1), date(2040, 12, 31)))
def test_the_four_quarters_touch_and_end_on_the_as_of_date(as_of):
    quarters = last_quarters(as_of)
    assert quarters[-1][1] == as_of and len(quarters) == 4
    for (_, end), (start, _) in zip(quarters, quarters[1:]):
        assert start == end + timedelta(days=1)
    for start, end in quarters:
        assert 88 <= (end - start).days + 1 <= 92          # three months


def test_month_ends():
    assert month_ends(date(2024, 3, 31), 3) == [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)]
    assert month_ends(date(2024, 3, 15), 2) == [date(2024, 1, 31), date(2024, 2, 29)]


def test_settings_defaults_and_saved_values(store):
    values = get_settings(store)
    assert values["sla_first_response_hours"] == 4 and values["sla_resolution_hours"] == 48
    assert values["churn_window_days"] == 365 and values["super_customer_threshold"] == 3
    assert values["segment_rules"] == SEGMENT_RULES and values["targets"]["retention"] == 0.75
    save_setting(store, "sla_first_response_hours", 2.5, user=LOCAL_USER)
    save_setting(store, "targets", {"revenue": 1000}, user=LOCAL_USER)
    values = get_settings(store)
    assert values["sla_first_response_hours"] == 2.5
    assert values["targets"]["revenue"] == 1000 and values["targets"]["retention"] == 0.75   # merged name by name


@pytest.mark.parametrize("key, value, message", [
    ("no_such_setting", 1, "Unknown setting"),
    ("super_customer_threshold", 5, "between 1 and 4"),
    ("super_customer_threshold", 2.5, "whole number"),
    ("churn_window_days", "365", "whole number"),
    ("sla_resolution_hours", -1, "between"),
    ("lapsed_by_own_gap", "yes", "true or false"),
    ("targets", {"revenu": 5}, "Unknown KPI"),
    ("targets", {"revenue": "a lot"}, "number or empty"),
    ("segment_rules", "Champions", "list of rules"),
])
def test_settings_refuse_bad_values(store, key, value, message):
    with pytest.raises(ValueError, match=message):
        save_setting(store, key, value, user=LOCAL_USER)
    assert store.execute("SELECT count(*) FROM settings").fetchall()[0][0] == 0


def test_segment_rule_validator_names_every_gap_and_overlap():
    assert segment_rule_problems(SEGMENT_RULES) == []
    without_promising = [r for r in SEGMENT_RULES if r["name"] != "Promising"]
    assert segment_rule_problems(without_promising) == ["R 4, F 1 belongs to no segment."]
    wider = [dict(r, f=[1, 2]) if r["name"] == "New Customers" else r for r in SEGMENT_RULES]
    assert segment_rule_problems(wider) == ["R 5, F 2 belongs to Potential Loyalists and New Customers."]
    assert "R and F ranges must lie within 1–5" in " ".join(
        segment_rule_problems(SEGMENT_RULES + [{"name": "Odd", "r": [0, 6], "f": [1, 1]}]))
    twice = SEGMENT_RULES + [{"name": "Champions", "r": [1, 1], "f": [1, 1]}]
    assert any("used by more than one rule" in p for p in segment_rule_problems(twice))


def test_every_default_key_round_trips(store):
    for key, value in DEFAULTS.items():
        save_setting(store, key, value, user=LOCAL_USER)
    assert get_settings(store) == {**DEFAULTS}


def test_a_period_reaching_past_the_as_of_date_counts_no_order_after_it(store, add, mk):
    """Only orders up to the as-of date count, in the period and in every month of its trend: with the as-of
    date on 15 June and a period running to December, the trend's months after it hold nothing and June
    holds its first half only."""
    from loyalty.metrics.scorecard import scorecard

    add("orders", [mk.order("A", f"2024-{m:02d}-{d:02d}", 100 * m + d) for m in range(1, 13) for d in (10, 20)])
    period = resolve_period(date(2024, 12, 20), as_of=date(2024, 6, 15), start=date(2024, 1, 1), end=date(2024, 12, 31))
    revenue = {c["name"]: c for c in scorecard(store, period)}["revenue"]
    assert revenue["trend"] == [110 + 120, 210 + 220, 310 + 320, 410 + 420, 510 + 520, 610, 0, 0, 0, 0, 0, 0]
    assert revenue["value"] == sum(revenue["trend"])
    assert [(p.end, p.as_of) for p in period.months()][5:7] == [(date(2024, 6, 30), date(2024, 6, 15)),
                                                                (date(2024, 7, 31), date(2024, 6, 15))]
    early = Period(date(2024, 7, 1), date(2024, 7, 31), date(2024, 6, 15))    # as of a day before the period
    assert early.previous().as_of == date(2024, 6, 15)
