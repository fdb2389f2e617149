"""The paired item bootstrap: resample items with replacement, the same items for every model and condition."""

from __future__ import annotations

from typing import Callable

import numpy as np


def resample_indices(n_items: int, n_resamples: int, rng) -> np.ndarray:
    """The one way items are resampled: (n_resamples, n_items) indices drawn with replacement.
    ``rng`` is a seed or a ``numpy.random.Generator`` (whose stream then continues: several strata can
    draw from one generator in turn). Every item bootstrap of the compendium draws through here, and
    reads its interval with ``percentile_interval``."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return rng.integers(0, n_items, size=(n_resamples, n_items))


def percentile_interval(boot, ci: float = 0.95, axis=None) -> tuple:
    """The percentile interval of bootstrap values (NaN where no resample is finite), the one rule every
    item bootstrap reads its interval with; along ``axis`` for a matrix of statistics."""
    b = np.asarray(boot, float)
    a = (1 - ci) / 2
    if axis is None:
        finite = b[np.isfinite(b)]
        return tuple(float(v) for v in np.quantile(finite, [a, 1 - a])) if finite.size else (np.nan, np.nan)
    import warnings

    with warnings.catch_warnings():  # an all-NaN column gives NaN, said so by share_undefined
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanquantile(b, [a, 1 - a], axis=axis)
    return lo, hi


def item_bootstrap(statistic: Callable[[np.ndarray], np.ndarray], n_items: int, n_resamples: int, seed: int,
                   ci: float = 0.95) -> dict:
    """Percentile interval of a statistic of the items.

    ``statistic(idx)`` takes an index array of shape (B, n) (or (n,) for the point estimate)
    and returns one value per row: vectorised, so 2,000 resamples cost one numpy call.
    ``share_undefined``: the share of resamples whose value is not finite (always reported).
    """
    point = float(statistic(np.arange(n_items)))
    boot = np.asarray(statistic(resample_indices(n_items, n_resamples, seed)), float)
    finite = np.isfinite(boot)
    lo, hi = percentile_interval(boot, ci)
    return {"estimate": point, "ci_lo": float(lo), "ci_hi": float(hi),
            "se": float(boot[finite].std(ddof=1)) if finite.sum() > 1 else np.nan,
            "share_undefined": float(1 - finite.mean()), "degenerate": bool(finite.any() and np.ptp(boot[finite]) == 0)}


def bootstrap_mean(d, n_resamples: int, seed: int, ci: float = 0.95) -> dict:
    """``item_bootstrap`` of the mean of per-item values (a difference, a difference in differences)."""
    d = np.asarray(d, float)
    if d.size == 0:
        return {"estimate": np.nan, "ci_lo": np.nan, "ci_hi": np.nan, "se": np.nan, "share_undefined": 1.0,
                "degenerate": False}
    return item_bootstrap(lambda ix: d[ix].mean(axis=-1), d.size, n_resamples, seed, ci)


def equivalent(ci_lo: float, ci_hi: float, margin: float) -> bool:
    """Two one-sided tests (TOST) at level alpha from a (1 - 2 alpha) interval: the difference is
    equivalent to 0 within ``margin`` when the whole interval lies inside [-margin, margin]. An
    interval that merely contains 0 is absence of evidence, not evidence of absence."""
    return bool(np.isfinite(ci_lo) and np.isfinite(ci_hi) and -margin <= ci_lo and ci_hi <= margin)


def tost_bootstrap(d, margin: float, n_resamples: int, seed: int, alpha: float = 0.05) -> dict:
    """Equivalence of the mean of per-item values to 0: the paired item bootstrap's (1 - 2 alpha)
    interval (90 % for alpha 0.05) against [-margin, margin] (``equivalent``)."""
    b = bootstrap_mean(d, n_resamples, seed, ci=1 - 2 * alpha)
    return {"estimate": b["estimate"], "ci_lo": b["ci_lo"], "ci_hi": b["ci_hi"], "margin": margin,
            "equivalent": equivalent(b["ci_lo"], b["ci_hi"], margin)}
