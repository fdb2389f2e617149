"""Power, sample size and minimum detectable effects for paired proportions and the severity reversal.

Closed forms where they exist (Connor's n for McNemar, Cohen's h via statsmodels for
independent samples, the exact McNemar power by summing over the discordant counts) and
a simulation where they do not (``power_reversal``: the difference-in-differences test
and the intersection-union test of the paper's defocus reversal, items correlated through a
latent probit with a random item intercept).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .tests import wilson


def _z(q: float) -> float:
    return float(stats.norm.ppf(q))


def connor_n(delta: float, psi: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Items needed for McNemar's test to detect a paired difference ``delta`` when a share ``psi``
    of items is discordant (Connor 1987). NaN when infeasible (delta > psi)."""
    if not 0 < delta <= psi:
        return np.nan
    za, zb = _z(1 - alpha / 2), _z(power)
    return (za * math.sqrt(psi) + zb * math.sqrt(psi - delta ** 2)) ** 2 / delta ** 2  # round up for a plan


def connor_mde(n: float, psi: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest paired difference detectable with n items (Connor's formula solved for delta);
    NaN when even delta = psi needs more than n items."""
    f = lambda d: connor_n(d, psi, alpha, power) - n  # noqa: E731 - decreasing in d
    if f(psi) > 0:
        return np.nan
    return float(optimize.brentq(f, 1e-6, psi))


def mcnemar_power_exact(n: int, delta: float, psi: float, alpha: float = 0.05) -> float:
    """Power of the two-sided exact McNemar test: the discordant count k ~ Bin(n, psi), and given k
    the aligned-better count c ~ Bin(k, (psi + delta) / (2 psi)); summed exactly over k and c."""
    if not 0 <= delta <= psi:
        return np.nan
    q = (psi + delta) / (2 * psi)
    power = 0.0
    for k in range(1, n + 1):
        c = np.arange(k + 1)
        lo = stats.binom.cdf(np.minimum(c, k - c), k, 0.5)
        reject = np.minimum(1.0, 2 * lo) <= alpha
        power += stats.binom.pmf(k, n, psi) * stats.binom.pmf(c[reject], k, q).sum()
    return float(power)


def min_significant_delta(n: int, alpha: float = 0.05) -> float:
    """The smallest paired difference the exact McNemar test can call significant at n items:
    every discordant item in one direction, k of them, with 2 x 0.5^k <= alpha."""
    k = math.ceil(math.log2(2 / alpha))
    return k / n if k <= n else np.nan


def independent_mde(n: int, alpha: float = 0.05, power: float = 0.8, p0: float = 0.5) -> float:
    """Minimum detectable difference of two independent proportions of n items each, from p0
    (Cohen's h through statsmodels' ``NormalIndPower``, inverted)."""
    from statsmodels.stats.power import NormalIndPower

    h = NormalIndPower().solve_power(nobs1=n, alpha=alpha, power=power, ratio=1.0)
    p1 = math.sin((2 * math.asin(math.sqrt(p0)) + h) / 2) ** 2
    return p1 - p0


def independent_power(n: int, delta: float, alpha: float = 0.05, p0: float = 0.5) -> float:
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = proportion_effectsize(p0 + delta, p0)
    return float(NormalIndPower().power(effect_size=h, nobs1=n, alpha=alpha, ratio=1.0))


def mde_table(ns=(10, 50, 500), psi: float = 0.2, delta: float = 0.1, alpha: float = 0.05,
              power: float = 0.8) -> pd.DataFrame:
    """What n items can and cannot show: the table of docs/methods.md section 6."""
    rows = []
    for n in ns:
        lo, hi = wilson(n / 2, n)
        rows.append({"n": n, "wilson_halfwidth_at_0.5": float((hi - lo) / 2),
                     "min_significant_paired_delta": min_significant_delta(n, alpha),
                     "mde_independent": independent_mde(n, alpha, power),
                     f"mde_paired_connor_psi{psi}": connor_mde(n, psi, alpha, power),
                     f"power_delta{delta}_independent": independent_power(n, delta, alpha),
                     f"power_delta{delta}_paired_exact_psi{psi}": mcnemar_power_exact(n, delta, psi, alpha)})
    return pd.DataFrame(rows)


def _latent_cells(p_cells, n: int, rho: float, reps: int, rng) -> np.ndarray:
    """Binary outcomes (reps, n, cells) with the given marginals, correlated within an item through a
    latent probit with a random intercept (latent correlation rho)."""
    sigma2 = rho / (1 - rho) if rho > 0 else 0.0
    mu = stats.norm.ppf(np.asarray(p_cells, float)) * math.sqrt(1 + sigma2)
    u = rng.normal(0, math.sqrt(sigma2), size=(reps, n, 1)) if sigma2 else 0.0
    return (mu + u + rng.normal(size=(reps, n, len(p_cells)))) > 0


def reversal_pvalues(p_cells, n: int, rho: float, reps: int, seed: int) -> dict:
    """Simulated p-values of the two tests of a reversal, cells ordered (B_low, A_low, B_high, A_high).

    ``did``: two-sided one-sample t-test of d_i = (A_low - B_low) - (A_high - B_high).
    ``iut``: max of the one-sided exact McNemar p-values (aligned better at low severity,
    worse at high severity).
    """
    rng = np.random.default_rng(seed)
    y = _latent_cells(p_cells, n, rho, reps, rng).astype(float)
    d = (y[..., 1] - y[..., 0]) - (y[..., 3] - y[..., 2])
    sd = d.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = d.mean(axis=1) / (sd / math.sqrt(n))
    p_did = np.where(sd > 0, 2 * stats.t.sf(np.abs(t), n - 1), np.where(d.mean(axis=1) != 0, 0.0, 1.0))

    def one_sided(better, worse):  # P(X >= better) with X ~ Bin(better + worse, 1/2)
        k = better + worse
        return np.where(k > 0, stats.binom.sf(better - 1, np.maximum(k, 1), 0.5), 1.0)

    c_lo = ((y[..., 1] == 1) & (y[..., 0] == 0)).sum(1)
    b_lo = ((y[..., 1] == 0) & (y[..., 0] == 1)).sum(1)
    c_hi = ((y[..., 3] == 1) & (y[..., 2] == 0)).sum(1)
    b_hi = ((y[..., 3] == 0) & (y[..., 2] == 1)).sum(1)
    p_iut = np.maximum(one_sided(c_lo, b_lo), one_sided(b_hi, c_hi))
    return {"did": p_did, "iut": p_iut}


def power_reversal(p_cells, n: int, rho: float = 0.0, alpha: float = 0.05, n_tests: int = 1, reps: int = 4000,
                   seed: int = 0) -> dict:
    """Power of both reversal tests at n items (Bonferroni over ``n_tests`` scanned corruptions)."""
    p = reversal_pvalues(p_cells, n, rho, reps, seed)
    return {k: float(np.mean(v <= alpha / n_tests)) for k, v in p.items()}


def n_for_power(p_cells, test: str, rho: float = 0.0, alpha: float = 0.05, n_tests: int = 1, target: float = 0.8,
                reps: int = 4000, seed: int = 0, n_max: int = 2000) -> int:
    """Smallest n (to within the simulation's noise) at which ``test`` ('did' or 'iut') reaches ``target`` power,
    by bisection on n with common random numbers (the same seed at every n)."""
    def power(n):
        return power_reversal(p_cells, n, rho, alpha, n_tests, reps, seed)[test]

    lo, hi = 5, 10
    while power(hi) < target:
        lo, hi = hi, hi * 2
        if hi > n_max:
            return -1
    while hi - lo > max(2, lo // 20):
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if power(mid) < target else (lo, mid)
    return hi
