"""Customer lifetime value: BG/NBD for how many purchases a customer will make and whether it is still
"alive", Gamma-Gamma for how much it spends per purchase, both fitted by maximum likelihood with scipy.

References: Fader, Hardie and Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
Pareto/NBD Model", Marketing Science 24(2) (BG/NBD: likelihood, conditional expectation, P(alive));
Fader, Hardie and Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", Journal
of Marketing Research 42(4) (Gamma-Gamma spend model).

Inputs per customer (the models' own convention; `loyalty.models.customer_value` derives them from orders):
- frequency x: repeat purchases (purchase occasions after the first);
- recency t_x: time from the first to the last purchase; T: time from the first purchase to the as-of date;
- monetary m_x: the mean value of the repeat purchases (customers with x ≥ 1 only).
Time is in any one unit (CDNOW is in weeks; our orders are turned into weeks too, see `WEEK_DAYS`).

The fits work on log parameters with L-BFGS-B (gammaln and betaln keep the likelihood well
conditioned), and report whether the optimiser converged; `bgnbd_problem` / `gamma_gamma_problem` say in
one sentence why a fit must not be used (too few repeat customers, no convergence, degenerate estimates).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

MIN_REPEAT_CUSTOMERS = 300   # below this, the models are not fitted: too little to learn dropout and spend from
PARAMETER_RANGE = (1e-4, 1e4)  # an estimate outside is degenerate (the optimiser ran off to a boundary)


@dataclass(frozen=True)
class BgNbdFit:
    """BG/NBD estimates: purchase rate ~ Gamma(r, alpha), dropout probability ~ Beta(a, b)."""
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    converged: bool
    customers: int
    repeat_customers: int


@dataclass(frozen=True)
class GammaGammaFit:
    """Gamma-Gamma estimates: spend per purchase ~ Gamma(p, nu), nu ~ Gamma(q, gamma)."""
    p: float
    q: float
    gamma: float
    log_likelihood: float
    converged: bool
    customers: int


def _arrays(*columns) -> list[np.ndarray]:
    return [np.asarray(c, dtype=float) for c in columns]


def bgnbd_log_likelihood(params, frequency, recency, T) -> np.ndarray:
    """Per customer, the BG/NBD log-likelihood of (x, t_x, T) under (r, alpha, a, b)."""
    r, alpha, a, b = params
    x, tx, T = _arrays(frequency, recency, T)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    beta_ratio = betaln(a, b + x) - betaln(a, b)
    still_alive = beta_ratio - (r + x) * np.log(alpha + T)
    repeat = x > 0
    dropped = np.full_like(x, -np.inf)
    dropped[repeat] = (betaln(a + 1, b + x[repeat] - 1) - betaln(a, b)
                       - (r + x[repeat]) * np.log(alpha + tx[repeat]))
    return common + np.logaddexp(still_alive, dropped)


def _fit(negative_ll, start: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """Minimise a negative log-likelihood over log parameters; (parameters, log-likelihood, converged)."""
    bounds = [tuple(np.log(PARAMETER_RANGE))] * len(start)
    result = minimize(negative_ll, start, method="L-BFGS-B", bounds=bounds,
                      options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 2000})
    params = np.exp(result.x)
    ll = -float(result.fun)
    return params, ll, bool(result.success and np.isfinite(ll))


def fit_bgnbd(frequency, recency, T) -> BgNbdFit:
    """Maximum-likelihood BG/NBD fit on repeat purchases, recency and age (all in one time unit)."""
    x, tx, T = _arrays(frequency, recency, T)
    scale = max(float(np.mean(T)), 1e-9)   # start alpha near the typical age, the rest at 1

    def negative_ll(log_params):
        return -float(np.sum(bgnbd_log_likelihood(np.exp(log_params), x, tx, T)))

    params, ll, converged = _fit(negative_ll, np.log([1.0, scale, 1.0, 1.0]))
    r, alpha, a, b = map(float, params)
    return BgNbdFit(r, alpha, a, b, ll, converged, len(x), int(np.sum(x > 0)))


def probability_alive(fit: BgNbdFit, frequency, recency, T) -> np.ndarray:
    """P(the customer has not dropped out at T | x, t_x, T); 1 for customers with no repeat purchase."""
    x, tx, T = _arrays(frequency, recency, T)
    log_odds = (np.log(fit.a) - np.log(np.maximum(fit.b + x - 1, 1e-300))
                + (fit.r + x) * (np.log(fit.alpha + T) - np.log(fit.alpha + tx)))
    return np.where(x > 0, 1.0 / (1.0 + np.exp(np.minimum(log_odds, 700))), 1.0)


def expected_purchases(fit: BgNbdFit, t: float, frequency, recency, T) -> np.ndarray:
    """Expected purchases in the next `t` time units for a customer with (x, t_x, T) (FHL 2005, eq. 10)."""
    x, tx, T = _arrays(frequency, recency, T)
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = t / (alpha + T + t)
    decay = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    numerator = (a + b + x - 1) / (a - 1) * (1 - decay * hyp2f1(r + x, b + x, a + b + x - 1, z))
    dropout_odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300)
                            * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + tx))), 0.0)
    return numerator / (1 + dropout_odds)


def gamma_gamma_log_likelihood(params, frequency, monetary) -> np.ndarray:
    """Per repeat customer, the Gamma-Gamma log-likelihood of its mean spend m_x over x purchases."""
    p, q, gamma = params
    x, m = _arrays(frequency, monetary)
    return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(gamma)
            + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(gamma + m * x))


def fit_gamma_gamma(frequency, monetary) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit on repeat customers (x ≥ 1, m_x > 0; other rows are ignored)."""
    x, m = _arrays(frequency, monetary)
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    x, m = x[keep], m[keep]
    start = np.log([1.0, 2.0, max(float(np.mean(m)) if len(m) else 1.0, 1e-9)])

    def negative_ll(log_params):
        return -float(np.sum(gamma_gamma_log_likelihood(np.exp(log_params), x, m)))

    if not len(x):
        return GammaGammaFit(np.nan, np.nan, np.nan, np.nan, False, 0)
    params, ll, converged = _fit(negative_ll, start)
    p, q, gamma = map(float, params)
    return GammaGammaFit(p, q, gamma, ll, converged, len(x))


