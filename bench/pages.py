"""What each analytics page of app_pages/ computes on its first load with the default widgets, as engine
calls: the same functions with the same arguments as the page's `cached(...)` calls, in the page's order.

Each page is a function `page(call, period)`; `call(fn, *args, **kwargs)` stands for the page's
`cached(fn, *args, **kwargs)` and `call.together(Call(fn, *args), …)` for its `cached_together(…)` (the
calls computed side by side, each on its own cursor, by `loyalty.db.side_by_side` as in the app): the
benchmark passes straight engine calls (cold: the data just changed, every cached call misses) or lookups in
a cache keyed like `loyalty.ui.cached` (warm). A page returns what it computed, so its figures can be
checked against the plain-pandas baseline (bench/baseline.py). The lists are written here by hand;
tests/test_bench.py runs each app page in AppTest and checks that its first load makes these calls, with these
arguments, in these side-by-side groups and this order.

Defaults the pages pick: the period of the sidebar is the default period (`loyalty.period.default_period`);
the sidebar's `filter_options` runs before every page (app.py), so each page counts it; the funnel's stage
movement compares the oldest and the newest of the last 13 month ends (its two select boxes' defaults);
Customer 360 shows the first customer of its list (no search, nothing chosen before).

Model-backed calls (`customer_value`, `customer_clusters`, `train_churn_model`, `rules_of_thumb`) are left
out of the pages: a model is trained once per data version, so the benchmark times each in its own
"Predictions: …" row (`MODELS`, with the pages that show it). The Predictions page holds nothing else.
"""
from __future__ import annotations

from typing import Callable, Protocol

from loyalty.briefing import build_briefing
from loyalty.db import Call
from loyalty.metrics.accounts import account_team_coverage, circumstantial_availability, circumstantial_loyalty
from loyalty.metrics.cohorts import cohort_retention, revenue_retention
from loyalty.metrics.concentration import revenue_concentration
from loyalty.metrics.customer import (customer_ids, customer_monthly_revenue, customer_order_totals, customer_orders,
                                      customer_records, customer_summary)
from loyalty.metrics.experience import bad_experiences_unavailable, churn_by_experience
from loyalty.metrics.responsiveness import (response_time_distribution, responsiveness_by_channel,
                                            responsiveness_overview)
from loyalty.metrics.rfm import segment_overview
from loyalty.metrics.signals import at_risk_overview, at_risk_reasons, signal_availability
from loyalty.metrics.stages import stage_availability, stage_overview
from loyalty.metrics.super_customers import super_customer_availability, super_customers
from loyalty.models.churn import train_churn_model
from loyalty.models.clusters import customer_clusters
from loyalty.models.rules import rules_of_thumb
from loyalty.models.value import customer_value
from loyalty.period import Period
from loyalty.store_summary import filter_options
from loyalty.ui import TABLE_ROWS


class PageCalls(Protocol):
    """What a page's engine calls go through: its `cached` (a call) and its `cached_together` (`together`)."""

    def __call__(self, fn: Callable, *args, **kwargs) -> object: ...

    def together(self, *calls: Call | None) -> list: ...


def scorecard_page(call: PageCalls, period: Period) -> dict:
    """app_pages/scorecard.py: the briefing (scorecard, trend, top movers, every at-risk super customer)."""
    options = call(filter_options)
    briefing = call(build_briefing, period)
    return {"filter_options": options, "briefing": briefing, "at_risk": briefing.at_risk}


def super_customers_page(call: PageCalls, period: Period) -> dict:
    """app_pages/super_customers.py without its lifetime-value forecast (a model row): no segment selected."""
    options = call(filter_options)
    supers, segments, concentration, coverage, circumstantial, supers_missing, circumstantial_missing = call.together(
        Call(super_customers, period), Call(segment_overview, period), Call(revenue_concentration, period),
        Call(account_team_coverage, period), Call(circumstantial_loyalty, period), Call(super_customer_availability),
        Call(circumstantial_availability))
    return {"filter_options": options, "grid": segments.grid, "summary": segments.summary,
            "share": concentration.top20_share, "curve": concentration.curve, "supers": supers,
            "supers_missing": supers_missing, "circumstantial": circumstantial,
            "circumstantial_missing": circumstantial_missing, "coverage": coverage}


def funnel_page(call: PageCalls, period: Period) -> dict:
    """app_pages/funnel.py: stages now and by month and the default stage movement (one overview), what the
    stages cannot see, cohorts, NRR and GRR."""
    options = call(filter_options)
    overview, revenue, cohorts, missing = call.together(
        Call(stage_overview, period), Call(revenue_retention, period), Call(cohort_retention, period),
        Call(stage_availability))
    return {"filter_options": options, "counts": overview.counts, "history": overview.history,
            "moves": overview.moves, "missing": missing, "cohorts": cohorts, "revenue": revenue}


def responsiveness_page(call: PageCalls, period: Period) -> dict:
    """app_pages/responsiveness.py: service figures, their spread, by month and channel, churn by experience
    (None, as the page skips it, when no kind of bad experience can be counted)."""
    options = call(filter_options)
    unknown = call(bad_experiences_unavailable)
    overview, channels, spread, churn = call.together(
        Call(responsiveness_overview, period), Call(responsiveness_by_channel, period),
        Call(response_time_distribution, period), None if unknown else Call(churn_by_experience, period))
    return {"filter_options": options, "figures": overview.figures, "spread": spread, "monthly": overview.monthly,
            "channels": channels, "churn": churn}


def at_risk_page(call: PageCalls, period: Period) -> dict:
    """app_pages/at_risk.py: what is available, how many customers each combination of reasons puts at risk,
    and the first page of them (every reason chosen), not the download of all of them."""
    options = call(filter_options)
    available = call(signal_availability)
    first = call(at_risk_overview, period, at_risk_reasons(available), offset=0, limit=TABLE_ROWS)
    return {"filter_options": options, "available": available, "counts": first.counts, "first_page": first.rows}


def customer_360_page(call: PageCalls, period: Period) -> dict:
    """app_pages/customer_360.py for its default customer (the first of the list) without the value forecast:
    its first page of orders, not the download of all of them; the stage history comes with the summary."""
    options = call(filter_options)
    candidates = call(customer_ids, period, search="")
    customer = candidates[0]
    summary, records, totals, monthly = call.together(
        Call(customer_summary, period, customer), Call(customer_records, customer),
        Call(customer_order_totals, customer), Call(customer_monthly_revenue, customer))
    return {"filter_options": options, "candidates": candidates, "customer": customer, "records": records,
            "totals": totals, "summary": summary, "monthly": monthly,
            "orders_page": call(customer_orders, customer, offset=0, limit=TABLE_ROWS), "history": summary["history"]}


PAGES = {
    "Executive scorecard": scorecard_page,
    "Super customers": super_customers_page,
    "Loyalty funnel": funnel_page,
    "Responsiveness": responsiveness_page,
    "At-risk customers": at_risk_page,
    "Customer 360": customer_360_page,
}

MODELS = {  # "Predictions: …" row -> (the model-backed call, the pages that show it), as the pages call them
    "Predictions: clusters": (lambda call, period: call(customer_clusters, period, k=None), ["Predictions"]),
    "Predictions: churn model": (lambda call, period: call(train_churn_model, period), ["Predictions"]),
    "Predictions: lifetime value": (lambda call, period: call(customer_value, period),
                                    ["Super customers", "Customer 360", "Predictions"]),
    "Predictions: rules of thumb": (lambda call, period: call(rules_of_thumb, period), ["Predictions"]),
}
