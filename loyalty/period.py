"""The period, as-of date and filters every metric is computed for (DESIGN section 4).

Defaults
- as-of date: the latest order date in the store (today on an empty store), whatever period is chosen,
  so the page, the CLI report and the briefing agree for the same dates. Only orders up to the as-of
  date count; a period reaching beyond the data (or beyond the as-of date) is allowed and simply holds
  no orders there.
- period: the last 12 full months up to the as-of date: the 12 months ending on the as-of date when it
  is a month end, else the 12 calendar months before its month. With only `end` given, the 12 months
  (or 365 days) ending there; with only `start` given, from there to the as-of date.
- previous period: the same length just before (the same months a year earlier for whole months).
- "the last 4 quarters": four consecutive 3-month windows ending on the as-of date (calendar quarters
  when the as-of date is a quarter end); see `last_quarters`.

Filters (each a set of allowed values; empty = no filter; values combine with OR inside a filter
and with AND across filters)
- region and industry select customers through the `customers` table: with either set, only
  customers whose row matches are in scope (customers without a row in `customers` drop out);
- channel and sales rep select orders: every metric sees only the matching orders (so "first
  order", "orders to date" and revenue are counted within them). A customer is then in scope through
  its matching orders; prospects (customers without orders) are out of scope, and tickets and survey
  answers count only for customers with a matching order up to the as-of date.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb


@dataclass(frozen=True)
class Filters:
    """The optional filters (see the module docstring); an empty tuple means no filter."""
    regions: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    sales_reps: tuple[str, ...] = ()

    @property
    def on_customers(self) -> bool:
        return bool(self.regions or self.industries)

    @property
    def on_orders(self) -> bool:
        return bool(self.channels or self.sales_reps)


def month_end(d: date) -> date:
    """The last day of d's month."""
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def is_month_end(d: date) -> bool:
    """Whether d is the last day of its month."""
    return d == month_end(d)


def shift_months(d: date, months: int) -> date:
    """The same day `months` later (earlier when negative); month ends stay month ends."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    day = last if is_month_end(d) else min(d.day, last)
    return date(year, month + 1, day)


def month_ends(as_of: date, count: int) -> list[date]:
    """The last `count` month ends up to the as-of date (the as-of date itself when it is one), oldest first."""
    last = as_of if is_month_end(as_of) else month_end(shift_months(as_of, -1))
    return [month_end(shift_months(last, -k)) for k in reversed(range(count))]


@dataclass(frozen=True)
class Period:
    """A period (first and last day, inclusive), the as-of date the figures are computed at, and the filters."""
    start: date
    end: date
    as_of: date
    filters: Filters = field(default_factory=Filters)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def whole_months(self) -> bool:
        return self.start.day == 1 and is_month_end(self.end)

    def previous(self) -> "Period":
        """The period of the same length just before this one (same months when it spans whole months),
        as of its own last day (or this period's as-of date, when earlier)."""
        if self.whole_months:
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            start = shift_months(self.start, -months)
        else:
            start = self.start - timedelta(days=self.days)
        end = self.start - timedelta(days=1)
        return Period(start, end, min(end, self.as_of), self.filters)

    def months(self, count: int = 12) -> list["Period"]:
        """The last `count` calendar months up to the period's end (its month when the end is a month
        end, else the month before), each as of its last day: the periods of a 12-period trend. A month
        after this period's as-of date is as of that date instead: no order after it counts anywhere."""
        return [Period(end.replace(day=1), end, min(end, self.as_of), self.filters)
                for end in month_ends(self.end, count)]

    def params(self) -> dict:
        """Named SQL parameters shared by every metric query."""
        return {
            "start": self.start, "end": self.end, "as_of": self.as_of,
            "regions": list(self.filters.regions), "industries": list(self.filters.industries),
            "channels": list(self.filters.channels), "reps": list(self.filters.sales_reps),
        }


def last_quarters(as_of: date, count: int = 4) -> list[tuple[date, date]]:
    """`count` consecutive 3-month windows ending on the as-of date, oldest first, as (first, last) days.
    Each boundary is counted back from the as-of date itself, so the windows always touch."""
    ends = [shift_months(as_of, -3 * k) for k in range(count + 1)]          # ends[k]: k quarters back
    return [(ends[k + 1] + timedelta(days=1), ends[k]) for k in reversed(range(count))]


def latest_order_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest order date in the store (None when it holds no orders)."""
    return con.execute("SELECT max(order_date) FROM orders").fetchall()[0][0]


def resolve_period(latest: date | None, as_of: date | None = None, start: date | None = None,
                   end: date | None = None, filters: Filters | None = None) -> Period:
    """The period for the given choices, filling in the contract's defaults (see the module docstring)."""
    as_of = as_of or latest or date.today()
    if end is None:
        if start is not None:
            end = as_of
        else:
            end = as_of if is_month_end(as_of) else month_end(shift_months(as_of, -1))
    if start is None:
        start = shift_months(end, -12) + timedelta(days=1) if is_month_end(end) else end - timedelta(days=364)
    if start > end:
        raise ValueError(f"The period starts ({start}) after it ends ({end}).")
    return Period(start, end, as_of, filters or Filters())


def default_period(con: duckdb.DuckDBPyConnection, as_of: date | None = None, start: date | None = None,
                   end: date | None = None, filters: Filters | None = None) -> Period:
    """The period for the given choices, with the latest order date of the store as the default as-of."""
    return resolve_period(latest_order_date(con), as_of, start, end, filters)
