"""The plain-pandas baseline: for each analytics page, the figures it shows on first load, computed with
pandas and numpy only (no DuckDB) from the raw generated orders and tickets, at the default period.
bench/run.py times these in a separate process and checks them against the engine (bench/agreement.py).

`prepare` turns the raw frames (orders: customer_id, order_id, order_date as text, amount, channel; tickets:
ticket_id, customer_id, opened_at, first_response_at, resolved_at, channel, kind, csat, reopened) into typed
arrays once, as the import does for the engine: customer codes in id order (so "ties by customer id" is "ties
by code"), days since 1970-01-01, amounts in whole cents (summed exactly, as the engine's DECIMAL), ticket
times in seconds since 1970. Its time is reported in its own row, not in the pages'.

The definitions are the engine's (the module docstrings of loyalty/metrics/*): the bench data has no
customers, survey answers or delivery dates, so every figure needing them is unavailable or empty (NPS among
them), and a customer's stage never goes beyond Client (the advocate step needs referrals, references or NPS).
Calendar helpers (`Period`, `last_quarters`, `month_ends`, `shift_months`), the default segment rules and SLA
hours come from the product: they are definitions, not computations.
"""
from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from loyalty.period import Period, last_quarters, month_ends, shift_months
from loyalty.settings import DEFAULTS, SEGMENT_RULES

from .agreement import ORDER_KPIS, UNAVAILABLE, Money, Share

EPOCH = date(1970, 1, 1)
STAGES = ["Prospect", "First-time", "Repeat", "Client", "Advocate"]
SERVICE_KPIS = {"csat": "csat_mean", "nps": "nps", "median_first_response_hours": "first_response_median_hours",
                "sla_share": "first_response_sla_share", "complaints_per_100": "complaints_per_100"}  # KPI -> service figure
CUSTOMER_KPIS = ["maintenance_share", "referrals", "reference_willing"]


@dataclass
class Orders:
    """The orders as arrays, sorted by customer then day; `ids[code]` is a customer's id."""
    customer: np.ndarray       # int64 codes
    day: np.ndarray            # int64 days since EPOCH
    cents: np.ndarray          # int64
    channel: np.ndarray        # str
    ids: np.ndarray            # customer ids in code (= id) order, those with tickets alone too

    @property
    def customers(self) -> int:
        return len(self.ids)


@dataclass
class Tickets:
    """The tickets as arrays; times in seconds since EPOCH (NaN where missing)."""
    customer: np.ndarray       # int64 codes of Orders.ids
    opened: np.ndarray         # int64
    first: np.ndarray          # float64
    resolved: np.ndarray       # float64
    kind: np.ndarray           # str
    channel: np.ndarray        # str, 'unknown' where missing
    csat: np.ndarray           # float64, NaN where missing
    reopened: np.ndarray       # bool

    @property
    def request(self) -> np.ndarray:
        """Requests to answer: every ticket but our own outreach."""
        return self.kind != "outreach"


@dataclass
class Data:
    orders: Orders
    tickets: Tickets


