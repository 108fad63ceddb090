"""The period, as-of date and filters every metric is computed for (DESIGN section 4).

Defaults: the as-of date is the latest order date; the period is the last 12 full months up to it (the
12 months ending on the as-of date when it is a month end, else the 12 months before its month).

Filters: region and industry select customers (from `customers`); channel and sales rep select orders.
A customer is in scope when it passes the customer filters and, if an order filter is set, has a
matching order; with an order filter set, prospects (customers without orders) are out of scope.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb


@dataclass(frozen=True)
class Filters:
    regions: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    sales_reps: tuple[str, ...] = ()

    @property
    def on_orders(self) -> bool:
        return bool(self.channels or self.sales_reps)


def month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def is_month_end(d: date) -> bool:
    return d == month_end(d)


def shift_months(d: date, months: int) -> date:
    """The same day `months` later (earlier when negative); month ends stay month ends."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    day = last if is_month_end(d) else min(d.day, last)
    return date(year, month + 1, day)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    as_of: date
    filters: Filters = field(default_factory=Filters)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        """The period of the same length just before this one (same months when it spans whole months)."""
        if self.start.day == 1 and is_month_end(self.end):
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            start = shift_months(self.start, -months)
        else:
            start = self.start - timedelta(days=self.days)
        end = self.start - timedelta(days=1)
        return Period(start, end, end, self.filters)

    def params(self) -> dict:
        """Named SQL parameters shared by every metric query."""
        return {
            "start": self.start, "end": self.end, "as_of": self.as_of,
            "regions": list(self.filters.regions), "industries": list(self.filters.industries),
            "channels": list(self.filters.channels), "reps": list(self.filters.sales_reps),
        }


def last_quarters(as_of: date, count: int = 4) -> list[tuple[date, date]]:
    """`count` consecutive 3-month windows ending on the as-of date, oldest first."""
    ends = [shift_months(as_of, -3 * k) for k in range(count)]
    return [(shift_months(end, -3) + timedelta(days=1), end) for end in reversed(ends)]


def latest_order_date(con: duckdb.DuckDBPyConnection) -> date | None:
    return con.execute("SELECT max(order_date) FROM orders").fetchall()[0][0]


def resolve_period(latest: date | None, as_of: date | None = None, start: date | None = None,
                   end: date | None = None, filters: Filters | None = None) -> Period:
    """The period for the given choices, filling in the contract's defaults from the latest order date."""
    as_of = as_of or end or latest or date.today()
    if end is None:
        end = as_of if is_month_end(as_of) else as_of.replace(day=1) - timedelta(days=1)
    if start is None:
        start = shift_months(end, -12) + timedelta(days=1) if is_month_end(end) else end - timedelta(days=364)
    if start > end:
        raise ValueError(f"The period starts ({start}) after it ends ({end}).")
    return Period(start, end, as_of, filters or Filters())


def default_period(con: duckdb.DuckDBPyConnection, as_of: date | None = None, start: date | None = None,
                   end: date | None = None, filters: Filters | None = None) -> Period:
    """The period for the given choices, with the latest order date of the store as the default as-of."""
    return resolve_period(latest_order_date(con), as_of, start, end, filters)
