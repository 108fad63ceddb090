"""A realistic, deterministic demo data set for all four kinds (docs/demo-data.md lists the planted
patterns and what the metrics should show on them).

Everything is drawn from one numpy generator seeded by `seed`, over the fixed window 2023-11-01 to
2026-10-31, so the same (customers, seed) always gives the same rows, whatever today's date is. Days
are whole-number offsets from START until the frames are built; every step is vectorised.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import duckdb
import numpy as np
import pandas as pd

from .access import ADMIN, User, require
from .schema import CHANNEL, ID, SPECS, TEXT, TICKET_KIND

START, END = np.datetime64("2023-11-01"), np.datetime64("2026-10-31")
DAYS = int((END - START).astype(int)) + 1
YEAR = 365

REGIONS = np.array(["North", "South", "East", "West", "International"])
REGION_MIX = [0.24, 0.22, 0.2, 0.2, 0.14]
INDUSTRY_WORDS = {  # industry -> words that end its customers' names
    "Manufacturing": ["Fabrication", "Machining", "Metalworks"],
    "Healthcare": ["Clinics", "Medical", "Care"],
    "Retail": ["Stores", "Outfitters", "Market"],
    "Construction": ["Builders", "Construction", "Contracting"],
    "Logistics": ["Freight", "Logistics", "Transport"],
    "Food & Beverage": ["Foods", "Brewing", "Kitchens"],
}
INDUSTRIES = np.array(list(INDUSTRY_WORDS))
INDUSTRY_NAME_WORDS = np.array(list(INDUSTRY_WORDS.values()), dtype=object)
INDUSTRY_MIX = [0.26, 0.16, 0.18, 0.14, 0.14, 0.12]
NAME_WORDS = np.array(["Alder", "Beacon", "Cobalt", "Delta", "Elm", "Falcon", "Granite", "Harbor", "Iron",
                       "Juniper", "Keystone", "Lumen", "Maple", "Nordic", "Orion", "Pioneer", "Quarry",
                       "Ridge", "Summit", "Tidewater", "Union", "Vector", "Willow", "Apex", "Birch"])
NAME_SUFFIXES = np.array(["Ltd", "Inc.", "GmbH", "& Co.", "Group", "AG", "LLC"])

REPS = np.array(["Alice Moreau", "Ben Okafor", "Carla Mendes", "David Lindqvist", "Elena Petrova",
                 "Farid Haddad", "Grace Kim", "Hugo Brandt"])
DEPARTED, SUCCESSOR = 7, 6  # Hugo Brandt leaves; Grace Kim takes over his accounts
DEPARTURE = int((np.datetime64("2025-05-31") - START).astype(int))
TEAM_SIZES, TEAM_MIX = [1, 2, 3, 4], [0.45, 0.3, 0.18, 0.07]

PRODUCTS = np.array(["Pump assembly", "Control unit", "Installation service", "Calibration service",
                     "Sensor kit", "Spare parts pack", "Filter set", "Software licence"])
PRICES = np.array([1450.0, 520.0, 880.0, 240.0, 95.0, 60.0, 28.0, 1200.0])
PRODUCT_MIX = [0.08, 0.12, 0.06, 0.12, 0.2, 0.22, 0.16, 0.04]
PREFERRED_CHANNELS, PREFERRED_MIX = np.array(["web", "phone", "email", "edi", "in_person"]), [0.35, 0.25, 0.2, 0.12, 0.08]
ORDER_CHANNELS, ORDER_MIX = np.array(["web", "phone", "email", "edi", "in_person", "other"]), [0.3, 0.25, 0.25, 0.1, 0.07, 0.03]

SLA_HOURS = 4  # the contract's default first-response SLA; "slow" means over it
LEAVE_AFTER_TWO_BAD = 0.42  # chance a customer stops buying at a second bad experience in 12 months


@dataclass
class _Traits:
    """Per-customer arrays (one entry per customer, in order of created_at) that drive every table."""
    created: np.ndarray          # day became a prospect
    first: np.ndarray            # day of the first order (meaningless for prospects)
    buyer: np.ndarray            # False: a prospect that never orders
    region: np.ndarray
    industry: np.ndarray         # index into INDUSTRIES
    poorly_served: np.ndarray    # late deliveries and slow answers
    email_only: np.ndarray
    maintenance: np.ndarray
    deal_seeker: np.ndarray
    rate: np.ndarray             # orders per year
    size: np.ndarray             # typical gross order value
    team: np.ndarray             # (n, 4) rep indices; the first team_size are the account team
    team_size: np.ndarray
    referrer: np.ndarray         # index of the referring customer, -1 when none
    reference_willing: np.ndarray
    stop: np.ndarray | None = None  # last day the customer may order; set by _lifetime_stop


def _acquisition_days(n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted days customers become prospects: a fifth in the first quarter (the installed base), the
    rest with a density that doubles over the window (the business grows)."""
    base = rng.random(n) < 0.2
    growing = DAYS * (np.sqrt(1 + 3 * rng.random(n)) - 1)  # inverse CDF of a density rising 1 -> 2
    return np.sort(np.where(base, rng.integers(0, 90, n), growing).astype(np.int64))