def prepare_orders(frame: pd.DataFrame, codes: np.ndarray, ids: np.ndarray) -> Orders:
    """Typed arrays from the raw orders, sorted by customer and day; `codes`: each order's customer code in
    `ids`, every customer id sorted."""
    days = pd.to_datetime(frame["order_date"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    cents = np.round(frame["amount"].to_numpy() * 100).astype(np.int64)
    order = np.lexsort((days, codes))
    return Orders(codes[order], days[order], cents[order], frame["channel"].to_numpy()[order], ids)


def seconds_of(column: pd.Series) -> np.ndarray:
    """Timestamps as float seconds since EPOCH, NaN where missing."""
    values = column.to_numpy().astype("datetime64[s]")
    return np.where(np.isnat(values), np.nan, values.astype(np.int64).astype(np.float64))


def prepare_tickets(frame: pd.DataFrame, codes: np.ndarray) -> Tickets:
    """Typed arrays from the raw tickets; `codes`: each ticket's customer code."""
    return Tickets(codes, seconds_of(frame["opened_at"]).astype(np.int64), seconds_of(frame["first_response_at"]),
                   seconds_of(frame["resolved_at"]), frame["kind"].to_numpy(dtype=object),
                   frame["channel"].fillna("unknown").to_numpy(dtype=object),
                   frame["csat"].astype("float64").to_numpy(), frame["reopened"].to_numpy(dtype=bool))


def prepare(orders: pd.DataFrame, tickets: pd.DataFrame) -> Data:
    """The orders and tickets as arrays, customers coded over both (one with tickets alone is never known)."""
    codes, ids = pd.factorize(pd.concat([orders["customer_id"], tickets["customer_id"]]), sort=True)
    codes = codes.astype(np.int64)
    return Data(prepare_orders(orders, codes[:len(orders)], np.asarray(ids, dtype=object)),
                prepare_tickets(tickets, codes[len(orders):]))


def day_of(d: date) -> int:
    return (d - EPOCH).days


def date_of(day) -> date:
    return EPOCH + timedelta(days=int(day))


def months_before(d: date, months: int) -> date:
    """d minus a number of months, the day clamped to the month's length (DuckDB's date - INTERVAL n MONTH)."""
    index = d.year * 12 + d.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def money(cents) -> Money:
    return Money(int(cents) / 100)


def ratio(numerator, denominator) -> Share | None:
    return Share(numerator / denominator) if denominator else None


# ------------------------------------------------------------------------------------------ building blocks

@dataclass
class Buyers:
    """Per customer code, up to the as-of date: orders, revenue in cents, first, second and last order day
    (second: a day far in the future for single-order customers); `known` marks customers with an order."""
    orders: np.ndarray
    cents: np.ndarray
    first: np.ndarray
    second: np.ndarray
    last: np.ndarray

    @property
    def known(self) -> np.ndarray:
        return self.orders > 0


NEVER = np.iinfo(np.int64).max // 2


def in_scope(orders: Orders, as_of: date) -> np.ndarray:
    return orders.day <= day_of(as_of)


def buyers(orders: Orders, as_of: date) -> Buyers:
    """Per-customer totals over the orders up to the as-of date (orders are sorted by customer and day)."""
    keep = in_scope(orders, as_of)
    customer, day, cents = orders.customer[keep], orders.day[keep], orders.cents[keep]
    n = orders.customers
    counts = np.bincount(customer, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    first = np.full(n, NEVER)
    last = np.full(n, NEVER)
    second = np.full(n, NEVER)
    first[has] = day[starts[has]]
    last[has] = day[starts[has] + counts[has] - 1]
    two = counts >= 2
    second[two] = day[starts[two] + 1]
    return Buyers(counts, np.bincount(customer, weights=cents, minlength=n).astype(np.int64), first, second, last)


def tie_fair_score(values: np.ndarray, worse_first_ascending: bool) -> np.ndarray:
    """rfm.score: 1 + ⌊5 × (customers placed strictly worse) ÷ customers⌋, capped at 5; equal values, equal
    scores."""
    rank = pd.Series(values).rank(method="min", ascending=worse_first_ascending).to_numpy().astype(np.int64)
    return np.minimum(5, 1 + (5 * (rank - 1)) // len(values))


@dataclass
class Rfm:
    """RFM over the known customers at the as-of date: their codes, values, scores and segments."""
    codes: np.ndarray
    recency: np.ndarray
    frequency: np.ndarray
    cents: np.ndarray
    r: np.ndarray
    f: np.ndarray
    m: np.ndarray
    segment: np.ndarray


def segment_of(r: np.ndarray, f: np.ndarray, rules: list[dict] = SEGMENT_RULES) -> np.ndarray:
    out = np.empty(len(r), dtype=object)
    for rule in rules:
        inside = (r >= rule["r"][0]) & (r <= rule["r"][1]) & (f >= rule["f"][0]) & (f <= rule["f"][1])
        out[inside] = rule["name"]
    return out


def rfm(b: Buyers, as_of: date) -> Rfm:
    codes = np.flatnonzero(b.known)
    recency = day_of(as_of) - b.last[codes]
    frequency, cents = b.orders[codes], b.cents[codes]
    r = tie_fair_score(recency, worse_first_ascending=False)
    f = tie_fair_score(frequency, worse_first_ascending=True)
    m = tie_fair_score(cents, worse_first_ascending=True)
    return Rfm(codes, recency, frequency, cents, r, f, m, segment_of(r, f))


@dataclass
class Window:
    """Per customer code, for one period: orders and cents in it, and whether it ordered in the previous one."""
    orders: np.ndarray
    cents: np.ndarray
    was_active: np.ndarray


def window(orders: Orders, period: Period) -> Window:
    start, end, prev_start = day_of(period.start), day_of(period.end), day_of(period.previous().start)
    n = orders.customers
    now = (orders.day >= start) & (orders.day <= end)
    before = (orders.day >= prev_start) & (orders.day < start)
    return Window(np.bincount(orders.customer[now], minlength=n),
                  np.bincount(orders.customer[now], weights=orders.cents[now], minlength=n).astype(np.int64),
                  np.bincount(orders.customer[before], minlength=n) > 0)


def ranked_revenue(w: Window) -> tuple[np.ndarray, np.ndarray]:
    """The active customers' codes and cents, largest revenue first, ties by customer id."""
    codes = np.flatnonzero(w.orders > 0)
    order = np.lexsort((codes, -w.cents[codes]))
    return codes[order], w.cents[codes][order]


def top20_share(w: Window) -> Share | None:
    _, cents = ranked_revenue(w)
    total = int(cents.sum())
    if total <= 0:
        return None
    return Share(int(cents[:math.ceil(0.2 * len(cents))].sum()) / total)


def kpis(orders: Orders, b: Buyers, period: Period) -> dict:
    """The order-based scorecard KPIs of one period (activity.py and concentration.py)."""
    w = window(orders, period)
    active = w.orders > 0
    previous = int(w.was_active.sum())
    return {
        "revenue": money(w.cents.sum()), "active_customers": int(active.sum()),
        "new_customers": int((active & (b.first >= day_of(period.start))).sum()),
        "repeat_customer_rate": ratio(int((active & (b.second <= day_of(period.as_of))).sum()), int(active.sum())),
        "retention": ratio(int((w.was_active & active).sum()), previous),
        "churned_customers": int((w.was_active & ~active).sum()), "top20_revenue_share": top20_share(w),
    }


def quarters_with_orders(orders: Orders, on: date) -> np.ndarray:
    """Per customer code: in how many of the last 4 quarters up to `on` it ordered."""
    count = np.zeros(orders.customers, dtype=np.int64)
    for start, end in last_quarters(on):
        inside = (orders.day >= day_of(start)) & (orders.day <= day_of(end))
        count[np.unique(orders.customer[inside])] += 1
    return count


def stages_on(orders: Orders, b: Buyers, on: date) -> np.ndarray:
    """Per customer code, its stage on a date ('' when not known by then): orders only, so no prospects
    and no advocates (stages.py)."""
    d = day_of(on)
    stage = np.full(orders.customers, "", dtype=object)
    stage[b.first <= d] = "First-time"
    repeat = b.second <= d
    stage[repeat] = "Repeat"
    stage[repeat & (quarters_with_orders(orders, on) >= 3)] = "Client"
    return stage


def stage_count(stage: np.ndarray) -> dict[str, int]:
    return {s: int((stage == s).sum()) for s in STAGES}


def order_signals(orders: Orders, b: Buyers, as_of: date, codes: np.ndarray | None = None) -> pd.DataFrame:
    """signals.py's order-only facts and signals for every known customer (or those of `codes`): revenue, orders
    and email orders of the last 12 months, overdue (≥ 3 orders, days since the last > 2× the median gap) and
    declining spend."""
    keep = in_scope(orders, as_of) if codes is None else in_scope(orders, as_of) & np.isin(orders.customer, codes)
    customer, day, cents, channel = orders.customer[keep], orders.day[keep], orders.cents[keep], orders.channel[keep]
    same = np.r_[False, customer[1:] == customer[:-1]]
    gaps = pd.Series(np.diff(day, prepend=0)[same]).groupby(customer[same]).median()
    median_gap = np.full(orders.customers, np.nan)
    median_gap[gaps.index.to_numpy()] = gaps.to_numpy()
    since_last = day_of(as_of) - b.last
    overdue = (b.orders >= 3) & (since_last > 2 * median_gap)
    recent = day > day_of(months_before(as_of, 12))
    last6 = recent & (day > day_of(months_before(as_of, 6)))
    prior6 = recent & ~last6
    n = orders.customers
    last_6m = np.bincount(customer[last6], weights=cents[last6], minlength=n)
    prior_6m = np.bincount(customer[prior6], weights=cents[prior6], minlength=n)
    declining = (prior_6m > 0) & (last_6m < 0.7 * prior_6m)
    revenue_12m = np.bincount(customer[recent], weights=cents[recent], minlength=n).astype(np.int64)
    orders_12m = np.bincount(customer[recent], minlength=n)
    by_email = recent & (channel == "email")
    email_orders_12m = np.bincount(customer[by_email], minlength=n)
    chosen = np.flatnonzero(b.known) if codes is None else codes
    return pd.DataFrame({"code": chosen, "revenue_12m": revenue_12m[chosen], "orders_12m": orders_12m[chosen],
                         "email_orders_12m": email_orders_12m[chosen], "overdue": overdue[chosen],
                         "declining_spend": declining[chosen]})


def signals(data: Data, b: Buyers, as_of: date, codes: np.ndarray | None = None) -> pd.DataFrame:
    """`order_signals` and the two the tickets decide: routine-only (every order of the last 12 months by email,
    no outreach in them) and no outreach in 90 days (ordered in the last 12 months)."""
    out = order_signals(data.orders, b, as_of, codes)
    last = last_outreach_day(data.tickets, data.orders.customers, as_of)[out["code"].to_numpy()]
    ordered = out["orders_12m"] > 0
    out["routine_only"] = ordered & (out["email_orders_12m"] == out["orders_12m"]) & (
        last <= day_of(months_before(as_of, 12)))
    out["no_outreach_90d"] = ordered & (last <= day_of(as_of) - 90)
    return out


SIGNAL_LABELS = {"overdue": "overdue", "declining_spend": "declining spend", "routine_only": "routine-only",
                 "no_outreach_90d": "no outreach in 90 days"}


def filter_options(orders: Orders) -> dict:
    """The sidebar's choices: the channels, no regions, industries or reps; first and last order dates."""
    return {"channels": sorted(set(orders.channel.tolist())), "regions": [], "industries": [], "sales_reps": [],
            "first_order": date_of(orders.day.min()), "last_order": date_of(orders.day.max())}


# ------------------------------------------------------------------------------------ tickets (service)

SLA_FIRST = DEFAULTS["sla_first_response_hours"] * 3600
SLA_RESOLUTION = DEFAULTS["sla_resolution_hours"] * 3600
BUCKETS = [("under 1 h", 0, 1), ("1–4 h", 1, 4), ("4–8 h", 4, 8), ("8–24 h", 8, 24), ("1–2 days", 24, 48),
           ("2–7 days", 48, 168), ("over 7 days", 168, math.inf)]


def end_of(d: date) -> int:
    """The first second after the day d."""
    return (day_of(d) + 1) * 86400


def sla_met(opened: np.ndarray, done: np.ndarray, limit: int, as_of: date) -> np.ndarray:
    """Per ticket: 1 when done within the SLA, 0 when late or still not done with the SLA passed by the end of
    the as-of day, NaN when not done and the SLA still running."""
    due = opened + limit
    return np.where(~np.isnan(done), (done <= due).astype(float), np.where(end_of(as_of) > due, 0.0, np.nan))


def share_met(met: np.ndarray) -> Share | None:
    known = met[~np.isnan(met)]
    return Share(known.sum() / len(known)) if len(known) else None


def hours_between(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    hours = (end - start) / 3600
    return hours[~np.isnan(hours)]


def quantile(values: np.ndarray, q: float) -> Share | None:
    """The continuous quantile (DuckDB's quantile_cont; the median at 0.5), None of nothing."""
    return Share(np.quantile(values, q)) if len(values) else None


def opened_in(t: Tickets, start: date, end: date, as_of: date) -> np.ndarray:
    """The tickets in scope (opened by the end of the as-of day) opened from the first to the last day."""
    return (t.opened >= day_of(start) * 86400) & (t.opened < end_of(min(end, as_of)))


def service(t: Tickets, window: Period, as_of: date, active: int) -> dict:
    """responsiveness.BY_WINDOW for one window, the tickets in scope up to `as_of` (the query's), with
    complaints per 100 of its `active` customers; NPS is unavailable (no survey answers)."""
    inside = opened_in(t, window.start, window.end, as_of)
    asked, rated = inside & t.request, inside & ~np.isnan(t.csat)
    opened, first, resolved = t.opened[asked], t.first[asked], t.resolved[asked]
    first_hours, resolution_hours = hours_between(opened, first), hours_between(opened, resolved)
    complaints = int((asked & (t.kind == "complaint")).sum())
    backlog = t.request & (t.opened < end_of(min(window.as_of, as_of))) & ~(t.resolved < end_of(window.as_of))
    return {
        "tickets": int(asked.sum()), "first_response_median_hours": quantile(first_hours, 0.5),
        "first_response_p90_hours": quantile(first_hours, 0.9),
        "first_response_sla_share": share_met(sla_met(opened, first, SLA_FIRST, as_of)),
        "resolution_median_hours": quantile(resolution_hours, 0.5),
        "resolution_p90_hours": quantile(resolution_hours, 0.9),
        "resolution_sla_share": share_met(sla_met(opened, resolved, SLA_RESOLUTION, as_of)), "complaints": complaints,
        "reopen_rate": ratio(int(t.reopened[asked].sum()), int(asked.sum())), "open_backlog": int(backlog.sum()),
        "csat_mean": Share(t.csat[rated].mean()) if rated.any() else None,
        "csat_share_4_5": ratio(int((t.csat[rated] >= 4).sum()), int(rated.sum())),
        "csat_answers": int(rated.sum()), "nps": UNAVAILABLE, "nps_answers": 0,
        "complaints_per_100": ratio(complaints * 100, active),
    }


def bad_experiences(t: Tickets, customers: int, window_end: date, as_of: date) -> pd.DataFrame:
    """experience.BAD per customer code: complaints, first responses over the SLA and CSAT ≤ 2 in the 12 months
    up to `window_end` (SLA passed as of `as_of`), their total and the reason."""
    inside = opened_in(t, months_before(window_end, 12) + timedelta(days=1), window_end, as_of)
    kinds = {"complaints": inside & (t.kind == "complaint"),
             "slow_responses": inside & t.request & (sla_met(t.opened, t.first, SLA_FIRST, as_of) == 0),
             "low_csat": inside & (t.csat <= 2)}
    bad = pd.DataFrame({name: np.bincount(t.customer[chosen], minlength=customers) for name, chosen in kinds.items()})
    bad["total"] = bad.sum(axis=1)
    words = {"complaints": ("complaint", "complaints"), "slow_responses": ("slow first response", "slow first responses"),
             "low_csat": ("CSAT ≤ 2", "CSAT ≤ 2")}
    bad["reason"] = ""   # worded for the customers with one or more (a few percent of them)
    some = bad["total"] > 0
    bad.loc[some, "reason"] = [", ".join(f"{n} {words[name][n != 1]}" for name, n in zip(words, counts) if n > 0)
                               for counts in bad.loc[some, list(words)].itertuples(index=False)]
    return bad


def last_outreach_day(t: Tickets, customers: int, as_of: date) -> np.ndarray:
    """Per customer code, the day of its last outreach ticket up to the as-of date (-1 when none)."""
    outreach = (t.kind == "outreach") & (t.opened < end_of(as_of))
    last = np.full(customers, -1)
    np.maximum.at(last, t.customer[outreach], t.opened[outreach] // 86400)
    return last


# ----------------------------------------------------------------------------------------------- the pages

def scorecard_page(data: Data, period: Period) -> dict:
    """Executive scorecard: the order and service KPIs for the period, the previous period and the 12 trend
    months (the customer KPIs and NPS are unavailable), the top 5 rising and falling customers, and how many
    super customers had 2+ bad experiences in the last 12 months."""
    orders = data.orders
    b = buyers(orders, period.as_of)
    periods = [period, period.previous(), *period.months(12)]
    windows = []
    for p in periods:
        figures = kpis(orders, b, p)
        service_figures = service(data.tickets, p, period.as_of, figures["active_customers"])
        windows.append({**figures, **{kpi: service_figures[name] for kpi, name in SERVICE_KPIS.items()}})
    out = {name: {"value": windows[0][name], "previous": windows[1][name],
                  "trend": [None if w[name] == UNAVAILABLE else w[name] for w in windows[2:]]}
           for name in [*ORDER_KPIS, *SERVICE_KPIS]}
    out.update({name: {"value": UNAVAILABLE, "previous": UNAVAILABLE, "trend": [None] * 12} for name in CUSTOMER_KPIS})
    supers = np.searchsorted(orders.ids, [row[0] for row in super_customers(orders, b, rfm(b, period.as_of),
                                                                            period.as_of)])
    bad = bad_experiences(data.tickets, orders.customers, period.as_of, period.as_of)
    return {"filter_options": filter_options(orders), "kpis": out, "movers": movers(orders, period),
            "at_risk_super_customers": int((bad["total"].to_numpy()[supers] >= 2).sum())}


def movers(orders: Orders, period: Period, n: int = 5) -> list[list]:
    """movers.py: the n largest rises and falls in revenue against the previous period."""
    prev = period.previous()
    now = window(orders, period).cents
    inside = (orders.day >= day_of(prev.start)) & (orders.day <= day_of(prev.end))
    before = np.bincount(orders.customer[inside], weights=orders.cents[inside], minlength=orders.customers)
    before = before.astype(np.int64)
    change = now - before
    rows = []
    for direction, sign in (("up", 1), ("down", -1)):
        codes = np.flatnonzero(sign * change > 0)
        codes = codes[np.lexsort((codes, -sign * change[codes]))][:n]
        rows += [[direction, orders.ids[c], money(now[c]), money(before[c]), money(change[c])] for c in codes]
    return rows


def super_customers_page(data: Data, period: Period) -> dict:
    """Super customers: the 25-cell RFM grid and the segments (customers, revenue to date), the top-20%
    share and the Pareto curve of the period, the customers meeting 3 of the 4 criteria (with orders only:
    regular, large by M, long-standing; bringing others needs customers), no circumstantial loyalty
    (needs discounts and products), account-team coverage (all unknown)."""
    orders = data.orders
    b = buyers(orders, period.as_of)
    scores = rfm(b, period.as_of)
    grid = []
    for r in range(1, 6):
        for f in range(1, 6):
            inside = (scores.r == r) & (scores.f == f)
            grid.append([r, f, segment_of(np.array([r]), np.array([f]))[0], int(inside.sum()),
                         money(scores.cents[inside].sum())])
    segments = [[rule["name"], int((scores.segment == rule["name"]).sum()),
                 money(scores.cents[scores.segment == rule["name"]].sum())] for rule in SEGMENT_RULES]
    segments.sort(key=lambda s: (-s[1], s[0]))
    w = window(orders, period)
    return {"grid": grid, "segments": segments, "top20_share": top20_share(w), "pareto": pareto(w),
            "super_customers": super_customers(orders, b, scores, period.as_of), "circumstantial": 0,
            "coverage": [["unknown", len(scores.codes), money(scores.cents.sum()), Share(1.0)]]}


def pareto(w: Window, points: int = 100) -> list[list]:
    """concentration.revenue_concentration's curve: cumulative revenue share against customer share, every
    n // points-th customer."""
    _, cents = ranked_revenue(w)
    n, total = len(cents), int(cents.sum())
    rank = np.arange(1, n + 1)
    keep = (rank == n) | (rank % max(1, n // points) == 0)
    cumulative = np.cumsum(cents)
    return [[Share(0.0), Share(0.0)]] + [[Share(rank[i] / n), Share(cumulative[i] / total) if total else None]
                                        for i in np.flatnonzero(keep)]


def super_customers(orders: Orders, b: Buyers, scores: Rfm, as_of: date) -> list[list]:
    """super_customers.py with orders only: regular (orders in ≥ 3 of the last 4 quarters), large (M score 5;
    no quantities), long-standing (tenure score 5); the threshold of 3 needs all three."""
    threshold = DEFAULTS["super_customer_threshold"]
    regular = quarters_with_orders(orders, as_of)[scores.codes] >= 3
    large = scores.m == 5
    tenure = day_of(as_of) - b.first[scores.codes]
    long_standing = tie_fair_score(tenure, worse_first_ascending=True) == 5
    met = regular.astype(int) + large.astype(int) + long_standing.astype(int)
    chosen = np.flatnonzero(met >= threshold)
    chosen = chosen[np.lexsort((scores.codes[chosen], -scores.cents[chosen], -met[chosen]))]
    rows = []
    for i in chosen:
        meets = ", ".join(name for name, yes in (("regular", regular[i]), ("large", large[i]),
                                                 ("long-standing", long_standing[i])) if yes)
        rows.append([orders.ids[scores.codes[i]], int(met[i]), meets, money(scores.cents[i]),
                     int(scores.frequency[i]), int(tenure[i])])
    return rows


def funnel_page(data: Data, period: Period) -> dict:
    """Loyalty funnel: stage counts at the as-of date, stages at the last 12 month ends, the movement between
    the oldest and newest of the last 13 month ends, 24 monthly cohorts, and NRR and GRR."""
    orders = data.orders
    b = buyers(orders, period.as_of)
    history = []
    for end in month_ends(period.as_of, 12):
        history += [[end, stage, n] for stage, n in stage_count(stages_on(orders, b, end)).items()]
    ends = month_ends(period.as_of, 13)
    before, after = stages_on(orders, b, ends[0]), stages_on(orders, b, ends[-1])
    moves = pd.DataFrame({"before": np.where(before == "", "Not yet known", before), "after": after})
    moves = moves[moves["after"] != ""].value_counts().sort_index()
    return {"stage_counts": stage_count(stages_on(orders, b, period.as_of)), "stage_history": history,
            "moves": [[s_before, s_after, int(n)] for (s_before, s_after), n in moves.items()],
            "cohorts": cohorts(orders, b, period.as_of), "revenue_retention": revenue_retention(orders, period)}


def month_index(days: np.ndarray) -> np.ndarray:
    """Months since January 1970 of each day."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def cohorts(orders: Orders, b: Buyers, as_of: date, months: int = 24) -> list[list]:
    """cohorts.cohort_retention: per cohort (month of the first order, the last 24) and months since it."""
    first_cohort = shift_months(as_of.replace(day=1), -(months - 1))
    keep = in_scope(orders, as_of) & (orders.day >= day_of(first_cohort))
    cohort_of = month_index(np.where(b.known, b.first, 0))
    table = pd.DataFrame({"customer": orders.customer[keep], "month": month_index(orders.day[keep]),
                          "cents": orders.cents[keep]})
    table["cohort"] = cohort_of[table["customer"].to_numpy()]
    table = table[table["cohort"] >= month_index(np.array([day_of(first_cohort)]))[0]]
    monthly = table.groupby(["cohort", "month", "customer"], sort=False)["cents"].sum().reset_index()
    cells = monthly.groupby(["cohort", "month"]).agg(active=("customer", "size"), cents=("cents", "sum"))
    sizes = pd.Series(cohort_of[b.known]).value_counts()
    rows = []
    for (cohort, month), cell in cells.iterrows():
        size = int(sizes[cohort])
        rows.append([date(1970 + int(cohort) // 12, int(cohort) % 12 + 1, 1), int(month - cohort), size,
                     int(cell["active"]), Share(int(cell["active"]) / size), money(cell["cents"])])
    return rows


def revenue_retention(orders: Orders, period: Period) -> dict:
    """cohorts.revenue_retention: the previous period's customers, their revenue then and now, NRR and GRR."""
    w = window(orders, period)
    prev = period.previous()
    inside = (orders.day >= day_of(prev.start)) & (orders.day <= day_of(prev.end))
    before = np.bincount(orders.customer[inside], weights=orders.cents[inside], minlength=orders.customers)
    codes = np.flatnonzero(w.was_active)
    previous, now = before[codes].astype(np.int64), w.cents[codes]
    capped = np.minimum(np.maximum(now, 0), previous)
    total_previous = int(previous.sum())
    return {"customers": len(codes), "previous_revenue": money(total_previous) if len(codes) else None,
            "retained_revenue": money(now.sum()) if len(codes) else None,
            "capped_revenue": money(capped.sum()) if len(codes) else None,
            "nrr": ratio(int(now.sum()) / 100, total_previous / 100),
            "grr": ratio(int(capped.sum()) / 100, total_previous / 100)}


def period_months(period: Period) -> list[Period]:
    """The calendar months the period touches, each cut to the period and as of its own last day."""
    months, start = [], period.start
    while start <= period.end:
        end = min(date(start.year, start.month, calendar.monthrange(start.year, start.month)[1]), period.end)
        months.append(Period(start, end, end, period.filters))
        start = end + timedelta(days=1)
    return months


def active_in(orders: Orders, p: Period) -> int:
    return int((window(orders, p).orders > 0).sum())


def by_channel(t: Tickets, asked: np.ndarray, as_of: date) -> list[list]:
    """Per ticket channel, the requests `asked` (opened in the period): tickets, median first response, SLA shares."""
    rows = []
    for channel in np.unique(t.channel[asked]):
        mine = asked & (t.channel == channel)
        opened, first, resolved = t.opened[mine], t.first[mine], t.resolved[mine]
        rows.append([channel, int(mine.sum()), quantile(hours_between(opened, first), 0.5),
                     share_met(sla_met(opened, first, SLA_FIRST, as_of)),
                     share_met(sla_met(opened, resolved, SLA_RESOLUTION, as_of))])
    return sorted(rows, key=lambda r: (-r[1], r[0]))


def spread(t: Tickets, asked: np.ndarray) -> list[list]:
    """The requests `asked` (opened in the period) per bucket of first-response and of resolution time."""
    first, resolution = hours_between(t.opened[asked], t.first[asked]), hours_between(t.opened[asked], t.resolved[asked])
    return [[bucket, int(((first >= low) & (first < high)).sum()), int(((resolution >= low) & (resolution < high)).sum())]
            for bucket, low, high in BUCKETS]


def churn_by_experience(data: Data, period: Period) -> list[list]:
    """Of the previous period's customers, how many did not order in this one, with 2+ bad experiences in the
    12 months up to the previous period's end and with fewer."""
    w = window(data.orders, period)
    bad = bad_experiences(data.tickets, data.orders.customers, period.previous().end, period.as_of)["total"].to_numpy()
    rows = []
    for label, group in (("2 or more bad experiences", bad >= 2), ("fewer than 2", bad < 2)):
        customers = w.was_active & group
        churned = int((customers & (w.orders == 0)).sum())
        if customers.any():
            rows.append([label, int(customers.sum()), churned, Share(churned / customers.sum())])
    return rows


def responsiveness_page(data: Data, period: Period) -> dict:
    """Responsiveness: the service figures of the period, month by month (the months with tickets or ratings),
    by channel, the response-time buckets, and churn by bad experience."""
    orders, t = data.orders, data.tickets
    months = period_months(period)
    monthly = [{"month": month.start, **{name: None if value == UNAVAILABLE else value for name, value in
                                          service(t, month, period.as_of, active_in(orders, month)).items()}}
               for month in months]   # as of the page's as-of date, each month's backlog at its end; unavailable: empty
    asked = opened_in(t, period.start, period.end, period.as_of) & t.request
    return {"figures": service(t, period, period.as_of, active_in(orders, period)),
            "monthly": [m for m in monthly if m["tickets"] > 0 or m["csat_answers"] > 0],
            "channels": by_channel(t, asked, period.as_of), "spread": spread(t, asked),
            "churn_by_experience": churn_by_experience(data, period)}


PAGE_ROWS = 500   # the rows a table shows at a time (loyalty.ui.TABLE_ROWS, not imported: that module loads
                  # Streamlit; the agreement fails if the two differ)


def at_risk_page(data: Data, period: Period) -> dict:
    """At-risk customers: how many customers each combination of reasons puts at risk (2+ bad experiences and
    the signals orders and tickets decide: overdue, declining spend, routine-only, no outreach in 90 days;
    discount-dependent needs discounts, single-contact an account team or sales reps), and the first page
    of them by the last 12 months' revenue: what happened to those with 2+ bad experiences, their signals."""
    orders = data.orders
    b = buyers(orders, period.as_of)
    flags = signals(data, b, period.as_of)   # a row per known customer, by code
    bad = bad_experiences(data.tickets, orders.customers, period.as_of, period.as_of)
    flags["bad_experiences"] = bad["total"].to_numpy()[flags["code"]] >= 2
    reasons = ["bad_experiences", *SIGNAL_LABELS]
    at_risk = flags[flags[reasons].any(axis=1)]
    combinations = at_risk.groupby(reasons).size()
    first = at_risk.iloc[np.lexsort((at_risk["code"], -at_risk["revenue_12m"]))[:PAGE_ROWS]]
    return {"combinations": [[*map(bool, flagged), False, False, int(n)] for flagged, n in combinations.items()],
            "first_page": [[orders.ids[row.code], money(row.revenue_12m),
                            bad.at[row.code, "reason"] if row.bad_experiences else None,
                            *(bool(getattr(row, name)) for name in SIGNAL_LABELS)] for row in first.itertuples()],
            "raised": sorted(name for name in SIGNAL_LABELS if at_risk[name].any()),
            "available_signals": sorted(SIGNAL_LABELS)}


def customer_360_page(data: Data, period: Period) -> dict:
    """Customer 360 for the first of the 50 biggest customers to date: orders and revenue, tickets, segment,
    stage now and at the last 12 month ends, bad experiences, signals; no customer row, surveys or referrals."""
    orders = data.orders
    b = buyers(orders, period.as_of)
    known = np.flatnonzero(b.known)
    top = known[np.lexsort((known, -b.cents[known]))][:50]
    code = top[0]
    scores = rfm(b, period.as_of)
    flags = signals(data, b, period.as_of, codes=np.array([code])).iloc[0]
    bad = bad_experiences(data.tickets, orders.customers, period.as_of, period.as_of).iloc[code]
    history = [[end, stages_on(orders, b, end)[code] or "—"] for end in month_ends(period.as_of, 12)]
    on_record = orders.customer == code   # the page lists every order and ticket on record, after the as-of date too
    return {"candidates": [orders.ids[c] for c in top], "customer": orders.ids[code], "orders": int(on_record.sum()),
            "revenue_to_date": money(orders.cents[on_record].sum()),
            "other_records": {"customer": 0, "tickets": int((data.tickets.customer == code).sum()), "surveys": 0,
                              "referred": 0},
            "segment": scores.segment[np.searchsorted(scores.codes, code)],
            "stage": stages_on(orders, b, period.as_of)[code] or None, "bad_experiences": int(bad["total"]),
            "bad_reason": bad["reason"] or None,
            "signals": sorted(label for name, label in SIGNAL_LABELS.items() if flags[name]),
            "stage_history": history}


PAGES = {
    "Executive scorecard": scorecard_page,
    "Super customers": super_customers_page,
    "Loyalty funnel": funnel_page,
    "Responsiveness": responsiveness_page,
    "At-risk customers": at_risk_page,
    "Customer 360": customer_360_page,
}
