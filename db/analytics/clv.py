"""Customer lifetime value: BG/NBD for how many purchases, Gamma-Gamma for how much each one brings.

Models and the formulas used, so that a reader can check them against the papers:

- BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way". A client with x repeat
  purchases, the last at t_x, observed for T, has the likelihood A1*A2*(A3 + [x>0]*A4) (their eq. 6).
  The sum A3 + A4 is the term that overflows for heavy buyers (Hardie's note 027); it is evaluated here
  as logsumexp(ln A3, ln A4), so no power is ever taken outside log space.
- Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma model of monetary value" (note 025), fitted on
  the clients with at least one repeat purchase and a positive mean order value.

Refunds and Gamma-Gamma. The model describes the values of transactions, each positive and drawn from the
client's own gamma distribution; a refund is no such transaction. Fed a client's net mean ((purchases −
refunds) / purchases), the fit sees values pulled towards 0 by events it has no term for: on simulated
populations with 15-27 % of the amount refunded (p = 6, q = 4, gamma = 15), p came out at 0.7-4 and the mean
order value 10-25 % low, and a fit that ends at q <= 1 has no mean order value at all (the dashboard then says
the lifetime value is not reliable). So, as the literature fits it (Fader & Hardie's note; the
`lifetimes` documentation), the fit takes the positive purchases only: x = a repeat buyer's number of
purchases and m = their mean amount (gamma_gamma_input). Refunds come back as the client's expected net
share of what they will buy: 1 − their refund ratio (refunds / purchases, by amount), shrunk towards the
shop's ratio as if the shop's history were REFUND_PRIOR_PURCHASES more of the client's purchases
(refund_ratio). The expected value of a future order is E[M | x, m] × that share (expected_net_order_value;
EXPECTED_NET_ORDER_VALUE_SQL is the same formula for the refresh). tests/test_clv.py recovers p, q and gamma of
a simulated population with 25 % refunds, and checks the expected net values against the simulated truth.

Time unit: days. With weeks, r, a, b, p, q and gamma are unchanged and alpha is divided by 7 (alpha is
the scale of the purchase-rate distribution, in time units); tests/test_clv.py measures this on CDNOW:
the day fit gives alpha = 7 x the week fit to 4 significant digits and the same r, a, b.

Both fits maximise the likelihood over DISTINCT inputs weighted by how many clients share them: the same
likelihood as one row per client, and on a base where most clients share (x=0, t_x=0, T) it has far
fewer terms. Scoring needs one row per distinct (x, t_x, T) too, so it never grows with the number of
clients more than the data does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from db.i18n import N_

# Below these the fit is noise: the parameters wander by tens of percent between samples.
MIN_BUYERS = 500
MIN_HISTORY_DAYS = 180
MIN_REPEAT_BUYERS = 50

DEFAULT_HORIZON_DAYS = 365
SCORING_BATCH = 200_000

# Log-parameter box for L-BFGS-B: e^-12 .. e^12 covers every fit seen in the literature many times
# over, and keeps exp() of a wild step finite.
_LOG_BOUND = 12.0
# Gradient of the mean negative log-likelihood (per client) below which the fit has nowhere left to go.
_FLAT_GRADIENT = 1e-6


class NotReliable(Exception):
    """Too little data (or a fit that did not converge) to show CLV numbers; `reason` says which."""

    def __init__(self, reason: str, **values: object) -> None:
        self.reason = reason
        self.values = values
        super().__init__(f"{reason}: {values}" if values else reason)


@dataclass(frozen=True, slots=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True, slots=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float


@dataclass(frozen=True, slots=True)
class BgNbdScores:
    expected_purchases: np.ndarray
    p_alive: np.ndarray


def distinct_weighted(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of the given columns and how many times each occurs."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)


# ---------------------------------------------------------------------------------------------- BG/NBD


@dataclass(frozen=True)
class _Inputs:
    """Rows of (x, t_x, T, weight), plus the distinct x and their summed weights: the gamma-function terms
    depend on x alone, so they are evaluated once per distinct x (a few hundred) instead of once per row
    (hundreds of thousands), which is most of the cost of one likelihood evaluation."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    weights: np.ndarray
    distinct_x: np.ndarray
    x_weights: np.ndarray
    repeat: np.ndarray
    total: float

    @classmethod
    def of(cls, x, t_x, T, weights) -> "_Inputs":
        x, t_x, T, weights = (np.asarray(v, dtype=float) for v in (x, t_x, T, weights))
        distinct_x, index = np.unique(x, return_inverse=True)
        return cls(x, t_x, T, weights, distinct_x, np.bincount(index, weights=weights), x > 0, float(weights.sum()))


