"""Lifetime-value models against the published CDNOW estimates and against simulation of the models'
own stories (independent of the closed-form expressions under test)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyalty.models.clv import (BgNbdFit, bgnbd_log_likelihood, bgnbd_problem, expected_purchases, expected_spend,
                                fit_bgnbd, fit_gamma_gamma, gamma_gamma_log_likelihood, gamma_gamma_problem,
                                probability_alive)

CDNOW = Path(__file__).resolve().parent.parent / "fixtures" / "cdnow_customers_summary.csv"
PUBLISHED = BgNbdFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-9582.4, converged=True,
                     customers=2357, repeat_customers=946)


@pytest.fixture(scope="module")
def cdnow():
    return pd.read_csv(CDNOW)


def test_bgnbd_reproduces_fader_hardie_lee_2005_on_cdnow(cdnow):
    fit = fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert fit.converged and fit.customers == 2357 and fit.repeat_customers == 946
    assert (round(fit.r, 3), round(fit.alpha, 3), round(fit.a, 3), round(fit.b, 3)) == (0.243, 4.414, 0.793, 2.426)
    assert round(fit.log_likelihood, 1) == -9582.4
    assert bgnbd_problem(fit) is None


def test_bgnbd_likelihood_at_the_published_estimates(cdnow):
    ll = bgnbd_log_likelihood((0.243, 4.414, 0.793, 2.426), cdnow["frequency"], cdnow["recency"], cdnow["T"]).sum()
    assert ll == pytest.approx(-9582.4, abs=0.1)   # the rounded estimates sit on the published optimum


def simulate_purchases(r, alpha, a, b, t, n, rng):
    """BG/NBD's story: rate ~ Gamma(r, alpha), dropout p ~ Beta(a, b); purchases in (0, t] are Poisson
    events, and after each one the customer leaves with probability p (it counts, the next ones do not)."""
    rate = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    events = rng.poisson(rate * t)
    last_purchase_before_leaving = rng.geometric(p)
    return np.minimum(events, last_purchase_before_leaving)


def test_expected_purchases_of_a_new_customer_match_simulation():
    rng = np.random.default_rng(5)
    simulated = simulate_purchases(PUBLISHED.r, PUBLISHED.alpha, PUBLISHED.a, PUBLISHED.b, t=39, n=400_000, rng=rng)
    formula = expected_purchases(PUBLISHED, 39, 0, 0, 0)
    assert formula == pytest.approx(simulated.mean(), abs=0.03)


def test_p_alive_and_expected_purchases_follow_the_customers_history():
    # same age and frequency; the one whose last purchase is old is less likely alive and buys less
    recent, old = probability_alive(PUBLISHED, [5, 5], [38, 5], [39, 39])
    assert 0 < old < recent < 1
    assert probability_alive(PUBLISHED, 0, 0, 39) == 1.0       # BG/NBD: no repeat purchase, no chance to leave
    purchases = expected_purchases(PUBLISHED, 52, [5, 5, 0], [38, 5, 0], [39, 39, 39])
    assert purchases[0] > purchases[1] > 0 and purchases[2] > 0


def simulate_spend(p, q, gamma, customers, rng):
    """Gamma-Gamma's story: nu ~ Gamma(q, rate gamma); each purchase ~ Gamma(p, rate nu)."""
    x = rng.integers(1, 12, customers)
    nu = rng.gamma(q, 1 / gamma, customers)
    spend = [rng.gamma(p, 1 / n, k).mean() for n, k in zip(nu, x)]
    return x, np.array(spend)


def test_gamma_gamma_recovers_simulated_parameters():
    rng = np.random.default_rng(3)
    truth = (6.25, 3.74, 15.44)    # the published CDNOW spend estimates, used here as the simulation's truth
    x, m = simulate_spend(*truth, customers=6000, rng=rng)
    fit = fit_gamma_gamma(x, m)
    assert fit.converged and fit.customers == 6000 and gamma_gamma_problem(fit) is None
    assert fit.log_likelihood >= gamma_gamma_log_likelihood(truth, x, m).sum()
    assert fit.p == pytest.approx(truth[0], rel=0.2)
    assert fit.q == pytest.approx(truth[1], rel=0.2)
    # the population mean of one purchase, p·gamma/(q-1), is what a customer without history is expected to spend
    assert expected_spend(fit, 0, np.nan) == pytest.approx(truth[0] * truth[2] / (truth[1] - 1), rel=0.05)
    # a long history pulls the expectation to the customer's own mean
    assert expected_spend(fit, 1000, 80.0) == pytest.approx(80.0, rel=0.01)