def expected_spend(fit: GammaGammaFit, frequency, monetary) -> np.ndarray:
    """Expected value of a future purchase given x repeat purchases of mean m_x (the population mean
    p·gamma/(q − 1) for customers without repeat purchases)."""
    x, m = _arrays(frequency, monetary)
    m = np.where(x > 0, np.nan_to_num(m), 0.0)
    return fit.p * (fit.gamma + m * x) / (fit.p * x + fit.q - 1)


def _degenerate(model: str, values: dict[str, float]) -> str | None:
    low, high = PARAMETER_RANGE
    for name, value in values.items():
        if not np.isfinite(value) or not low * 1.01 < value < high / 1.01:
            return f"the {model}'s estimate of {name} ({value:.3g}) is degenerate (at the edge of what the model allows)"
    return None


def bgnbd_problem(fit: BgNbdFit) -> str | None:
    """Why this BG/NBD fit must not be used, as one sentence; None when it can be."""
    if fit.repeat_customers < MIN_REPEAT_CUSTOMERS:
        return (f"only {fit.repeat_customers:,} customers have bought more than once "
                f"(the model needs at least {MIN_REPEAT_CUSTOMERS:,})")
    if not fit.converged:
        return "the purchase model's fit did not converge"
    return _degenerate("purchase model", {"r": fit.r, "alpha": fit.alpha, "a": fit.a, "b": fit.b})


def gamma_gamma_problem(fit: GammaGammaFit) -> str | None:
    """Why this Gamma-Gamma fit must not be used, as one sentence; None when it can be."""
    if fit.customers < MIN_REPEAT_CUSTOMERS:
        return (f"only {fit.customers:,} customers have a repeat purchase of positive value "
                f"(the spend model needs at least {MIN_REPEAT_CUSTOMERS:,})")
    if not fit.converged:
        return "the spend model's fit did not converge"
    if fit.q <= 1:
        return f"the spend model's q ({fit.q:.3g}) is 1 or less, so its expected spend is unbounded"
    return _degenerate("spend model", {"p": fit.p, "q": fit.q, "gamma": fit.gamma})