def _account_teams(created: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random team of 1-4 reps per account; accounts created after the departure never get the
    departed rep."""
    keys = rng.random((len(created), len(REPS)))
    keys[created > DEPARTURE, DEPARTED] = 2.0  # sorts last, so never among the first four
    return np.argsort(keys, axis=1)[:, :4], rng.choice(TEAM_SIZES, len(created), p=TEAM_MIX)


def _referrers(created: np.ndarray, first: np.ndarray, pool: np.ndarray, referred: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """For each referred customer, a pool member who had already ordered when it became a prospect."""
    members = np.flatnonzero(pool)
    members = members[np.argsort(first[members], kind="stable")]
    eligible = np.searchsorted(first[members], created, side="left")  # members ordering before created
    pick = np.floor(rng.random(len(created)) * eligible).astype(np.int64)
    return np.append(members, -1)[np.where(referred & (eligible > 0), pick, len(members))]


def _lifetime_stop(t: _Traits, referred: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The last day each customer may order: an exponential lifetime, shorter for later cohorts and
    email-only accounts, longer for maintenance plans and referred customers. Some buy only once: 5% of
    the first cohorts, rising to 40% of the last. Seven in ten one-rep accounts of the departed rep
    leave with him."""
    joined = t.created / DAYS  # 0 for the first cohort, 1 for the last
    mean = (1600 * (1 - 0.7 * joined) * np.where(t.maintenance, 1.8, 1.0)
            * np.where(t.email_only, 0.6, 1.0) * np.where(referred, 1.3, 1.0))
    once = ~t.maintenance & (rng.random(len(mean)) < 0.05 + 0.35 * joined)
    lifetime = np.where(once, 0, rng.exponential(mean))
    stop = t.first + lifetime.astype(np.int64)
    follows_rep = ((t.team_size == 1) & (t.team[:, 0] == DEPARTED) & (t.first <= DEPARTURE)
                   & (stop > DEPARTURE) & (rng.random(len(stop)) < 0.7))
    stop = np.where(follows_rep, DEPARTURE + rng.integers(0, 45, len(stop)), stop)
    return np.minimum(stop, DAYS - 1)


def _traits(n: int, rng: np.random.Generator) -> _Traits:
    """Draw every customer's traits; docs/demo-data.md gives the shares."""
    created = _acquisition_days(n, rng)
    first = created + rng.exponential(21, n).astype(np.int64)
    buyer = (rng.random(n) >= 0.08) & (first < DAYS)
    region = rng.choice(REGIONS, n, p=REGION_MIX)
    poorly_served = buyer & (rng.random(n) < np.where(region == "International", 0.4, 0.15))
    email_only = buyer & (rng.random(n) < 0.1)
    maintenance = buyer & ~email_only & (rng.random(n) < 0.22)
    scale = rng.normal(size=n)  # big accounts order both more often and more per order
    rate = np.clip(np.exp(np.log(18) + 0.55 * scale + 0.45 * rng.normal(size=n)), 1, 150)
    rate = np.where(maintenance, np.maximum(rate, 4), rate)
    size = np.exp(np.log(300) + 0.8 * scale + 0.5 * rng.normal(size=n))
    industry = rng.choice(len(INDUSTRIES), n, p=INDUSTRY_MIX)
    deal_seeker = buyer & (rng.random(n) < 0.08)
    team, team_size = _account_teams(created, rng)
    referred = rng.random(n) < 0.15  # referred customers are keener to refer others: chains form
    willing = buyer & (rng.random(n) < np.where(poorly_served, 0.02, 0.1 + 0.12 * maintenance))
    referrer = _referrers(created, first, buyer & (willing | referred), referred, rng)
    traits = _Traits(created=created, first=first, buyer=buyer, region=region, industry=industry,
                     poorly_served=poorly_served, email_only=email_only, maintenance=maintenance,
                     deal_seeker=deal_seeker, rate=rate, size=size, team=team, team_size=team_size,
                     referrer=referrer, reference_willing=willing)
    traits.stop = _lifetime_stop(traits, referrer >= 0, rng)
    return traits


def _within_customer(counts: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of rows that np.repeat(..., counts) gives one customer."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(counts.sum()) - starts


def _order_days(t: _Traits, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(customer, day) of every order, sorted: maintenance-plan customers on a schedule (one order per
    1/rate years, a little jitter), the rest at random; email-only accounts order ever less often."""
    buyers = np.flatnonzero(t.buyer)
    span = (t.stop - t.first)[buyers]
    gap = YEAR / t.rate[buyers]
    regular = t.maintenance[buyers]
    extra = np.where(regular, np.floor(span / gap), rng.poisson(t.rate[buyers] * span / YEAR)).astype(np.int64)
    who = np.repeat(buyers, extra + 1)
    k = _within_customer(extra + 1)
    first, stop, count = t.first[who], t.stop[who], len(who)
    scheduled = first + k * YEAR / t.rate[who] + rng.normal(0, 0.1, count) * YEAR / t.rate[who]
    random_day = first + rng.random(count) * (stop - first + 1)
    day = np.where(k == 0, first, np.where(t.maintenance[who], scheduled, random_day))
    day = np.clip(np.floor(day), first, stop).astype(np.int64)
    fading = t.email_only[who] & (rng.random(count) > np.exp(-(day - first) / 400))
    keep = (k == 0) | ~fading
    who, day = who[keep], day[keep]
    order = np.lexsort((day, who))
    return who[order], day[order]


def _trailing_count(who: np.ndarray, day: np.ndarray, flag: np.ndarray, window: int) -> np.ndarray:
    """For rows sorted by (customer, day): the customer's flagged rows in (day - window, day]."""
    key = who * (DAYS + window) + window + day  # a customer's keys never reach back into the previous one's
    low = np.searchsorted(key, key - window, side="right")
    cumulative = np.concatenate([[0], np.cumsum(flag)])
    return cumulative[np.arange(len(key)) + 1] - cumulative[low]


@dataclass
class _Orders:
    """Per-order arrays (sorted by customer, day) before the frame is built."""
    who: np.ndarray
    day: np.ndarray
    late: np.ndarray
    promised: np.ndarray         # days after the order
    delivered: np.ndarray        # days after the order
    ticket: np.ndarray           # the order led to a support ticket
    ticket_kind: np.ndarray
    ticket_day: np.ndarray
    response_hours: np.ndarray

    def subset(self, keep: np.ndarray) -> _Orders:
        return _Orders(*(getattr(self, f.name)[keep] for f in fields(self)))


def _experiences(t: _Traits, who: np.ndarray, day: np.ndarray, rng: np.random.Generator) -> _Orders:
    """Delivery and support for every order. Late deliveries and tickets come at a yearly rate per
    customer (so big accounts are not hit on every order); poorly served customers get ~8x the late
    deliveries and first responses around 9 h instead of ~1.3 h."""
    count, poor, rate = len(who), t.poorly_served[who], t.rate[who]
    late = rng.random(count) < np.clip(np.where(poor, 2.5, 0.3) / rate, 0.01, 0.6)
    promised = rng.integers(3, 11, count)
    delivered = np.where(late, promised + rng.integers(1, 15, count), rng.integers(1, promised + 1))
    complaint = late & (rng.random(count) < 0.35)
    asks = rng.random(count) < np.clip((1 + 0.5 * np.sqrt(rate)) / rate, 0.05, 0.6)  # ~1 + sqrt(rate)/2 a year
    kind = np.where(complaint, "complaint", np.where(
        poor, rng.choice(["inquiry", "complaint", "praise", "other"], count, p=[0.7, 0.22, 0.02, 0.06]),
        rng.choice(["inquiry", "complaint", "praise", "other"], count, p=[0.72, 0.06, 0.16, 0.06])))
    ticket_day = np.where(complaint, day + promised + rng.integers(1, 5, count), day + rng.integers(0, 15, count))
    ticket = (complaint | asks) & (ticket_day < DAYS)
    hours = rng.lognormal(np.where(poor, np.log(9), np.log(1.3)), 0.9)
    return _Orders(who, day, late, promised, delivered, ticket, kind, ticket_day, hours)


def _leave_after_two_bad_experiences(o: _Orders, rng: np.random.Generator) -> _Orders:
    """Each bad experience (late delivery, first response over the SLA) that makes two or more within 12
    months drives the customer away with the contract's 42%: its later orders, and their tickets, go."""
    bad = o.late.astype(np.int64) + (o.ticket & (o.response_hours > SLA_HOURS))
    trigger = (bad > 0) & (_trailing_count(o.who, o.day, bad, YEAR) >= 2)
    leaving = trigger & (rng.random(len(trigger)) < LEAVE_AFTER_TWO_BAD)
    left_before = pd.Series(leaving).groupby(o.who).cumsum().to_numpy() - leaving
    return o.subset(left_before == 0)


def _credits(o: _Orders, amount: np.ndarray, quantity: np.ndarray, rng: np.random.Generator) -> dict:
    """Credit notes and refunds for ~1% of orders (9% of late ones): a negative order 5-40 days later,
    the full amount in two of five cases, a part of it otherwise."""
    count = len(o.who)
    credited = rng.random(count) < np.where(o.late, 0.09, 0.01)
    day = o.day + rng.integers(5, 41, count)
    source = np.flatnonzero(credited & (day < DAYS))
    full = rng.random(len(source)) < 0.4
    share = np.where(full, 1.0, rng.uniform(0.1, 0.5, len(source)))
    return {"source": source, "day": day[source], "amount": -amount[source] * share,
            "quantity": np.where(full, -quantity[source], np.nan)}


def _dates(days: np.ndarray) -> np.ndarray:
    """datetime.date objects (None for NaN days)."""
    values = np.where(np.isnan(days), np.datetime64("NaT"), START + np.nan_to_num(days).astype("timedelta64[D]"))
    return values.astype("datetime64[D]").astype(object)


def _timestamps(days: np.ndarray, hours: np.ndarray) -> pd.Series:
    """Timestamps to the second, day offset plus hours; NaT where missing or after the window's end."""
    seconds = np.round((days * 24 + hours) * 3600)
    stamps = pd.Series(START.astype("datetime64[s]") + pd.to_timedelta(seconds, unit="s").to_numpy())
    return stamps.where(stamps < (END + 1).astype("datetime64[s]")).astype("datetime64[us]")


def _nullable_ints(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Rounded Python ints, None where missing."""
    out = np.round(values).astype(np.int64).astype(object)
    out[missing] = None
    return out


def _ids(prefix: str, count: int, width: int) -> list[str]:
    width = max(width, len(str(count)))
    return [f"{prefix}{i:0{width}d}" for i in range(1, count + 1)]


def _current_teams(t: _Traits) -> list[str]:
    """The CRM's account teams today: the successor has taken the departed rep's place (once)."""
    teams = []
    for members, size in zip(t.team.tolist(), t.team_size.tolist()):
        team = members[:size]
        if DEPARTED in team:
            team = [r for r in team if r != DEPARTED] + ([] if SUCCESSOR in team else [SUCCESSOR])
        teams.append(";".join(REPS[team]))
    return teams


def _orders_frame(t: _Traits, o: _Orders, rng: np.random.Generator) -> pd.DataFrame:
    count, who = len(o.who), o.who
    favourite = rng.choice(len(PRODUCTS), len(t.rate), p=PRODUCT_MIX)
    product = np.where(rng.random(count) < 0.5, favourite[who], rng.choice(len(PRODUCTS), count, p=PRODUCT_MIX))
    gross = t.size[who] * rng.lognormal(0, 0.5, count)
    quantity = np.maximum(1, np.round(gross / PRICES[product])).astype(float)
    discounted = rng.random(count) < np.where(t.deal_seeker[who], 0.92, 0.06)
    discount = np.where(discounted, gross * np.where(t.deal_seeker[who], rng.uniform(0.1, 0.3, count),
                                                    rng.uniform(0.05, 0.15, count)), 0.0)
    amount = gross - discount
    preferred = rng.choice(PREFERRED_CHANNELS, len(t.rate), p=PREFERRED_MIX)
    channel = np.where(t.email_only[who], "email", np.where(rng.random(count) < 0.75, preferred[who],
                                                            rng.choice(ORDER_CHANNELS, count, p=ORDER_MIX)))
    rep = t.team[who, np.floor(rng.random(count) * t.team_size[who]).astype(np.int64)]
    credit = _credits(o, amount, quantity, rng)
    src = credit["source"]
    day = np.concatenate([o.day, credit["day"]]).astype(float)
    rep = np.concatenate([rep, rep[src]])
    rep = np.where((rep == DEPARTED) & (day > DEPARTURE), SUCCESSOR, rep)
    delivered = (o.day + o.delivered).astype(float)
    delivered[delivered >= DAYS] = np.nan
    none = np.full(len(src), np.nan)
    frame = pd.DataFrame({
        "customer_id": np.concatenate([who, who[src]]),
        "order_date": day,
        "amount": np.round(np.concatenate([amount, credit["amount"]]), 2),
        "quantity": np.concatenate([quantity, credit["quantity"]]),
        "product": PRODUCTS[np.concatenate([product, product[src]])],
        "channel": np.concatenate([channel, channel[src]]),
        "discount": np.round(np.concatenate([discount, np.zeros(len(src))]), 2),
        "sales_rep": REPS[rep],
        "promised_date": np.concatenate([o.day + o.promised, none]),
        "delivered_date": np.concatenate([delivered, none]),
        "status": np.concatenate([np.where(np.isnan(delivered), "open", "delivered"), np.full(len(src), "credit")]),
    }).sort_values(["order_date", "customer_id"], kind="stable", ignore_index=True)
    frame["order_id"] = _ids("SO-", len(frame), 6)
    for column in ("order_date", "promised_date", "delivered_date"):
        frame[column] = _dates(frame[column].to_numpy())
    return frame


def _outreach(t: _Traits, o: _Orders, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(customer, day) of proactive contacts: ~5 a year for team accounts, ~3 for one-rep accounts,
    from the first order until two months after the last; never for email-only accounts."""
    last_order = np.full(len(t.first), -1, dtype=np.int64)
    np.maximum.at(last_order, o.who, o.day)
    eligible = np.flatnonzero(t.buyer & ~t.email_only)
    end = np.minimum(last_order[eligible] + 60, DAYS - 1)
    span = end - t.first[eligible]
    count = rng.poisson(np.where(t.team_size[eligible] > 1, 5, 3) * span / YEAR)
    who = np.repeat(eligible, count)
    return who, t.first[who] + np.floor(rng.random(len(who)) * (np.repeat(span, count) + 1)).astype(np.int64)


def _tickets_frame(t: _Traits, o: _Orders, rng: np.random.Generator) -> pd.DataFrame:
    """The tickets orders led to, plus outreach: logged proactive contacts, with no first response (there
    was nothing to answer), closed within the hour. 2% of the others are never resolved."""
    reactive = np.flatnonzero(o.ticket)
    reach_who, reach_day = _outreach(t, o, rng)
    who = np.concatenate([o.who[reactive], reach_who])
    day = np.concatenate([o.ticket_day[reactive], reach_day]).astype(float)
    kind = np.concatenate([o.ticket_kind[reactive], np.full(len(reach_who), "outreach")])
    count, outreach, poor = len(who), kind == "outreach", t.poorly_served[who]
    opened_hour = rng.integers(8 * 60, 18 * 60, count) / 60
    response = np.concatenate([o.response_hours[reactive], np.full(len(reach_who), np.nan)])
    resolution = response + rng.lognormal(np.where(poor, np.log(50), np.log(16)), 0.9)
    resolution = np.where(outreach, rng.integers(10, 90, count) / 60, resolution)
    resolved = _timestamps(day, opened_hour + resolution)
    resolved[~outreach & (rng.random(count) < 0.02)] = pd.NaT  # forgotten tickets: the old backlog
    reopened = resolved.notna().to_numpy() & ~outreach & (rng.random(count) < np.where(poor, 0.15, 0.05))
    satisfaction = (np.where(poor, 2.7, 4.4) - 0.8 * (kind == "complaint") + 0.4 * (kind == "praise")
                    + rng.normal(0, 0.8, count))
    asked = resolved.notna().to_numpy() & ~outreach & (rng.random(count) < 0.35)
    channel = np.where(outreach, rng.choice(["phone", "in_person", "email"], count, p=[0.55, 0.25, 0.2]),
                       np.where(t.email_only[who], "email", rng.choice(["email", "phone", "web"], count, p=[0.5, 0.3, 0.2])))
    frame = pd.DataFrame({
        "customer_id": who,
        "opened_at": _timestamps(day, opened_hour),
        "first_response_at": _timestamps(day, opened_hour + response),
        "resolved_at": resolved,
        "channel": channel,
        "kind": kind,
        "csat": _nullable_ints(np.clip(satisfaction, 1, 5), ~asked),
        "reopened": reopened,
    })
    frame.loc[frame["first_response_at"].isna() & ~outreach, "resolved_at"] = pd.NaT
    frame = frame.sort_values(["opened_at", "customer_id"], kind="stable", ignore_index=True)
    frame["ticket_id"] = _ids("T-", len(frame), 6)
    return frame


def _surveys_frame(t: _Traits, o: _Orders, rng: np.random.Generator) -> pd.DataFrame:
    """An NPS/CSAT survey after ~7% of orders, answered 3-20 days later; scores fall with poor service
    and with a late delivery of the surveyed order."""
    count = len(o.who)
    surveyed = np.flatnonzero(rng.random(count) < 0.07)
    day = o.day[surveyed] + rng.integers(3, 21, len(surveyed))
    surveyed, day = surveyed[day < DAYS], day[day < DAYS]
    who, n = o.who[surveyed], len(surveyed)
    poor, late = t.poorly_served[who], o.late[surveyed]
    nps = 8.6 - 3.2 * poor - 1.5 * late + 0.5 * t.reference_willing[who] + rng.normal(0, 1.6, n)
    csat = 4.3 - 1.2 * poor - 0.6 * late + rng.normal(0, 0.7, n)
    frame = pd.DataFrame({
        "customer_id": who,
        "answered_at": _timestamps(day.astype(float), rng.integers(7 * 60, 21 * 60, n) / 60),
        "nps": _nullable_ints(np.clip(nps, 0, 10), rng.random(n) < 0.04),
        "csat": _nullable_ints(np.clip(csat, 1, 5), rng.random(n) < 0.3),
    })
    return frame.sort_values(["answered_at", "customer_id"], kind="stable", ignore_index=True)


def _customers_frame(t: _Traits, ids: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    n = len(ids)
    name = (NAME_WORDS[rng.integers(0, len(NAME_WORDS), n)].astype(object) + " "
            + INDUSTRY_NAME_WORDS[t.industry, rng.integers(0, 3, n)] + " "
            + NAME_SUFFIXES[rng.integers(0, len(NAME_SUFFIXES), n)])
    return pd.DataFrame({
        "customer_id": ids,
        "name": name,
        "region": t.region,
        "industry": INDUSTRIES[t.industry],
        "created_at": _dates(t.created.astype(float)),
        "on_maintenance_plan": t.maintenance,
        "reference_willing": np.where(t.buyer, t.reference_willing, None),
        "referred_by": np.where(t.referrer >= 0, ids[t.referrer], None),
        "account_team": _current_teams(t),
    })


def generate(customers: int = 5000, seed: int = 7) -> dict[str, pd.DataFrame]:
    """The four canonical tables (stored columns, in schema order) of a demo company."""
    rng = np.random.default_rng(seed)
    traits = _traits(customers, rng)
    who, day = _order_days(traits, rng)
    orders = _leave_after_two_bad_experiences(_experiences(traits, who, day, rng), rng)
    ids = np.array(_ids("C", customers, 5))
    frames = {
        "orders": _orders_frame(traits, orders, rng),
        "customers": _customers_frame(traits, ids, rng),
        "tickets": _tickets_frame(traits, orders, rng),
        "surveys": _surveys_frame(traits, orders, rng),
    }
    for kind, frame in frames.items():
        if kind != "customers":
            frame["customer_id"] = ids[frame["customer_id"].to_numpy().astype(np.int64)]
        columns = SPECS[kind].stored_columns
        text = [c.name for c in columns if c.kind in (TEXT, ID, CHANNEL, TICKET_KIND)]
        frames[kind] = frame[[c.name for c in columns]].astype(dict.fromkeys(text, "str"))
    return frames


def load_demo(con: duckdb.DuckDBPyConnection, customers: int = 5000, seed: int = 7, *, user: User) -> dict[str, dict]:
    """Generate the demo data set and import it through the regular import path, one batch per kind,
    uploaded by `user`, who must be an admin (it adds thousands of made-up customers to real data)."""
    require(user, ADMIN, "Loading the demo data")
    from .importer import import_frame

    frames = generate(customers, seed)
    loaded = {}
    for kind in ("customers", "orders", "tickets", "surveys"):
        summary = import_frame(con, kind, frames[kind], f"demo-{kind}-{customers}-seed{seed}", user=user)
        loaded[kind] = {"batch_id": summary.batch_id, "records": summary.records, "inserted": summary.inserted,
                        "rejected": summary.rejected}
    return loaded
