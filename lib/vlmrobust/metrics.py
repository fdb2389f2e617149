"""Accuracy, CE, mCE, Rel. mCE and mCR, with uncertainty (paper eqs. 1-2, made precise).

Definitions (acc(f, c, s) = mean score of model f on corruption c at severity s):

- ``CE_c(f | ref) = sum_s (1 - acc(f, c, s)) / sum_s (1 - acc(ref, c, s))``  (eq. 1)
- ``mCE(f | ref)`` = mean over corruptions of CE_c(f | ref); macro = unweighted mean
  over datasets; ``mCR = 1 - mCE`` (the paper's Table 10).
- Rel. mCE, two forms (the paper's eq. 2 is ambiguous):

  * ``ratio``: mCE(aligned | global ref) / mCE(base | global ref). This is what
    the paper's Table 4 reports (0.846 / 1.569 = 0.539 for Qwen on GQA).
  * ``intra``: mCE(aligned | base) = mean_c CE_c(aligned | base), eq. 1 with the base
    as reference (the paper's Table 7 uses this with QW-base).

  The macro Rel. mCE of Table 4 is the mean of the per-dataset values (0.640 for
  P1), not the ratio of macro mCEs (1.082 / 1.779 = 0.608).
- Hendrycks' relative CE subtracts the clean error at every severity:
  ``sum_s (E(f,c,s) - E(f,clean)) / sum_s (E(ref,c,s) - E(ref,clean))``; it is
  undefined (NaN) when the reference's added error is below the minimum denominator
  (a model that corruptions do not hurt has no degradation to normalise by).

Uncertainty: Wilson intervals for accuracies (soft VQA scores enter as fractional
counts); paired item bootstrap for CE-type ratios (items resampled with the same
indices for every model, all corruptions and severities of an item kept together).

Minimum-denominator rule: a CE whose reference error sum is below
``min_denominator`` (in items: sum_s sum_i (1 - score)) is not computed; it is
flagged (``ce_ok = False``), excluded from mCE, and the exclusions are listed. The
paper itself warns that its Qwen-base TextVQA denominators are unreliable.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .corruptions import CLEAN
from .stats import percentile_interval, resample_indices, wilson

KEYS = ["model", "dataset", "corruption", "severity"]


def accuracy_table(scores: pd.DataFrame, by: Sequence[str] = tuple(KEYS), ci: float = 0.95) -> pd.DataFrame:
    """Mean score per group with n, the (soft) count of correct answers and a Wilson interval."""
    by = [b for b in by if b in scores.columns]
    g = scores.groupby(by, observed=True)["score"].agg(n="size", correct="sum", acc="mean").reset_index()
    g["ci_lo"], g["ci_hi"] = wilson(g["correct"], g["n"], ci)
    return g


def _acc_by(scores: pd.DataFrame, model: str, dataset: str) -> pd.DataFrame:
    s = scores[(scores["model"] == model) & (scores["dataset"] == dataset)]
    if s.empty:
        raise KeyError(f"no scores for model {model!r} on dataset {dataset!r}")
    return s.groupby(["corruption", "severity"])["score"].agg(acc="mean", n="size").reset_index()


def ce_table(scores: pd.DataFrame, model: str, reference: str, dataset: str,
             min_denominator: float = 0.0) -> pd.DataFrame:
    """CE_c(model | reference) for every corruption of one dataset (eq. 1).

    Columns: corruption, err_model and err_ref (sum over severities of 1 - acc),
    den_items (the reference error sum in items), ce, ce_ok (denominator rule),
    rel_ce (Hendrycks, clean error subtracted).
    """
    a = _acc_by(scores, model, dataset)
    r = _acc_by(scores, reference, dataset)
    m = a.merge(r, on=["corruption", "severity"], suffixes=("_m", "_r"), how="inner")
    clean = m[m["corruption"] == CLEAN]
    clean_m = float(1 - clean["acc_m"].iloc[0]) if len(clean) else np.nan
    clean_r = float(1 - clean["acc_r"].iloc[0]) if len(clean) else np.nan
    rows = []
    for c, g in m[m["corruption"] != CLEAN].groupby("corruption", sort=False):
        e_m = float((1 - g["acc_m"]).sum())
        e_r = float((1 - g["acc_r"]).sum())
        den_items = float(((1 - g["acc_r"]) * g["n_r"]).sum())
        ok = den_items >= min_denominator and e_r > 0
        rel_num = float((1 - g["acc_m"] - clean_m).sum())
        rel_den = float((1 - g["acc_r"] - clean_r).sum())
        rel_den_items = float(((1 - g["acc_r"] - clean_r) * g["n_r"]).sum())
        rows.append({"dataset": dataset, "model": model, "reference": reference, "corruption": c,
                     "severities": len(g), "err_model": e_m, "err_ref": e_r, "den_items": den_items,
                     "ce": e_m / e_r if ok else np.nan, "ce_ok": ok,
                     "rel_ce": rel_num / rel_den if rel_den_items >= max(min_denominator, 1e-9) else np.nan})
    return pd.DataFrame(rows)


def mce(ce: pd.DataFrame) -> tuple[float, list[str]]:
    """Mean CE over the corruptions that pass the denominator rule, and the excluded ones."""
    ok = ce[ce["ce_ok"]]
    return (float(ok["ce"].mean()) if len(ok) else np.nan), list(ce.loc[~ce["ce_ok"], "corruption"])


def mce_table(scores: pd.DataFrame, models: Sequence[str], reference: str, datasets: Sequence[str],
              min_denominator: float = 0.0) -> pd.DataFrame:
    """mCE(model | reference) per dataset (wide), with Macro-mCE, Macro-mCR and exclusions.

    The shape of the paper's Tables 3, 9 and 10.
    """
    rows = []
    for mdl in models:
        row = {"model": mdl}
        excluded = []
        rel = []
        for d in datasets:
            ce = ce_table(scores, mdl, reference, d, min_denominator)
            row[d], ex = mce(ce)
            excluded += [f"{d}:{c}" for c in ex]
            ok = ce[ce["ce_ok"]]
            rel.append(float(ok["rel_ce"].mean()) if len(ok) else np.nan)
        vals = [row[d] for d in datasets]
        row["macro_mce"] = float(np.nanmean(vals)) if not all(np.isnan(vals)) else np.nan
        row["macro_mcr"] = 1 - row["macro_mce"]
        row["macro_rel_mce_hendrycks"] = float(np.nanmean(rel)) if not all(np.isnan(rel)) else np.nan
        row["excluded"] = ", ".join(excluded)
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


def relative_mce(scores: pd.DataFrame, base: str, aligned: str, reference: str, datasets: Sequence[str],
                 min_denominator: float = 0.0) -> pd.DataFrame:
    """Rel. mCE of one pair per dataset in both forms, plus their macro (mean over datasets)."""
    rows = []
    for d in datasets:
        m_a, _ = mce(ce_table(scores, aligned, reference, d, min_denominator))
        m_b, _ = mce(ce_table(scores, base, reference, d, min_denominator))
        intra, ex = mce(ce_table(scores, aligned, base, d, min_denominator))
        rows.append({"dataset": d, "mce_aligned_ref": m_a, "mce_base_ref": m_b,
                     "rel_mce_ratio": m_a / m_b if m_b and not np.isnan(m_b) else np.nan,
                     "rel_mce_intra": intra, "intra_excluded": ", ".join(ex)})
    out = pd.DataFrame(rows)
    macro = {"dataset": "macro", "mce_aligned_ref": out["mce_aligned_ref"].mean(),
             "mce_base_ref": out["mce_base_ref"].mean(), "rel_mce_ratio": out["rel_mce_ratio"].mean(),
             "rel_mce_intra": out["rel_mce_intra"].mean(), "intra_excluded": ""}
    return pd.concat([out, pd.DataFrame([macro])], ignore_index=True)


# --- paired item bootstrap --------------------------------------------------------

def _error_cube(scores: pd.DataFrame, model: str, dataset: str, items: pd.Index, conds: pd.MultiIndex):
    s = scores[(scores["model"] == model) & (scores["dataset"] == dataset)]
    wide = s.pivot_table(index="sample_id", columns=["corruption", "severity"], values="score", aggfunc="mean")
    wide = wide.reindex(index=items, columns=conds)
    if wide.isna().any().any():
        raise ValueError(f"{model} on {dataset}: scores missing for some (item, corruption, severity); "
                         f"the paired bootstrap needs every model on the same items and conditions")
    return 1.0 - wide.to_numpy()  # items x conditions


def bootstrap_pair(scores: pd.DataFrame, dataset: str, base: str, aligned: str, reference: str,
                   n_boot: int = 2000, seed: int = 0, ci: float = 0.95,
                   min_denominator: float = 0.0, resamples: dict | None = None) -> pd.DataFrame:
    """Percentile intervals for mCE(base|ref), mCE(aligned|ref), both Rel. mCE forms and every
    CE_c, from one paired item bootstrap (the same resampled items for all three models).
    ``resamples``: a dict that receives both Rel. mCE forms' point and resampled values, so that a
    macro over datasets can be resampled alike (``analyses.ce_tables.bootstrap``).

    Two more statistics separate robustness from clean accuracy (they need clean scores; NaN
    without them):

    - ``degradation_ratio``: the error corruptions *add* to the aligned model over the error they
      add to the base, pooled over corruptions and severities:
      ``sum_c R_c(aligned) / sum_c R_c(base)`` with ``R_c = sum_s (E(c, s) - E(clean))`` (the
      Hendrycks-relative numerator, ``docs/methods.md`` section 4). 1 when both degrade alike, whatever
      their clean accuracies; pooled because one corruption's R of a weak base can be ~0.
    - ``rel_mce_ratio_undegraded``: the ``rel_mce_ratio`` the aligned model would have if no
      corruption hurt it at all (its clean error at every condition): the floor of the ratio
      form at the aligned model's clean accuracy. When it is near the observed value, the ratio
      form cannot show a robustness difference, only a clean-accuracy one.

    ``share_undefined`` is the fraction of resamples whose statistic had a zero
    denominator (reported, never hidden: a large share makes the interval meaningless).
    """
    s = scores[(scores["dataset"] == dataset) & (scores["corruption"] != CLEAN)]
    items = pd.Index(sorted(set(s.loc[s["model"] == base, "sample_id"])))
    clean = scores[(scores["dataset"] == dataset) & (scores["corruption"] == CLEAN)]
    clean_err = {m: 1.0 - clean[clean["model"] == m].groupby("sample_id")["score"].mean().reindex(items).to_numpy()
                 for m in (base, aligned)}  # NaN for items without a clean score
    conds = pd.MultiIndex.from_frame(s[["corruption", "severity"]].drop_duplicates()
                                     .sort_values(["corruption", "severity"]))
    E = {m: _error_cube(s, m, dataset, items, conds) for m in dict.fromkeys([base, aligned, reference])}
    corr = list(dict.fromkeys(conds.get_level_values(0)))
    col_of = {c: np.flatnonzero(conds.get_level_values(0) == c) for c in corr}

    def per_corruption(cube):  # items x corruptions (errors summed over severities)
        return np.stack([cube[:, col_of[c]].sum(1) for c in corr], axis=1)

    e = {m: per_corruption(E[m]) for m in E}
    # the denominator rule is decided once, on the full sample (as the point estimate)
    ok_ref = e[reference].sum(0) >= max(min_denominator, 1e-12)
    ok_base = e[base].sum(0) >= max(min_denominator, 1e-12)
    n = len(items)
    idx = resample_indices(n, n_boot, seed)

    added = {m: E[m].sum(1) - len(conds) * clean_err[m] for m in (base, aligned)}  # per item, NaN without clean
    sev = np.array([len(col_of[c]) for c in corr])  # severities per corruption

    def stats(ix):
        tot = {m: e[m][ix].sum(axis=-2) for m in e}  # (..., corruptions)
        undegraded = clean_err[aligned][ix].sum(axis=-1)[..., None] * sev  # (..., corruptions)
        with np.errstate(divide="ignore", invalid="ignore"):
            ce_a = tot[aligned] / tot[reference]
            ce_b = tot[base] / tot[reference]
            ce_ab = tot[aligned] / tot[base]
        m_a = np.nanmean(np.where(ok_ref, ce_a, np.nan), axis=-1)
        m_b = np.nanmean(np.where(ok_ref, ce_b, np.nan), axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = m_a / m_b
        intra = np.nanmean(np.where(ok_base, ce_ab, np.nan), axis=-1)
        r_a, r_b = added[aligned][ix].sum(axis=-1), added[base][ix].sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            degradation = np.where(r_b > 1e-12, r_a / r_b, np.nan)
            floor = np.nanmean(np.where(ok_ref, undegraded / tot[reference], np.nan), axis=-1) / m_b
        out = {"mce_base_ref": m_b, "mce_aligned_ref": m_a, "rel_mce_ratio": ratio, "rel_mce_intra": intra,
               "degradation_ratio": degradation, "rel_mce_ratio_undegraded": floor}
        for j, c in enumerate(corr):
            out[f"ce_base_ref:{c}"] = ce_b[..., j]
            out[f"ce_aligned_ref:{c}"] = ce_a[..., j]
        return out

    import warnings

    with warnings.catch_warnings():  # all-NaN rows are counted in share_undefined below
        warnings.simplefilter("ignore", RuntimeWarning)
        point = stats(np.arange(n))
        boot = stats(idx)
    rows = []
    for k, est in point.items():
        b = np.asarray(boot[k], float)
        finite = np.isfinite(b)
        lo, hi = percentile_interval(b, ci)
        rows.append({"dataset": dataset, "statistic": k, "estimate": float(est), "ci_lo": float(lo),
                     "ci_hi": float(hi), "share_undefined": float(1 - finite.mean()), "n_items": n})
    if resamples is not None:  # the caller combines datasets resample by resample (a macro interval)
        resamples.update({k: (float(point[k]), np.asarray(boot[k], float)) for k in ("rel_mce_ratio", "rel_mce_intra")})
    return pd.DataFrame(rows)

