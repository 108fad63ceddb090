"""A realistic, deterministic demo data set for all four kinds (see docs/demo-data.md for the planted
patterns and what the metrics should show on them).

Everything is drawn from one numpy generator seeded by `seed`, over the fixed window 2023-11-01 to
2026-10-31, so the same (customers, seed) always gives the same rows, whatever today's date is.
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

START, END = pd.Timestamp("2023-11-01"), pd.Timestamp("2026-10-31")
CLOSE = END + pd.Timedelta(days=1)  # the moment the export was taken: the end of the last day
DAYS = (END - START).days + 1
REGIONS = (["North", "South", "East", "West", "International"], [0.25, 0.2, 0.2, 0.2, 0.15])
INDUSTRIES = (["Manufacturing", "Retail", "Healthcare", "Logistics", "Construction", "Hospitality"],
              [0.25, 0.2, 0.15, 0.15, 0.15, 0.1])
REPS = ["Avery Brooks", "Blake Chen", "Casey Duarte", "Devon Evans", "Emery Fischer", "Finley Garcia",
        "Harper Ito", "Jordan Kowalski"]
CHANNELS = np.array(["web", "phone", "email", "edi", "in_person", "other"])
CHANNEL_MIX = [0.35, 0.2, 0.25, 0.1, 0.08, 0.02]
PRODUCTS = np.array([f"{family} {size}" for family in ("Valve", "Pump", "Sensor", "Filter", "Controller",
                                                        "Gasket", "Bearing", "Motor")
                     for size in ("S", "M", "L", "XL", "Pro")])


class _Customers:
    """Per-customer traits (arrays of length n) that drive every table."""

    def __init__(self, n: int, rng: np.random.Generator):
        self.n = n
        self.ids = np.array([f"C{i:05d}" for i in range(1, n + 1)])
        # Became a prospect: spread over the window, a quarter before it (the installed base).
        self.created = START + pd.to_timedelta(rng.integers(-365, DAYS - 30, n), unit="D")
        self.prospect = rng.random(n) < 0.10                       # never orders
        self.first_order = self.created + pd.to_timedelta(rng.exponential(25, n).astype(int), unit="D")
        self.first_order = self.first_order.where(self.first_order >= START, START + pd.to_timedelta(rng.integers(0, 60, n), unit="D"))
        self.prospect |= self.first_order > END                       # had no time to order yet
        self.poorly_served = rng.random(n) < 0.20                  # late deliveries and slow answers
        self.discount_dependent = rng.random(n) < 0.08
        self.email_only = rng.random(n) < 0.12
        self.maintenance = rng.random(n) < 0.25
        self.single_product = rng.random(n) < 0.10
        self.value = rng.lognormal(mean=5.0, sigma=1.1, size=n)     # typical order size: Pareto-like revenue
        self.rate = rng.gamma(shape=2.0, scale=0.75, size=n) * np.where(self.maintenance, 1.6, 1.0)  # orders / month
        cohort_penalty = 1 - 0.35 * (self.first_order - START).days.to_numpy() / DAYS  # later cohorts churn sooner
        mean_life = 900 * cohort_penalty * np.where(self.poorly_served, 0.4, 1.0) \
            * np.where(self.email_only, 0.6, 1.0) * np.where(self.maintenance, 1.5, 1.0)
        self.churn = self.first_order + pd.to_timedelta(rng.exponential(mean_life).astype(int) + 30, unit="D")
        self.last_active = self.churn.where(self.churn <= END, END)
        team_size = rng.choice([1, 2, 3], n, p=[0.4, 0.4, 0.2])
        self.team = [list(rng.choice(REPS, size, replace=False)) for size in team_size]
        self.favourite = rng.choice(PRODUCTS, n)


def _customers_frame(c: _Customers, rng: np.random.Generator) -> pd.DataFrame:
    n = c.n
    order = np.argsort(c.created.to_numpy(), kind="stable")
    referred_by = np.full(n, None, dtype=object)
    # A fifth of customers were referred by someone who became a prospect before them; referrers who
    # were referred themselves make chains of three and more.
    for position in range(1, n):
        i = order[position]
        if rng.random() < 0.2:
            referred_by[i] = c.ids[order[rng.integers(0, position)]]
    reference = (rng.random(n) < 0.08) | (~c.poorly_served & c.maintenance & (rng.random(n) < 0.3))
    return pd.DataFrame({
        "customer_id": c.ids,
        "name": [f"{a} {b}" for a, b in zip(rng.choice(["Acme", "Northwind", "Globex", "Initech", "Umbrella",
                                                         "Stark", "Wayne", "Vandelay", "Hooli", "Soylent"], n),
                                             [f"{kind} {i}" for kind, i in zip(rng.choice(["Works", "Group", "Ltd", "Systems", "Supply"], n), range(1, n + 1))])],
        "region": rng.choice(REGIONS[0], n, p=REGIONS[1]),
        "industry": rng.choice(INDUSTRIES[0], n, p=INDUSTRIES[1]),
        "created_at": c.created.date,
        "on_maintenance_plan": c.maintenance,
        "reference_willing": reference,
        "referred_by": referred_by,
        "account_team": [";".join(t) for t in c.team],
    })


def _spread(rng: np.random.Generator, who: np.ndarray, begin: pd.DatetimeIndex, end: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """A random moment between begin and end of each row's customer."""
    span = (end[who] - begin[who]).total_seconds().to_numpy()
    return begin[who] + pd.to_timedelta(rng.random(len(who)) * np.maximum(span, 0), unit="s")


