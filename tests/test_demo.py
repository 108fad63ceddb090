"""The demo data set: deterministic, shaped like the contract's data model, and carrying the planted
patterns of docs/demo-data.md, each measured here with plain pandas, independently of the generator."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from loyalty.access import LOCAL_USER
from loyalty.demo import generate, load_demo
from loyalty.importer import row_counts
from loyalty.schema import CHANNELS, SPECS, TICKET_KINDS

FIRST_DAY, LAST_DAY = dt.date(2023, 11, 1), dt.date(2026, 10, 31)
END = pd.Timestamp(LAST_DAY)
DEPARTED, DEPARTURE = "Hugo Brandt", pd.Timestamp("2025-05-31")


@pytest.fixture(scope="module")
def demo():
    return generate(customers=2000, seed=7)


@pytest.fixture(scope="module")
def sales(demo):
    """Positive orders (no credits) with the order date as a Timestamp."""
    orders = demo["orders"]
    return orders[orders["amount"] > 0].assign(day=pd.to_datetime(orders["order_date"]))


def late_orders(orders: pd.DataFrame) -> pd.DataFrame:
    return orders[pd.to_datetime(orders["delivered_date"]) > pd.to_datetime(orders["promised_date"])]


def test_same_arguments_give_the_same_frames_and_another_seed_differs(demo):
    again = generate(customers=2000, seed=7)
    for kind in demo:
        pd.testing.assert_frame_equal(demo[kind], again[kind])
    other = generate(customers=2000, seed=8)
    assert not other["orders"].equals(demo["orders"])
    assert not other["customers"].equals(demo["customers"])


def test_columns_are_the_stored_canonical_columns_in_schema_order(demo):
    assert set(demo) == {"orders", "customers", "tickets", "surveys"}
    for kind, frame in demo.items():
        assert list(frame.columns) == [c.name for c in SPECS[kind].stored_columns]


def test_values_have_the_canonical_types(demo):
    orders, customers, tickets, surveys = demo["orders"], demo["customers"], demo["tickets"], demo["surveys"]
    assert customers["customer_id"].str.fullmatch(r"C\d{5}").all() and customers["customer_id"].is_unique
    assert orders["order_id"].str.fullmatch(r"SO-\d{6}").all() and orders["order_id"].is_unique
    assert tickets["ticket_id"].str.fullmatch(r"T-\d{6}").all() and tickets["ticket_id"].is_unique
    for frame, column in [(orders, "order_date"), (customers, "created_at")]:
        assert all(type(d) is dt.date for d in frame[column])
    for column in ("promised_date", "delivered_date"):
        assert all(d is None or type(d) is dt.date for d in orders[column])
    assert orders["delivered_date"].isna().any()          # recent orders not yet delivered
    for frame, column in [(tickets, "opened_at"), (tickets, "first_response_at"), (tickets, "resolved_at"),
                          (surveys, "answered_at")]:
        assert pd.api.types.is_datetime64_any_dtype(frame[column])
    for column in ("amount", "discount"):
        assert (orders[column] * 100 - (orders[column] * 100).round()).abs().max() < 1e-6
    assert set(orders["channel"]) <= set(CHANNELS) and set(tickets["channel"]) <= set(CHANNELS)
    assert set(tickets["kind"]) == {"complaint", "inquiry", "praise", "outreach", "other"} <= set(TICKET_KINDS)
    for series, low, high in [(tickets["csat"], 1, 5), (surveys["csat"], 1, 5), (surveys["nps"], 0, 10)]:
        present = series.dropna()
        assert series.isna().any() and all(type(v) is int and low <= v <= high for v in present)
        assert present.min() <= low + 2 and present.max() == high
    assert set(customers["reference_willing"].map(repr)) == {"True", "False", "None"}
    assert customers["on_maintenance_plan"].dtype == bool and tickets["reopened"].dtype == bool
    assert set(customers["region"]) == {"North", "South", "East", "West", "International"}
    assert 5 <= customers["industry"].nunique() <= 6
    reps = set(orders["sales_rep"])
    assert 5 <= len(reps) <= 10 and all(" " in rep for rep in reps)


def test_dates_are_consistent_and_inside_the_window(demo):
    orders, customers, tickets, surveys = demo["orders"], demo["customers"], demo["tickets"], demo["surveys"]
    created = customers.set_index("customer_id")["created_at"]
    for frame, column in [(orders, "order_date"), (customers, "created_at")]:
        assert frame[column].min() >= FIRST_DAY and frame[column].max() <= LAST_DAY
    assert (orders["order_date"] >= orders["customer_id"].map(created)).all()
    delivered = orders.dropna(subset=["delivered_date"])
    assert (delivered["delivered_date"] > delivered["order_date"]).all()
    assert (delivered["delivered_date"] <= LAST_DAY).all()
    for frame, column in [(tickets, "opened_at"), (tickets, "resolved_at"), (surveys, "answered_at")]:
        stamps = frame[column].dropna()
        assert stamps.min() >= pd.Timestamp(FIRST_DAY) and stamps.max() < END + pd.Timedelta(days=1)
    assert (tickets["opened_at"].dt.date >= tickets["customer_id"].map(created)).all()
    answered = tickets.dropna(subset=["first_response_at"])
    assert (answered["first_response_at"] > answered["opened_at"]).all()
    resolved = answered.dropna(subset=["resolved_at"])
    assert (resolved["resolved_at"] > resolved["first_response_at"]).all()


def test_dataset_size_and_tiny_inputs():
    frames = generate(customers=50, seed=3)
    assert len(frames["customers"]) == 50 and len(frames["orders"]) > 50
    assert set(frames["orders"]["customer_id"]) <= set(frames["customers"]["customer_id"])
    assert all(list(f.columns) == [c.name for c in SPECS[k].stored_columns] for k, f in frames.items())
    assert all(len(f) == 0 for f in generate(customers=0).values())


def test_revenue_is_pareto_concentrated(sales):
    revenue = sales.groupby("customer_id")["amount"].sum().sort_values(ascending=False)
    share = revenue.head(len(revenue) // 5).sum() / revenue.sum()
    assert 0.7 <= share <= 0.85


def test_customers_arrive_over_time_and_later_cohorts_churn_sooner(sales):
    """Share of a cohort still ordering 6-12 months after its first order: lower for later cohorts."""
    first = sales.groupby("customer_id")["day"].min()
    assert first.dt.to_period("M").nunique() == 36               # new customers every month
    age = (sales["day"] - sales["customer_id"].map(first)).dt.days
    retained = age.between(181, 365).groupby(sales["customer_id"]).any()
    early = first < pd.Timestamp("2024-05-01")
    late = first.between(pd.Timestamp("2025-05-01"), pd.Timestamp("2025-10-31"))
    assert early.sum() >= 200 and late.sum() >= 100
    assert retained[early].mean() > retained[late].mean() + 0.07


def test_two_bad_experiences_in_a_year_make_customers_leave_about_twice_as_often(demo, sales):
    """Customers with ≥2 orders in the year before a cut-off a year before the end: those with ≥2 bad
    experiences in that year (late deliveries plus first responses over 4 h) place no further order
    clearly more often than the others."""
    tickets = demo["tickets"]
    cut = END - pd.Timedelta(days=365)
    year = sales[(sales["day"] >= cut - pd.Timedelta(days=365)) & (sales["day"] < cut)]
    in_year = tickets[(tickets["opened_at"] >= cut - pd.Timedelta(days=365)) & (tickets["opened_at"] < cut)]
    slow = in_year[in_year["first_response_at"] - in_year["opened_at"] > pd.Timedelta(hours=4)]
    orders_in_year = year.groupby("customer_id").size()
    judged = orders_in_year.index[orders_in_year >= 2]
    bad = (late_orders(year).groupby("customer_id").size().reindex(judged, fill_value=0)
           + slow.groupby("customer_id").size().reindex(judged, fill_value=0)) >= 2
    left = ~judged.isin(sales.loc[sales["day"] >= cut, "customer_id"])
    assert bad.sum() >= 80 and (~bad).sum() >= 300
    assert left[bad.to_numpy()].mean() > 2 * left[~bad.to_numpy()].mean()


def test_customers_with_frequent_late_deliveries_give_a_lower_nps(demo, sales):
    surveys = demo["surveys"].dropna(subset=["nps"])
    is_late = sales.index.to_series().isin(late_orders(sales).index)
    late, share = is_late.groupby(sales["customer_id"]).sum(), is_late.groupby(sales["customer_id"]).mean()
    often_late = late.index[(late >= 2) & (share >= 0.05)]
    score = surveys["nps"].astype(int)

    def nps(mask):
        return (score[mask] >= 9).mean() - (score[mask] <= 6).mean()
    bad = surveys["customer_id"].isin(often_late).to_numpy()
    assert bad.sum() >= 50
    assert nps(~bad) > nps(bad) + 0.3


def test_discount_dependent_buyers(sales):
    revenue = sales.groupby("customer_id")["amount"].sum()
    discounted = sales[sales["discount"] > 0].groupby("customer_id")["amount"].sum()
    share = discounted.reindex(revenue.index, fill_value=0) / revenue
    assert (share >= 0.8).sum() >= 0.04 * len(revenue)
    assert share.median() < 0.2                                    # most buyers rarely get a discount


def test_referral_chains_point_to_earlier_customers(demo):
    customers = demo["customers"].set_index("customer_id")
    referrer = customers["referred_by"].dropna()
    assert len(referrer) >= 0.1 * len(customers)
    assert referrer.isin(customers.index).all()
    assert (customers.loc[referrer.to_numpy(), "created_at"].to_numpy() <= customers.loc[referrer.index, "created_at"].to_numpy()).all()
    links = referrer.to_dict()

    def hops(customer):
        count = 0
        while customer in links:
            customer, count = links[customer], count + 1
        return count
    assert max(hops(c) for c in links) >= 3                       # A <- B <- C <- D
    assert customers["reference_willing"].eq(True).sum() >= 0.05 * len(customers)


def test_account_teams_and_the_departed_reps_one_person_accounts(demo, sales):
    customers, orders = demo["customers"].set_index("customer_id"), demo["orders"]
    team = customers["account_team"].str.split(";")
    single = team.str.len() == 1
    assert 0.3 <= single.mean() <= 0.6 and (team.str.len() >= 3).any()
    from_team = [rep in team[c] or (rep == DEPARTED and pd.Timestamp(d) <= DEPARTURE)
                 for c, rep, d in zip(orders["customer_id"], orders["sales_rep"], orders["order_date"])]
    assert all(from_team)
    his = sales[sales["sales_rep"] == DEPARTED].groupby("customer_id")["day"].max()
    at_departure = his.index[his > DEPARTURE - pd.Timedelta(days=120)]
    gone = ~at_departure.isin(sales.loc[sales["day"] > DEPARTURE + pd.Timedelta(days=60), "customer_id"])
    alone = single[at_departure].to_numpy()
    assert alone.sum() >= 15 and (~alone).sum() >= 15
    assert gone[alone].mean() > 2 * gone[~alone].mean()


def test_routine_only_accounts_order_less_and_less(demo, sales):
    """Accounts whose every order is by email and who never get an outreach ticket: many, and among
    customers with two full years of history their second year brings far fewer orders than others'."""
    channels = sales.groupby("customer_id")["channel"].agg(set)
    outreached = demo["tickets"].loc[lambda t: t["kind"] == "outreach", "customer_id"]
    routine = channels.index[channels == {"email"}].difference(outreached)
    assert len(routine) >= 0.07 * len(channels)
    first = sales.groupby("customer_id")["day"].transform("min")
    seasoned = sales[first <= END - pd.Timedelta(days=730)]
    year = (seasoned["day"] - first[seasoned.index]).dt.days // 365

    def second_year_ratio(mask):
        return (year[mask] == 1).sum() / (year[mask] == 0).sum()
    is_routine = seasoned["customer_id"].isin(routine)
    assert is_routine.groupby(seasoned["customer_id"]).first().sum() >= 40
    assert second_year_ratio(is_routine) < 0.5 * second_year_ratio(~is_routine)


