"""Tests and intervals for proportions and paired differences, on scipy and statsmodels.

Every function takes counts or per-item differences (not DataFrames) so that it can be
checked against hand-computed values (``tests/test_stats.py``). Edge cases return NaN or
a documented value, never an exception from deep inside scipy.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np

ALTERNATIVES = ("two-sided", "greater", "less")


def wilson(k, n, ci: float = 0.95):
    """Wilson score interval for k successes in n (arrays and fractional counts accepted).

    Fractional counts (soft VQA scores summed) make it an approximation; the callers say so.
    n = 0 gives NaN. The one implementation in the library (``metrics`` uses it).
    """
    from statsmodels.stats.proportion import proportion_confint

    k, n = np.asarray(k, float), np.asarray(n, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = proportion_confint(k, np.where(n > 0, n, np.nan), alpha=1 - ci, method="wilson")
    return lo, hi


def _check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")


def mcnemar_exact(b: int, c: int, alternative: str = "two-sided") -> float:
    """Exact McNemar test on the discordant counts: b = base right / aligned wrong, c = the reverse.

    ``greater``: the aligned model is better (c > b). No discordant pair (b + c = 0) gives
    p = 1: the data carry no evidence either way.
    """
    from scipy.stats import binomtest

    _check_alternative(alternative)
    b, c = int(b), int(c)
    if b + c == 0:
        return 1.0
    return float(binomtest(c, b + c, 0.5, alternative=alternative).pvalue)


def paired_counts(y_base, y_aligned) -> tuple[int, int, int, int]:
    """(n11, n10, n01, n00) of two binary outcome vectors on the same items; first index = base right."""
    yb, ya = np.asarray(y_base, bool), np.asarray(y_aligned, bool)
    if yb.shape != ya.shape:
        raise ValueError(f"paired outcomes need the same items: {yb.shape} vs {ya.shape}")
    return int((yb & ya).sum()), int((yb & ~ya).sum()), int((~yb & ya).sum()), int((~yb & ~ya).sum())


def paired_diff_ci(b: int, c: int, n: int, ci: float = 0.95) -> tuple[float, float, float]:
    """Difference of paired proportions (c - b) / n with its Wald interval (unreliable when b + c < 10)."""
    from scipy.stats import norm

    if n <= 0:
        return np.nan, np.nan, np.nan
    z = norm.ppf(1 - (1 - ci) / 2)
    d = (c - b) / n
    half = z * np.sqrt(max(b + c - (c - b) ** 2 / n, 0.0)) / n
    return d, d - half, d + half


def sign_flip(d: Sequence[float], n_resamples: int = 10000, seed: int = 0, alternative: str = "two-sided") -> float:
    """Sign-flip permutation test of mean(d) = 0 for paired differences d (soft scores allowed).

    Exact enumeration of all 2^k sign patterns when at most 20 differences are non-zero
    (zeros do not change under a flip); otherwise Monte Carlo with ``n_resamples`` and
    p = (1 + #{T* >= T}) / (1 + B). Statistic: |mean d| (two-sided), mean d (greater), -mean d (less).
    All differences zero, or no difference at all, gives p = 1.
    """
    _check_alternative(alternative)
    d = np.asarray(d, float)
    d = d[np.isfinite(d)]
    nz = d[d != 0]
    if nz.size == 0:
        return 1.0
    sign = {"two-sided": None, "greater": 1.0, "less": -1.0}[alternative]

    def stat(sums):
        return np.abs(sums) if sign is None else sign * sums

    observed = stat(nz.sum())
    tol = 1e-9 * max(1.0, np.abs(nz).sum())
    if nz.size <= 20:
        flips = np.array(list(itertools.product((1.0, -1.0), repeat=nz.size)))
        return float(np.mean(stat(flips @ nz) >= observed - tol))
    rng = np.random.default_rng(seed)
    flips = rng.choice((1.0, -1.0), size=(n_resamples, nz.size))
    return float((1 + np.sum(stat(flips @ nz) >= observed - tol)) / (1 + n_resamples))


def adjust(pvalues, method: str) -> np.ndarray:
    """Multiplicity-adjusted p-values: ``holm`` (family-wise) or ``fdr_bh`` (false discovery rate).

    The method is required: statsmodels' default (``hs``, Holm-Sidak) is a silent trap. NaN
    p-values (untestable cells) stay NaN and do not count in the family.
    """
    from statsmodels.stats.multitest import multipletests

    if method not in ("holm", "fdr_bh"):
        raise ValueError(f"method must be 'holm' or 'fdr_bh', got {method!r}")
    p = np.asarray(pvalues, float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method=method)[1]
    return out


def iut(p_low: float, p_high: float) -> float:
    """Intersection-union test of a reversal: both one-sided components must reject, so p = max."""
    return float(max(p_low, p_high))


def cochran_q(theta, se) -> tuple[float, float]:
    """Cochran's Q test of heterogeneity of G estimates with standard errors: (Q, p), df = G - 1.

    Estimates with a missing or zero SE are left out; fewer than two left gives (NaN, NaN).
    """
    from scipy.stats import chi2

    theta, se = np.asarray(theta, float), np.asarray(se, float)
    ok = np.isfinite(theta) & np.isfinite(se) & (se > 0)
    if ok.sum() < 2:
        return np.nan, np.nan
    w = 1 / se[ok] ** 2
    mean = np.sum(w * theta[ok]) / w.sum()
    q = float(np.sum(w * (theta[ok] - mean) ** 2))
    return q, float(chi2.sf(q, ok.sum() - 1))