def _orders_frame(c: _Customers, rng: np.random.Generator) -> pd.DataFrame:
    months = np.maximum((c.last_active - c.first_order).days.to_numpy(), 0) / 30.4
    extra = np.where(c.prospect, 0, rng.poisson(c.rate * months))
    buyers = np.flatnonzero(~c.prospect)
    who = np.concatenate([buyers, np.repeat(np.arange(c.n), extra)])  # each buyer's first order, then the rest
    when = pd.DatetimeIndex(np.concatenate([c.first_order[buyers].to_numpy(),
                                            _spread(rng, who[len(buyers):], c.first_order, c.last_active).to_numpy()]))
    when = when.normalize()
    count = len(who)
    amount = c.value[who] * rng.lognormal(0, 0.45, count)
    refund = rng.random(count) < 0.02
    amount = np.where(refund, -amount * rng.uniform(0.1, 1.0, count), amount)
    discounted = np.where(c.discount_dependent[who], rng.random(count) < 0.92, rng.random(count) < 0.08)
    discount = np.where(discounted & ~refund, amount * rng.uniform(0.12, 0.3, count), 0.0)
    channel = np.where(c.email_only[who], "email", rng.choice(CHANNELS, count, p=CHANNEL_MIX))
    product = np.where(c.single_product[who] | (rng.random(count) < 0.3), c.favourite[who], rng.choice(PRODUCTS, count))
    rep = np.array([c.team[i][k % len(c.team[i])] for i, k in zip(who, rng.integers(0, 3, count))])
    promised = when + pd.to_timedelta(rng.integers(4, 11, count), unit="D")
    late = rng.random(count) < np.where(c.poorly_served[who], 0.45, 0.04)
    delivered = promised + pd.to_timedelta(np.where(late, rng.integers(1, 12, count), -rng.integers(0, 3, count)), unit="D")
    frame = pd.DataFrame({
        "customer_id": c.ids[who], "order_date": when, "amount": np.round(amount, 2),
        "quantity": rng.poisson(4, count) + 1, "product": product, "channel": channel,
        "discount": np.round(discount, 2), "sales_rep": rep, "promised_date": promised,
        "delivered_date": delivered.where(delivered <= END), "status": np.where(refund, "refunded", "delivered"),
    })
    frame = _leave_after_two_late_deliveries(frame, late & ~refund, c, rng)
    frame = frame.sort_values(["order_date", "customer_id"], kind="stable").reset_index(drop=True)
    frame.insert(3, "order_id", [f"SO-{i:07d}" for i in range(1, len(frame) + 1)])
    for column in ("order_date", "promised_date", "delivered_date"):
        frame[column] = frame[column].dt.date
    frame.loc[frame["delivered_date"].isna(), "status"] = "open"
    return frame


def _leave_after_two_late_deliveries(frame: pd.DataFrame, late: np.ndarray, c: _Customers,
                                     rng: np.random.Generator) -> pd.DataFrame:
    """Three in five customers who get a second late delivery stop buying within six weeks of it (the
    contract's "about 42% stop buying after two bad experiences"); their tickets and surveys stop too."""
    late_orders = frame.loc[late, ["customer_id", "order_date"]].sort_values(["customer_id", "order_date"])
    second = late_orders[late_orders.groupby("customer_id").cumcount() == 1].set_index("customer_id")["order_date"]
    leaving = second[rng.random(len(second)) < 0.6]
    leave_at = (leaving + pd.to_timedelta(rng.integers(0, 42, len(leaving)), unit="D")).clip(upper=END)
    ids = pd.Index(c.ids)
    c.last_active = pd.DatetimeIndex(np.where(ids.isin(leave_at.index), leave_at.reindex(ids).to_numpy(),
                                              c.last_active.to_numpy()))
    cutoff = frame["customer_id"].map(leave_at)
    return frame[cutoff.isna() | (frame["order_date"] <= cutoff)]


