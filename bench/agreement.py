"""Whether the engine and the plain-pandas baseline agree: both sides reduce a page to the same plain figures
(dicts, lists, ints, strings, dates, None) and `disagreements` compares them: counts and labels exactly,
`Money` to the cent, `Share` to 1e-9. `engine_figures` reduces a page's engine output (bench/pages.py)
to the figures bench/baseline.py computes for it.

The bench data holds orders (customer_id, order_id, order_date, amount, channel) and support tickets: a
figure that needs customers, survey answers or delivery dates is unavailable (or empty) on both sides, and
compared as such.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime

import pandas as pd

from loyalty.metrics.scope import Unavailable
from loyalty.metrics.signals import AT_RISK_REASONS, SIGNALS

UNAVAILABLE = "unavailable"
ORDER_KPIS = ["revenue", "active_customers", "new_customers", "repeat_customer_rate", "retention",
              "churned_customers", "top20_revenue_share"]
MONEY_KPIS = {"revenue"}
COUNT_KPIS = {"active_customers", "new_customers", "churned_customers"}
COUNT_FIGURES = {"tickets", "complaints", "open_backlog", "csat_answers", "nps_answers"}   # of the service figures


class Money(float):
    """An amount: agrees to the cent."""


class Share(float):
    """A ratio: agrees to 1e-9."""


TOLERANCE = {Money: 0.005, Share: 1e-9}


def disagreements(ours, theirs, path: str = "") -> list[str]:
    """Where two figures differ (empty when they agree), one line each."""
    if isinstance(theirs, (Money, Share)) or isinstance(ours, (Money, Share)):
        kind = type(theirs) if isinstance(theirs, (Money, Share)) else type(ours)
        if ours is None or theirs is None or math.isnan(ours) or math.isnan(theirs):
            same = (ours is None) == (theirs is None)
        else:
            same = abs(float(ours) - float(theirs)) <= TOLERANCE[kind]
        return [] if same else [f"{path}: engine {ours!r}, pandas {theirs!r}"]
    if isinstance(ours, dict) and isinstance(theirs, dict):
        if ours.keys() != theirs.keys():
            return [f"{path}: engine has {sorted(ours)}, pandas has {sorted(theirs)}"]
        return [line for key in ours for line in disagreements(ours[key], theirs[key], f"{path}.{key}")]
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return [f"{path}: engine has {len(ours)} rows, pandas {len(theirs)}"]
        return [line for i, (a, b) in enumerate(zip(ours, theirs)) for line in disagreements(a, b, f"{path}[{i}]")]
    return [] if ours == theirs and type(ours) is type(theirs) else [f"{path}: engine {ours!r}, pandas {theirs!r}"]


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _money(value) -> Money | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else Money(value)


def _share(value) -> Share | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else Share(value)


def _text(value) -> str | None:
    return None if pd.isna(value) else str(value)


def _kpi(name: str, value):
    if isinstance(value, Unavailable):
        return UNAVAILABLE
    if value is None:
        return None
    return Money(value) if name in MONEY_KPIS else int(value) if name in COUNT_KPIS else Share(value)


def _rows(table: pd.DataFrame, columns: dict[str, object]) -> list[list]:
    """The table's rows as lists, each column converted by its function."""
    return [[convert(value) for convert, value in zip(columns.values(), values)]
            for values in table[list(columns)].itertuples(index=False, name=None)]


def _signal_names(reasons: str | None) -> list[str]:
    """The signals named in a customer's `reasons`, sorted ('overdue: …; no outreach in 90 days (never)' ->
    ['no outreach in 90 days', 'overdue'])."""
    return sorted(re.split(r":| \(", part)[0] for part in reasons.split("; ")) if reasons else []


def _figure(name: str, value):
    """A service figure: a count, a share (hours and means too: compared to 1e-9), None or unavailable."""
    if isinstance(value, Unavailable):
        return UNAVAILABLE
    return int(value) if name in COUNT_FIGURES else _share(value)


def _filter_options(options: dict) -> dict:
    return {"channels": options["channels"], "regions": options["regions"], "industries": options["industries"],
            "sales_reps": options["sales_reps"], "first_order": options["first_order"],
            "last_order": options["last_order"]}


def scorecard_figures(out: dict) -> dict:
    cards = {c["name"]: c for c in out["briefing"].cards}
    kpis = {name: {"value": _kpi(name, c["value"]), "previous": _kpi(name, c["previous"]),
                   "trend": [_kpi(name, v) for v in c["trend"]]} for name, c in cards.items()}
    movers = _rows(out["briefing"].movers, {"direction": str, "customer_id": str, "revenue": Money,
                                            "previous_revenue": Money, "change": Money})
    return {"filter_options": _filter_options(out["filter_options"]), "kpis": kpis, "movers": movers,
            "at_risk_super_customers": len(out["at_risk"])}