def test_maintenance_plan_customers_order_more_regularly(demo, sales):
    on_plan = demo["customers"].set_index("customer_id")["on_maintenance_plan"]
    assert 0.1 <= on_plan.mean() <= 0.3
    ordered = sales.sort_values(["customer_id", "day"])
    gaps = ordered.groupby("customer_id")["day"].diff().dt.days.groupby(ordered["customer_id"])
    variation = (gaps.std() / gaps.mean())[gaps.count() >= 3]
    assert variation[on_plan[variation.index].to_numpy()].median() < 0.5 * variation[~on_plan[variation.index].to_numpy()].median()


def test_prospects_and_credits(demo):
    customers, orders = demo["customers"], demo["orders"]
    prospects = ~customers["customer_id"].isin(orders["customer_id"])
    assert 0.07 <= prospects.mean() <= 0.15
    credits = orders[orders["amount"] < 0]
    assert 0.003 <= len(credits) / len(orders) <= 0.03
    assert (credits["discount"] == 0).all() and (credits["status"] == "credit").all()


def test_tickets_have_a_backlog_reopens_and_slow_responses(demo):
    tickets = demo["tickets"]
    reactive = tickets[tickets["kind"] != "outreach"]
    assert reactive["resolved_at"].isna().sum() >= 20              # open backlog
    assert tickets["reopened"].sum() >= 20
    assert tickets.loc[tickets["reopened"], "resolved_at"].notna().all()
    response = (reactive["first_response_at"] - reactive["opened_at"]).dt.total_seconds() / 3600
    assert response.median() < 4 < response.quantile(0.9)          # most fast, a slow tail
    assert reactive["csat"].notna().mean() > 0.2


def test_load_demo_imports_every_row_through_the_import_path(con):
    loaded = load_demo(con, customers=150, seed=5, user=LOCAL_USER)
    frames = generate(customers=150, seed=5)
    assert {kind: result["rejected"] for kind, result in loaded.items()} == dict.fromkeys(frames, 0)
    assert row_counts(con) == {kind: len(frame) for kind, frame in frames.items()}
    stored = con.execute("SELECT sum(amount) FROM orders").fetchone()[0]
    assert float(stored) == pytest.approx(frames["orders"]["amount"].sum(), abs=0.01)