def _tickets_frame(c: _Customers, rng: np.random.Generator) -> pd.DataFrame:
    months = np.where(c.prospect, 0, np.maximum((c.last_active - c.first_order).days.to_numpy(), 0) / 30.4)
    count_per = rng.poisson(months * np.where(c.poorly_served, 0.35, 0.15))
    who = np.repeat(np.arange(c.n), count_per)
    count = len(who)
    opened = _spread(rng, who, c.first_order, c.last_active) + pd.to_timedelta(rng.integers(8 * 3600, 17 * 3600, count), unit="s")
    poor = c.poorly_served[who]
    kind = np.where(poor, rng.choice(["complaint", "inquiry", "praise", "outreach"], count, p=[0.45, 0.4, 0.05, 0.1]),
                    rng.choice(["complaint", "inquiry", "praise", "outreach"], count, p=[0.12, 0.5, 0.13, 0.25]))
    kind = np.where(c.email_only[who] & (kind == "outreach"), "inquiry", kind)
    first_hours = rng.lognormal(np.where(poor, np.log(14), np.log(1.5)), 0.7)
    resolve_hours = first_hours + rng.lognormal(np.where(poor, np.log(70), np.log(12)), 0.6)
    first = opened + pd.to_timedelta(first_hours * 3600, unit="s")
    resolved = opened + pd.to_timedelta(resolve_hours * 3600, unit="s")
    recent = opened > END - pd.Timedelta(days=20)
    unresolved = (recent & (rng.random(count) < 0.5)) | (rng.random(count) < 0.02) | (resolved >= CLOSE)
    csat = np.where(poor, rng.choice([1, 2, 3, 4, 5], count, p=[0.25, 0.3, 0.25, 0.15, 0.05]),
                    rng.choice([1, 2, 3, 4, 5], count, p=[0.03, 0.05, 0.12, 0.4, 0.4])).astype(float)
    csat[unresolved | (rng.random(count) < 0.4)] = np.nan
    frame = pd.DataFrame({
        "customer_id": c.ids[who], "opened_at": opened, "first_response_at": first.where(first < CLOSE),
        "resolved_at": resolved.where(~unresolved), "channel": rng.choice(["email", "phone", "web"], count, p=[0.5, 0.3, 0.2]),
        "kind": kind, "csat": pd.array(csat, dtype="Int64"),
        "reopened": rng.random(count) < np.where(poor, 0.15, 0.04),
    })
    frame = frame.sort_values("opened_at", kind="stable").reset_index(drop=True)
    frame.insert(2, "ticket_id", [f"T-{i:06d}" for i in range(1, len(frame) + 1)])
    frame["opened_at"] = frame["opened_at"].dt.floor("s")
    frame["first_response_at"] = frame["first_response_at"].dt.floor("s")
    frame["resolved_at"] = frame["resolved_at"].dt.floor("s")
    return frame


def _surveys_frame(c: _Customers, rng: np.random.Generator) -> pd.DataFrame:
    answers = np.where(c.prospect, 0, rng.choice([0, 1, 2, 3], c.n, p=[0.6, 0.2, 0.12, 0.08]))
    who = np.repeat(np.arange(c.n), answers)
    count = len(who)
    poor = c.poorly_served[who]
    nps = np.where(poor, rng.choice(range(11), count, p=[.08, .08, .1, .12, .12, .14, .14, .1, .06, .04, .02]),
                   rng.choice(range(11), count, p=[.01, .01, .01, .02, .03, .05, .07, .15, .2, .25, .2]))
    answered = _spread(rng, who, c.first_order, c.last_active).floor("s")
    return pd.DataFrame({
        "customer_id": c.ids[who], "answered_at": answered, "nps": nps,
        "csat": np.clip(np.round(nps / 2.2 + rng.normal(0.6, 0.6, count)), 1, 5).astype(int),
    }).sort_values("answered_at", kind="stable").reset_index(drop=True)


def generate(customers: int = 5000, seed: int = 7) -> dict[str, pd.DataFrame]:
    """The four canonical tables of a demo company with `customers` customers."""
    rng = np.random.default_rng(seed)
    traits = _Customers(customers, rng)
    return {
        "customers": _customers_frame(traits, rng),
        "orders": _orders_frame(traits, rng),
        "tickets": _tickets_frame(traits, rng),
        "surveys": _surveys_frame(traits, rng),
    }


def load_demo(con: duckdb.DuckDBPyConnection, customers: int = 5000, seed: int = 7) -> dict[str, dict]:
    """Generate the demo data set and import it through the regular import path, one batch per kind."""
    from .importer import import_frame

    frames = generate(customers, seed)
    loaded = {}
    for kind in ("customers", "orders", "tickets", "surveys"):
        summary = import_frame(con, kind, frames[kind], f"demo-{kind}-{customers}-seed{seed}", uploaded_by="demo")
        loaded[kind] = {"batch_id": summary.batch_id, "records": summary.records, "inserted": summary.inserted,
                        "rejected": summary.rejected}
    return loaded