def super_customers_figures(out: dict) -> dict:
    return {
        "grid": _rows(out["grid"], {"r": int, "f": int, "segment": str, "customers": int, "revenue": Money}),
        "segments": _rows(out["summary"], {"segment": str, "customers": int, "revenue": Money}),
        "top20_share": _share(out["share"]),
        "pareto": _rows(out["curve"], {"customer_share": Share, "revenue_share": _share}),
        "super_customers": _rows(out["supers"], {"customer_id": str, "criteria_met": int, "meets": str,
                                                 "revenue": Money, "orders": int, "tenure_days": int}),
        "circumstantial": len(out["circumstantial"]),
        "coverage": _rows(out["coverage"], {"account_team": str, "customers": int, "revenue": Money,
                                            "revenue_share": Share}),
    }


def funnel_figures(out: dict) -> dict:
    revenue = out["revenue"].total
    return {
        "stage_counts": {stage: int(n) for stage, n in out["counts"].items()},
        "stage_history": _rows(out["history"], {"month_end": _day, "stage": str, "customers": int}),
        "moves": _rows(out["moves"], {"stage_before": str, "stage_after": str, "customers": int}),
        "cohorts": _rows(out["cohorts"], {"cohort": lambda d: pd.Timestamp(d).date(), "months_since": int,
                                          "cohort_customers": int, "active_customers": int,
                                          "customer_retention": Share, "revenue": Money}),
        "revenue_retention": {"customers": int(revenue["customers"]),
                              "previous_revenue": _money(revenue["previous_revenue"]),
                              "retained_revenue": _money(revenue["retained_revenue"]),
                              "capped_revenue": _money(revenue["capped_revenue"]),
                              "nrr": _share(revenue["nrr"]), "grr": _share(revenue["grr"])},
    }


def responsiveness_figures(out: dict) -> dict:
    return {
        "figures": {name: _figure(name, value) for name, value in out["figures"].items()},
        "monthly": [{name: value if name == "month" else _figure(name, value) for name, value in month.items()}
                    for month in out["monthly"].to_dict("records")],
        "channels": _rows(out["channels"], {"channel": str, "tickets": int, "first_response_median_hours": _share,
                                            "first_response_sla_share": _share, "resolution_sla_share": _share}),
        "spread": _rows(out["spread"], {"bucket": str, "first_response": int, "resolution": int}),
        "churn_by_experience": UNAVAILABLE if out["churn"] is None else _rows(
            out["churn"], {"customers_with": str, "customers": int, "churned": int, "churn_rate": Share}),
    }


SHOWN_SIGNALS = ["overdue", "declining_spend", "routine_only", "no_outreach_90d"]   # the bench data can raise these


def at_risk_figures(out: dict) -> dict:
    counts, first = out["counts"], out["first_page"]
    return {
        "combinations": sorted(_rows(counts, {**{name: bool for name in AT_RISK_REASONS}, "customers": int})),
        "first_page": _rows(first, {"customer_id": str, "revenue_12m": Money, "bad_experiences": _text,
                                    **{s: pd.notna for s in SHOWN_SIGNALS}}),
        "raised": sorted(s for s in SIGNALS if s in counts.columns and counts.loc[counts[s], "customers"].sum() > 0),
        "available_signals": sorted(name for name, missing in out["available"].items()
                                    if missing is None and name != "bad_experiences"),
    }


def customer_360_figures(out: dict) -> dict:
    records, summary, totals = out["records"], out["summary"], out["totals"]
    return {
        "candidates": list(out["candidates"]), "customer": out["customer"],
        "orders": totals["orders"], "revenue_to_date": Money(totals["revenue"]),
        "other_records": {k: len(records[k]) for k in ("customer", "tickets", "surveys", "referred")},
        "segment": summary["segment"], "stage": summary["stage"],
        "bad_experiences": UNAVAILABLE if isinstance(summary["bad_experiences"], Unavailable) else summary["bad_experiences"],
        "bad_reason": summary["bad_reason"],
        "signals": _signal_names(summary["signals"]),
        "stage_history": _rows(out["history"], {"month_end": _day, "stage": str}),
    }


ENGINE_FIGURES = {
    "Executive scorecard": scorecard_figures,
    "Super customers": super_customers_figures,
    "Loyalty funnel": funnel_figures,
    "Responsiveness": responsiveness_figures,
    "At-risk customers": at_risk_figures,
    "Customer 360": customer_360_figures,
}