def _bgnbd_nll(log_params: np.ndarray, data: _Inputs) -> tuple[float, np.ndarray]:
    r, alpha, a, b = np.exp(log_params)
    x, ux, uw = data.x, data.distinct_x, data.x_weights
    # Per distinct x: ln A1 + ln A2 and their derivatives.
    ln_a12 = (special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha) + special.gammaln(a + b)
              + special.gammaln(b + ux) - special.gammaln(b) - special.gammaln(a + b + ux))
    d_r_x = special.digamma(r + ux) - special.digamma(r) + np.log(alpha)
    d_a_x = special.digamma(a + b) - special.digamma(a + b + ux)
    d_b_x = special.digamma(a + b) + special.digamma(b + ux) - special.digamma(b) - special.digamma(a + b + ux)
    # Per row: ln(A3 + A4) by logsumexp (Hardie's note 027); for x = 0 the A4 term is absent (-inf).
    log_age = np.log(alpha + data.T)
    log_recency = np.log(alpha + data.t_x)
    b_x_1 = np.where(data.repeat, b + x - 1.0, 1.0)
    ln_a3 = -(r + x) * log_age
    ln_a4 = np.where(data.repeat, np.log(a) - np.log(b_x_1) - (r + x) * log_recency, -np.inf)
    ln_sum = np.logaddexp(ln_a3, ln_a4)
    w3 = np.exp(ln_a3 - ln_sum)
    w4 = np.exp(ln_a4 - ln_sum)
    weights = data.weights
    ll = float(np.dot(uw, ln_a12) + np.dot(weights, ln_sum))
    grad = np.array([
        (np.dot(uw, d_r_x) - np.dot(weights, w3 * log_age + w4 * log_recency)) * r,
        (r / alpha * data.total - np.dot(weights, (r + x) * (w3 / (alpha + data.T) + w4 / (alpha + data.t_x))))
        * alpha,
        (np.dot(uw, d_a_x) + np.dot(weights, w4) / a) * a,
        (np.dot(uw, d_b_x) - np.dot(weights, w4 / b_x_1)) * b,
    ])
    return -ll / data.total, -grad / data.total


