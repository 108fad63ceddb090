"""Per customer, as of the as-of date: expected purchases in the next 12 months, the probability the
customer is still "alive", and a 12-month lifetime value, with the method that produced them.

Choices
- Purchases are purchase days: a customer's orders on one day are one purchase occasion (the models count
  occasions, and an order split over several lines or documents would otherwise look like several), and
  only days with positive net value count as purchases (a refund is not a purchase).
- Time runs in weeks (days / 7), as in the CDNOW data the models were published on: frequency = purchase
  days − 1, recency = weeks from the first to the last purchase day, T = weeks from the first purchase day
  to the as-of date, monetary = the mean net value of the repeat purchase days. 12 months = 365.25 days.
- Model: BG/NBD (expected purchases, P(alive)) and Gamma-Gamma (expected value of a purchase), fitted on
  every customer in scope (on a seeded sample of `FIT_CUSTOMERS` when there are more: the estimates are
  population figures, and the sample keeps the fit to seconds), then applied to every customer; 12-month CLV = expected purchases × expected value per purchase, undiscounted
  (a year is short enough for discounting not to change the order of customers).
- Guardrail: when either fit has a problem (`clv.bgnbd_problem`, `clv.gamma_gamma_problem`: too few repeat
  customers, no convergence, degenerate estimates), every customer gets the run-rate rule instead, and
  `reason` says why. Run-rate rule: the customer's net revenue per month over its active span (first
  order to the as-of date, at least one month) × 12, never below zero; expected purchases the same way
  from its purchase days; no P(alive). A single customer whose model value is not a finite non-negative
  number also gets the rule (and says so in its `method`), so no NaN or negative CLV leaves this module.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from ..period import Period
from . import clv
from ..metrics.scope import frame, records

WEEK_DAYS = 7.0
YEAR_DAYS = 365.25
MONTH_DAYS = YEAR_DAYS / 12
FIT_CUSTOMERS = 100_000   # the models are fitted on a seeded sample of this many customers when there are more
MODEL = "BG/NBD + Gamma-Gamma"
RUN_RATE = "run-rate rule"

CUSTOMER_FEATURES = """
purchase_days AS (  -- one row per customer and day with positive net value: a purchase occasion
    SELECT customer_id, order_date AS day, sum(amount) AS amount,  -- DECIMAL: exact, so the same every run
           min(order_date) OVER (PARTITION BY customer_id) AS first_day
    FROM orders_in_scope GROUP BY customer_id, order_date HAVING sum(amount) > 0
),
occasions AS (
    SELECT customer_id, count(*) - 1 AS frequency, date_diff('day', min(day), max(day)) / 7.0 AS recency,
           date_diff('day', min(day), $as_of) / 7.0 AS age, avg(amount) FILTER (WHERE day > first_day)::DOUBLE AS monetary,
           count(*) AS purchases
    FROM purchase_days GROUP BY customer_id
)
SELECT b.customer_id, coalesce(o.frequency, 0) AS frequency, coalesce(o.recency, 0) AS recency,
       coalesce(o.age, date_diff('day', b.first_order, $as_of) / 7.0) AS "T", o.monetary,
       coalesce(o.purchases, 0) AS purchases, b.revenue::DOUBLE AS revenue,
       date_diff('day', b.first_order, $as_of) + 1 AS span_days
FROM buyers b LEFT JOIN occasions o USING (customer_id)
ORDER BY b.customer_id
"""


def customer_features(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Per customer with an order in scope up to the as-of date: frequency, recency, T (weeks), monetary
    (mean repeat purchase), purchases, net revenue and the active span in days (see the module docstring)."""
    return frame(con, CUSTOMER_FEATURES, period)


@dataclass(frozen=True)
class ValueForecast:
    """Per-customer forecasts (`customers`), the method used for the whole base and why, and the fits."""
    customers: pd.DataFrame   # customer_id (ascending, as customer_features orders them), expected_purchases_12m, p_alive, clv_12m, method
    method: str
    reason: str | None        # why the run-rate rule was used; None when the models were
    bgnbd: clv.BgNbdFit | None
    gamma_gamma: clv.GammaGammaFit | None

    def caption(self) -> str:
        """One sentence for a page: which method, and why."""
        if self.reason:
            return (f"12-month value by the {RUN_RATE} (net revenue per month over each customer's active span "
                    f"× 12), because {self.reason}.")
        sample = " (a random sample)" if self.bgnbd.customers < len(self.customers) else ""
        return (f"12-month value by {MODEL} (expected purchases × expected value per purchase), fitted on "
                f"{self.bgnbd.customers:,} customers{sample}, {self.bgnbd.repeat_customers:,} of them repeat buyers.")


def run_rate(features: pd.DataFrame) -> pd.DataFrame:
    """The transparent fallback: 12 months of the customer's own monthly run-rate, never negative."""
    months = np.maximum(features["span_days"].to_numpy(float), MONTH_DAYS) / MONTH_DAYS
    return pd.DataFrame({
        "expected_purchases_12m": np.maximum(features["purchases"].to_numpy(float), 0) / months * 12,
        "p_alive": np.nan,
        "clv_12m": np.maximum(np.nan_to_num(features["revenue"].to_numpy(float)) / months * 12, 0.0),
    }, index=features.index)