def bgnbd_negative_log_likelihood(
    log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood per client and its gradient with respect to the log-parameters."""
    return _bgnbd_nll(log_params, _Inputs.of(x, t_x, T, weights))


def _check_converged(result: optimize.OptimizeResult, model: str) -> None:
    """L-BFGS-B's "abnormal termination in line search" at a point where the gradient is already nil is the
    optimum reached to the precision of the sums (seen when a -> 0, no client seems to leave, or p -> inf,
    every client's orders of one value: limits that still score sensibly); anything else is a failure."""
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise NotReliable(N_("Lifetime value is not reliable: "
                             "the {model} model did not fit these data."), model=model, message=str(result.message))
    if not result.success and not (result.status == 2 and np.max(np.abs(result.jac)) <= _FLAT_GRADIENT):
        raise NotReliable(N_("Lifetime value is not reliable: "
                             "the {model} model did not fit these data."), model=model, message=str(result.message))


def fit_bgnbd(
    frequency: np.ndarray, recency: np.ndarray, age: np.ndarray, weights: np.ndarray | None = None,
    near: BgNbdParams | None = None,
) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters; frequency = repeat purchases, recency = t_x, age = T.

    `near`: parameters expected to be close (the previous refresh's), where the search starts; the optimum
    is the same, reached in fewer steps."""
    x = np.asarray(frequency, dtype=float)
    t_x = np.asarray(recency, dtype=float)
    T = np.asarray(age, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    # alpha is a time scale: starting it at the mean age keeps the first steps sensible in days or weeks.
    start = np.log([1.0, max(float(np.average(T, weights=w)), 1.0), 1.0, 1.0])
    previous = (near.r, near.alpha, near.a, near.b) if near is not None else ()
    if previous and all(math.isfinite(v) and math.exp(-_LOG_BOUND) < v < math.exp(_LOG_BOUND) for v in previous):
        start = np.log(previous)
    result = optimize.minimize(
        _bgnbd_nll, start, args=(_Inputs.of(x, t_x, T, w),), jac=True, method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 4, options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9},
    )
    _check_converged(result, "BG/NBD")
    return BgNbdParams(*map(float, np.exp(result.x)))


def _log_odds_dead(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """ln of [x>0] * a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x): the odds that the client has left."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    denominator = np.where(repeat, b + x - 1.0, 1.0)
    value = np.log(a) - np.log(denominator) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, value, -np.inf)


def _hyp2f1_tail(params: BgNbdParams, x: np.ndarray, T: np.ndarray, horizon: float) -> np.ndarray:
    """((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t)), the paper's eq. 10 term.

    scipy's hyp2f1 returns inf or nan when r+x and b+x are large and z is near 1 (a long horizon for a
    heavy buyer). The Pfaff transformation gives the same product as 2F1(r+x, a-1; a+b+x-1; -t/(alpha+T))
    with no power in front and a small second parameter; it is used where the direct form fails.
    Where both fail the result is nan, and the caller leaves that client's number empty.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    c = a + b + x - 1.0
    z = horizon / (alpha + T + horizon)
    with np.errstate(all="ignore"):
        direct = np.exp((r + x) * np.log1p(-z)) * special.hyp2f1(r + x, b + x, c, z)
        bad = ~np.isfinite(direct)
        if np.any(bad):
            pfaff = special.hyp2f1((r + x)[bad], a - 1.0, c[bad], -horizon / (alpha + T[bad]))
            direct[bad] = np.where(np.isfinite(pfaff), pfaff, np.nan)
    return direct


def score_bgnbd(
    params: BgNbdParams, frequency, recency, age, horizon: float = DEFAULT_HORIZON_DAYS,
    batch_size: int = SCORING_BATCH,
) -> BgNbdScores:
    """Expected purchases over `horizon` and P(alive) per row, computed in batches of `batch_size`."""
    x_all = np.asarray(frequency, dtype=float)
    t_all = np.asarray(recency, dtype=float)
    T_all = np.asarray(age, dtype=float)
    expected = np.empty_like(x_all)
    alive = np.empty_like(x_all)
    for start in range(0, len(x_all), batch_size):
        part = slice(start, start + batch_size)
        x, t_x, T = x_all[part], t_all[part], T_all[part]
        log_odds = _log_odds_dead(params, x, t_x, T)
        p_alive = special.expit(-log_odds)
        tail = _hyp2f1_tail(params, x, T, horizon)
        front = (params.a + params.b + x - 1.0) / (params.a - 1.0)
        expected[part] = front * (1.0 - tail) * p_alive
        alive[part] = p_alive
    return BgNbdScores(expected_purchases=expected, p_alive=alive)


# ----------------------------------------------------------------------------------------- Gamma-Gamma


def _gamma_gamma_nll(log_params: np.ndarray, data: _Inputs) -> tuple[float, np.ndarray]:
    """Here `t_x` of the inputs carries the mean order value m; the gamma terms again go per distinct x."""
    p, q, gamma = np.exp(log_params)
    x, m, ux, uw, weights = data.x, data.t_x, data.distinct_x, data.x_weights, data.weights
    pux = p * ux
    ln_x = (special.gammaln(pux + q) - special.gammaln(pux) - special.gammaln(q) + q * np.log(gamma)
            + pux * np.log(ux))
    d_p_x = ux * (special.digamma(pux + q) - special.digamma(pux) + np.log(ux))
    d_q_x = special.digamma(pux + q) - special.digamma(q) + np.log(gamma)
    px = p * x
    ln_total = np.log(gamma + m * x)
    ln_m = np.log(m)
    ll = float(np.dot(uw, ln_x) + np.dot(weights, (px - 1.0) * ln_m - (px + q) * ln_total))
    grad = np.array([
        (np.dot(uw, d_p_x) + np.dot(weights, x * (ln_m - ln_total))) * p,
        (np.dot(uw, d_q_x) - np.dot(weights, ln_total)) * q,
        (q / gamma * data.total - np.dot(weights, (px + q) / (gamma + m * x))) * gamma,
    ])
    return -ll / data.total, -grad / data.total


def gamma_gamma_negative_log_likelihood(
    log_params: np.ndarray, x: np.ndarray, m: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood per repeat buyer and its gradient with respect to the log-parameters."""
    return _gamma_gamma_nll(log_params, _Inputs.of(x, m, np.zeros_like(x), weights))


def fit_gamma_gamma(frequency, mean_value, weights=None) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters from repeat buyers' purchase counts and mean values."""
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(mean_value, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    usable = (x > 0) & (m > 0)
    x, m, w = x[usable], m[usable], w[usable]
    if len(x) == 0:
        raise NotReliable(N_("Lifetime value is not reliable "
                             "yet: {count} repeat buyers, {minimum} are needed."), count=0, minimum=MIN_REPEAT_BUYERS)
    start = np.log([1.0, 1.0, max(float(np.average(m, weights=w)), 1.0)])
    result = optimize.minimize(
        _gamma_gamma_nll, start, args=(_Inputs.of(x, m, np.zeros_like(x), w),), jac=True, method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 3, options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9},
    )
    _check_converged(result, "Gamma-Gamma")
    params = GammaGammaParams(*map(float, np.exp(result.x)))
    if params.q <= 1.0:
        # The population mean order value p*gamma/(q-1) does not exist for q <= 1.
        raise NotReliable(N_("Lifetime value is not reliable: "
                             "the {model} model did not fit these data."), model="Gamma-Gamma", message="q <= 1")
    return params


def expected_order_value(params: GammaGammaParams, frequency, mean_value) -> np.ndarray:
    """E[M | x, m_x] = (gamma + m_x x) p / (p x + q - 1); x = 0 gives the population mean."""
    x = np.asarray(frequency, dtype=float)
    m = np.where(x > 0, np.asarray(mean_value, dtype=float), 0.0)
    return (params.gamma + m * x) * params.p / (params.p * x + params.q - 1.0)


# ----------------------------------------------------------------------------------------- whole model


def check_enough_data(frequency, age, weights=None) -> None:
    """Raise NotReliable when there are too few buyers, repeat buyers or days of history for a fit."""
    x = np.asarray(frequency, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    buyers = float(w.sum())
    repeat = float(w[x > 0].sum())
    history = float(np.max(age)) if len(x) else 0.0
    if buyers < MIN_BUYERS:
        raise NotReliable(N_("Lifetime value is not reliable yet: "
                             "{count} buyers, at least {minimum} are needed."), count=int(buyers), minimum=MIN_BUYERS)
    if history < MIN_HISTORY_DAYS:
        raise NotReliable(N_("Lifetime value is not reliable yet: {days} "
                             "days of history, {minimum} are needed."), days=int(history), minimum=MIN_HISTORY_DAYS)
    if repeat < MIN_REPEAT_BUYERS:
        raise NotReliable(N_("Lifetime value is not reliable yet: {count} "
                             "repeat buyers, {minimum} are needed."), count=int(repeat), minimum=MIN_REPEAT_BUYERS)


# ------------------------------------------------------------------------------------------ refunds

# The weight of the shop's refund ratio in a client's, in purchases: a client with one refund in two purchases
# is not expected to return half of everything from now on, one with one refund in forty is nearly their own.
REFUND_PRIOR_PURCHASES = 2.0


def gamma_gamma_input(purchases, gross, weights=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Gamma-Gamma fit's rows from each client's number of purchases (positive amounts) and their sum:
    the repeat buyers only, x = the number of purchases the mean is taken over, m = that mean. Refunds are
    left out: they are not transactions of the model, and come back through refund_ratio."""
    f = np.asarray(purchases, dtype=float)
    total = np.asarray(gross, dtype=float)
    w = np.ones_like(f) if weights is None else np.asarray(weights, dtype=float)
    repeat = (f > 1) & (total > 0)
    return f[repeat], total[repeat] / f[repeat], w[repeat]


def shop_refund_ratio(gross, net, weights=None) -> float:
    """Refunds over purchases, by amount, over all the clients given (0 without purchases)."""
    total = np.asarray(gross, dtype=float)
    refunds = np.maximum(total - np.asarray(net, dtype=float), 0.0)
    w = np.ones_like(total) if weights is None else np.asarray(weights, dtype=float)
    bought = float(np.dot(w, total))
    return min(float(np.dot(w, refunds)) / bought, 1.0) if bought > 0 else 0.0


def refund_ratio(purchases, gross, net, shop_ratio: float) -> np.ndarray:
    """Each client's expected share of refunds: their own ratio (refunds / purchases by amount, at most 1)
    weighted by their number of purchases, and the shop's weighted by REFUND_PRIOR_PURCHASES."""
    f = np.asarray(purchases, dtype=float)
    total = np.asarray(gross, dtype=float)
    refunds = np.maximum(total - np.asarray(net, dtype=float), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        own = np.where(total > 0, np.minimum(refunds / np.where(total > 0, total, 1.0), 1.0), 0.0)
    return (f * own + REFUND_PRIOR_PURCHASES * shop_ratio) / (f + REFUND_PRIOR_PURCHASES)


def expected_net_order_value(params: GammaGammaParams, purchases, gross, net, shop_ratio: float) -> np.ndarray:
    """E[M | x, m] of the purchases alone (x = purchases, m = gross / purchases; none: the population mean)
    times the client's expected net share, 1 − refund_ratio."""
    f = np.asarray(purchases, dtype=float)
    total = np.asarray(gross, dtype=float)
    mean = np.where(f > 0, total / np.where(f > 0, f, 1.0), 0.0)
    return expected_order_value(params, f, mean) * (1.0 - refund_ratio(f, total, net, shop_ratio))


# The same formulas for the refresh, over the summary's columns f (purchases), gross (their sum) and m (the net
# amount, refunds included). Parameters: p, q, gamma and shop_refund_ratio. tests/test_clv.py checks each
# against its Python twin above.
EXPECTED_NET_ORDER_VALUE_SQL = (
    "(%(gamma)s + gross) * %(p)s / (%(p)s * f + %(q)s - 1)"
    " * (1 - (f * least(greatest(gross - m, 0) / nullif(gross, 0), 1) + {prior} * %(shop_refund_ratio)s)"
    " / (f + {prior}))").format(prior=REFUND_PRIOR_PURCHASES)
ORDER_VALUES_SQL = ("SELECT f, round(gross / f, 2), count(*) FROM analytics_summary WHERE f > 1 AND gross > 0"
                    " GROUP BY 1, 2")
SHOP_REFUND_RATIO_SQL = ("SELECT coalesce(least(sum(greatest(gross - m, 0)) / nullif(sum(gross), 0), 1), 0)::float8"
                         " FROM analytics_summary")