def model_values(features: pd.DataFrame, bgnbd: clv.BgNbdFit, spend: clv.GammaGammaFit) -> pd.DataFrame:
    """Expected purchases, P(alive) and CLV over the next 12 months from the fitted models."""
    x, tx, T = features["frequency"], features["recency"], features["T"]
    purchases = clv.expected_purchases(bgnbd, YEAR_DAYS / WEEK_DAYS, x, tx, T)
    return pd.DataFrame({
        "expected_purchases_12m": purchases,
        "p_alive": clv.probability_alive(bgnbd, x, tx, T),
        "clv_12m": purchases * clv.expected_spend(spend, x, features["monetary"].to_numpy(float)),
    }, index=features.index)


def forecast_values(features: pd.DataFrame) -> ValueForecast:
    """Fit the models on the features and forecast every customer, falling back to the run-rate rule
    when a fit is not to be trusted (see the module docstring)."""
    fallback = run_rate(features)
    bgnbd = spend = None
    reason = "no customer has an order up to the as-of date" if features.empty else None
    sample = features.sample(FIT_CUSTOMERS, random_state=0) if len(features) > FIT_CUSTOMERS else features
    if reason is None:
        bgnbd = clv.fit_bgnbd(sample["frequency"], sample["recency"], sample["T"])
        reason = clv.bgnbd_problem(bgnbd)
    if reason is None:
        spend = clv.fit_gamma_gamma(sample["frequency"], sample["monetary"])
        reason = clv.gamma_gamma_problem(spend)
    if reason is not None:
        values, method = fallback, RUN_RATE
        methods = pd.Series(RUN_RATE, index=features.index)
    else:
        values, method = model_values(features, bgnbd, spend), MODEL
        usable = np.isfinite(values[["expected_purchases_12m", "clv_12m"]]).all(axis=1) & (
            values[["expected_purchases_12m", "clv_12m"]] >= 0).all(axis=1)
        values.loc[~usable] = fallback.loc[~usable]
        methods = pd.Series(np.where(usable, MODEL, RUN_RATE + " (the model's value was not a finite, "
                                                          "non-negative number)"), index=features.index)
    customers = pd.concat([features[["customer_id"]], values], axis=1).assign(method=methods)
    return ValueForecast(customers, method, reason, bgnbd, spend)


def customer_value(con: duckdb.DuckDBPyConnection, period: Period) -> ValueForecast:
    """Expected purchases, P(alive) and 12-month CLV of every customer in scope, as of the as-of date."""
    return forecast_values(customer_features(con, period))


def forecast_rows(forecast: ValueForecast, customer_ids) -> tuple[np.ndarray, np.ndarray]:
    """Where each of `customer_ids` sits in the forecast's customers, and whether it is there: a binary search
    in the ids (kept in ascending order), so a page of rows never hashes the 500k ids of a large base."""
    ids = forecast.customers["customer_id"].to_numpy()
    wanted = np.asarray(customer_ids, dtype=object)
    if not len(ids):
        return np.zeros(len(wanted), dtype=int), np.zeros(len(wanted), dtype=bool)
    rows = np.searchsorted(ids, wanted).clip(max=len(ids) - 1)
    return rows, ids[rows] == wanted


def with_value(customers: pd.DataFrame, forecast: ValueForecast) -> pd.DataFrame:
    """A customer table (with customer_id) plus its customers' expected purchases and 12-month CLV, rows kept."""
    rows, found = forecast_rows(forecast, customers["customer_id"])
    out = customers.copy()
    for column in ("expected_purchases_12m", "clv_12m"):
        out[column] = np.where(found, forecast.customers[column].to_numpy(float)[rows], np.nan)
    return out


def value_of(forecast: ValueForecast, customer_id: str) -> dict | None:
    """One customer's forecast as plain values (p_alive None under the run-rate rule); None for a
    customer without orders in scope."""
    rows, found = forecast_rows(forecast, [customer_id])
    return records(forecast.customers.iloc[rows[:1]])[0] if found[0] else None


def model_parameters(forecast: ValueForecast) -> pd.DataFrame:
    """The fitted parameters of each model that was fitted (also when a guardrail set it aside)."""
    rows = []
    for model, fit, names in (("BG/NBD (purchases)", forecast.bgnbd, ("r", "alpha", "a", "b")),
                              ("Gamma-Gamma (spend)", forecast.gamma_gamma, ("p", "q", "gamma"))):
        if fit is not None:
            rows += [{"model": model, "parameter": name, "value": float(getattr(fit, name))} for name in names]
            rows += [{"model": model, "parameter": "log-likelihood", "value": float(fit.log_likelihood)},
                     {"model": model, "parameter": "converged", "value": float(fit.converged)}]
    return pd.DataFrame(rows, columns=["model", "parameter", "value"])
