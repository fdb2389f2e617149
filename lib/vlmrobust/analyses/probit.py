"""Notebook 06, probit lines: do the run's models sit on a line in probit space (clean vs corrupted
accuracy), and is an aligned model above the line that models like its base define?

"Accuracy on the line" (the probit seed; Taori et al., Miller et al.): per dataset and shift, the
points (z(clean accuracy), z(shifted accuracy)) with z = Phi^-1 fall on a line; effective
robustness is the distance above it, in accuracy units. Definitions (docs/methods.md section 5):

- z(p) = Phi^-1(p) with p clipped to [1/(2n), 1 - 1/(2n)]; clipped points are drawn hollow and
  left out of fits. For K-way MCQ, optionally chance-corrected first: p' = (p - 1/K) / (1 - 1/K).
- The line: OLS z(y) = alpha + beta z(x) over the fit models (``fit_on``: ``base`` = the base
  models of the run's pairs, ``all`` = every model), at least three distinct unclipped points.
- ER_m = y_m - Phi(alpha + beta z(x_m)); the pair effect dER = ER_aligned - ER_base; the line-free
  contrast rho(beta) = [z(y_a) - z(y_b)] - beta [z(x_a) - z(x_b)] (probit units; with beta = 1 too).
- Shifts: each (corruption, severity), each corruption averaged over severities, and "all"
  (severity means first, then the mean over corruptions).
- Uncertainty: an item bootstrap (the same resampled items for every model), points, lines and
  ER recomputed in each resample, vectorised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..corruptions import CLEAN
from ..design import main_scores, pairs, run_models
from .section import Section
from ..stats import resample_indices, wilson

REPORT = [
    Section(60, "Probit lines and effective robustness", "06_probit_lines",
            "Clean against corrupted accuracy on probit axes, one line per dataset and shift fitted on the base "
            "models (or all), effective robustness above it and the line-free pair contrast, with item-bootstrap "
            "intervals; and the paper's own models from its Tables 2 and 3.",
            tables=("probit_fits", "effective_robustness", "probit_pair_contrast", "paper_probit_points"),
            figures=("figure_probit_all", "figure_probit_paper")),
]

ALL = "all corruptions"


def clip(p, n: int):
    """Clip accuracies of n items to [1/(2n), 1 - 1/(2n)]; returns (clipped, was_clipped)."""
    p = np.asarray(p, float)
    lo, hi = 1 / (2 * n), 1 - 1 / (2 * n)
    return np.clip(p, lo, hi), (p < lo) | (p > hi)


def chance_correct(p, k: int):
    """p' = (p - 1/K) / (1 - 1/K) for a K-way multiple-choice accuracy (below chance stays below 0)."""
    return (np.asarray(p, float) - 1 / k) / (1 - 1 / k)


def transform(p, n: int, chance: int | None = None):
    """z = Phi^-1 of the (chance-corrected, then) clipped accuracy; returns (z, was_clipped)."""
    q = chance_correct(p, chance) if chance else np.asarray(p, float)
    c, clipped = clip(q, n)
    return sps.norm.ppf(c), clipped


def fit_line(zx, zy, use=None) -> dict:
    """OLS z(y) = alpha + beta z(x) on the points ``use`` (default all); NaN with a reason below three
    distinct points (``scipy.stats.linregress``)."""
    zx, zy = np.asarray(zx, float), np.asarray(zy, float)
    use = np.ones(zx.shape, bool) if use is None else np.asarray(use, bool)
    ok = use & np.isfinite(zx) & np.isfinite(zy)
    if len(set(zip(zx[ok].round(12), zy[ok].round(12)))) < 3 or np.ptp(zx[ok]) == 0:
        return {"alpha": np.nan, "beta": np.nan, "r2": np.nan, "n_points": int(ok.sum()),
                "status": f"no line: {int(ok.sum())} usable point(s), need 3 distinct"}
    r = sps.linregress(zx[ok], zy[ok])
    return {"alpha": float(r.intercept), "beta": float(r.slope), "r2": float(r.rvalue ** 2), "n_points": int(ok.sum()),
            "status": "ok"}


def effective_robustness(x, y, alpha: float, beta: float, n: int, chance: int | None = None):
    """ER = y - Phi(alpha + beta z(x)), in accuracy units (chance-corrected units when ``chance``)."""
    zx, _ = transform(x, n, chance)
    yy = chance_correct(y, chance) if chance else np.asarray(y, float)
    return yy - sps.norm.cdf(alpha + beta * zx)


def pair_contrast(x_b, y_b, x_a, y_a, beta: float, n: int, chance: int | None = None) -> float:
    """rho(beta) = [z(y_a) - z(y_b)] - beta [z(x_a) - z(x_b)]: the aligned model's gain over its base in
    probit units beyond what its clean accuracy predicts along a line of slope beta (no fit needed)."""
    (zxb, zxa), _ = transform([x_b, x_a], n, chance)
    (zyb, zya), _ = transform([y_b, y_a], n, chance)
    return float((zya - zyb) - beta * (zxa - zxb))


def shifts(conditions: list[tuple[str, int]]) -> dict[str, list[int]]:
    """Shift name -> the column indices of ``conditions`` (corrupted only) it averages: each (c, s), each c
    (its severities), and all corruptions (the mean over c of the severity means)."""
    out = {f"{c} s{s}": [i] for i, (c, s) in enumerate(conditions)}
    for c in dict.fromkeys(c for c, _ in conditions):
        out[c] = [i for i, (cc, _) in enumerate(conditions) if cc == c]
    out[ALL] = list(range(len(conditions)))  # weighted per corruption in _shift_acc
    return out


def _shift_acc(acc: np.ndarray, conditions, cols: list[int], name: str) -> np.ndarray:
    """Mean accuracy over a shift's columns (..., conditions) -> (...); ``all``: mean over corruptions of
    the severity means (Taori's aggregation), not a plain mean over cells."""
    if name != ALL:
        return acc[..., cols].mean(-1)
    per_c = [acc[..., [i for i in cols if conditions[i][0] == c]].mean(-1)
             for c in dict.fromkeys(conditions[i][0] for i in cols)]
    return np.mean(per_c, axis=0)


class DatasetCube:
    """One dataset's scores as arrays: for every model, items x conditions (clean first)."""

    def __init__(self, scores: pd.DataFrame, params: dict, dataset: str):
        s = main_scores(scores)
        s = s[s["dataset"] == dataset]
        self.models = [m for m in run_models(params) if m in set(s["model"])]
        wide = s.pivot_table(index="sample_id", columns=["model", "corruption", "severity"], values="score")
        wide = wide.dropna()  # items every model answered in every condition
        conds = [(c, int(v)) for c, v in wide[self.models[0]].columns if c != CLEAN]
        self.conditions = conds
        self.items = list(wide.index)
        self.n = len(self.items)
        self.clean = np.stack([wide[m][CLEAN].iloc[:, 0].to_numpy() for m in self.models])  # models x items
        self.corrupted = np.stack([np.stack([wide[m][c][v].to_numpy() for c, v in conds], 1)
                                   for m in self.models])  # models x items x conditions


def _points(cube: DatasetCube, weights: np.ndarray | None = None):
    """Accuracies (clean: (..., models); corrupted: (..., models, conditions)) for item weights (..., items)."""
    if weights is None:
        return cube.clean.mean(-1), cube.corrupted.mean(1)
    w = weights / weights.sum(-1, keepdims=True)
    return w @ cube.clean.T, np.einsum("bi,mic->bmc", w, cube.corrupted)


def _fit_models(params: dict, models: list[str], fit_on: str) -> np.ndarray:
    if fit_on == "all":
        return np.ones(len(models), bool)
    bases = {p.base for p in pairs(params)}
    return np.array([m in bases for m in models])


def _ols_rows(zx, zy, mask):
    """Vectorised OLS per row (bootstrap resample): alpha, beta (NaN where fewer than 3 points or no spread)."""
    m = mask.astype(float)
    k = m.sum(-1)
    sx, sy = (m * zx).sum(-1), (m * zy).sum(-1)
    sxx, sxy = (m * zx * zx).sum(-1), (m * zx * zy).sum(-1)
    den = k * sxx - sx ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where((k >= 3) & (den > 1e-12), (k * sxy - sx * sy) / den, np.nan)
        alpha = (sy - beta * sx) / k
    return alpha, beta


BAND_GRID = np.linspace(0.02, 0.98, 25)


def chance_levels(samples: pd.DataFrame) -> dict[str, float]:
    """Per multiple-choice dataset, the number of options K whose 1/K is the mean chance of its items
    (items with 2-4 options: 1 / mean(1/K_i)); open-ended datasets are left out."""
    out = {}
    for d, g in samples.groupby("dataset"):
        k = g["options"].map(lambda o: len(o) if o is not None else 0)
        k = k[k > 1]
        if len(k) == len(g) and len(g):
            out[d] = float(1 / np.mean(1 / k.to_numpy(float)))
    return out


def lines(scores: pd.DataFrame, params: dict, fit_on: str = "base", n_boot: int | None = None,
          ci: float | None = None, chance: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame,
                                                                         pd.DataFrame]:
    """Fits, effective robustness and pair contrasts for every dataset and shift of the run.

    ``chance``: dataset -> K (``chance_levels``): a multiple-choice dataset's accuracies are
    chance-corrected first, p' = (p - 1/K) / (1 - 1/K), so that guessing sits at 0 on both axes and a
    line does not bend through the chance floor; its rows say so (``units``).

    Returns (fits: one row per dataset x shift; er: one row per dataset x shift x model with item-
    bootstrap intervals; contrast: one row per dataset x shift x pair with dER and rho; band: the
    line's pointwise bootstrap interval at ``BAND_GRID`` clean accuracies, for the figures)."""
    a = params["analysis"]
    n_boot, ci = n_boot or a["bootstrap"], ci or a["ci"]
    lo_q, hi_q = (1 - ci) / 2, 1 - (1 - ci) / 2
    fits, ers, contrasts, bands = [], [], [], []
    for d in params["benchmark"]["datasets"]:
        cube = DatasetCube(scores, params, d)
        models, n = cube.models, cube.n
        fitmask = _fit_models(params, models, fit_on)
        idx = resample_indices(n, n_boot, params["seed"])
        weights = np.zeros((n_boot, n))
        np.add.at(weights, (np.arange(n_boot)[:, None], idx), 1.0)
        x, yc = _points(cube)
        xb, ycb = _points(cube, weights)
        k = (chance or {}).get(d)
        units = f"chance-corrected (K = {k:.2f})" if k else "accuracy"
        if k:
            x, yc, xb, ycb = (chance_correct(v, k) for v in (x, yc, xb, ycb))
        role = {m: "/".join(sorted({r for p in pairs(params) for r, mm in (("base", p.base), ("aligned", p.aligned))
                                    if mm == m})) or "reference" for m in models}
        for name, cols in shifts(cube.conditions).items():
            y, yb = _shift_acc(yc, cube.conditions, cols, name), _shift_acc(ycb, cube.conditions, cols, name)
            zx, cx = transform(x, n)
            zy, cy = transform(y, n)
            line = fit_line(zx, zy, fitmask & ~cx & ~cy)
            zxb, cxb = transform(xb, n)
            zyb, cyb = transform(yb, n)
            alpha_b, beta_b = _ols_rows(zxb, zyb, fitmask & ~cxb & ~cyb)
            no_line = float(np.isnan(beta_b).mean())
            fits.append({"dataset": d, "shift": name, "fit_on": fit_on, "units": units, **line, "share_no_line": no_line,
                         "beta_lo": float(np.nanquantile(beta_b, lo_q)) if no_line < 1 else np.nan,
                         "beta_hi": float(np.nanquantile(beta_b, hi_q)) if no_line < 1 else np.nan})
            if no_line < 1:
                pred = sps.norm.cdf(alpha_b[:, None] + beta_b[:, None] * sps.norm.ppf(BAND_GRID))
                lo_b, hi_b = np.nanquantile(pred, [lo_q, hi_q], axis=0)
                bands += [{"dataset": d, "shift": name, "x": gx, "lo": lo, "hi": hi}
                          for gx, lo, hi in zip(BAND_GRID, lo_b, hi_b)]
            er = y - sps.norm.cdf(line["alpha"] + line["beta"] * zx)
            er_b = yb - sps.norm.cdf(alpha_b[:, None] + beta_b[:, None] * zxb)
            x_lo, x_hi = wilson(x * n, n, ci)
            y_lo, y_hi = wilson(y * n, n, ci)  # a shift averaging several conditions: approximate (n items)
            for j, m in enumerate(models):
                ers.append({"dataset": d, "shift": name, "model": m, "role": role[m], "units": units,
                            "in_fit": bool(fitmask[j]),
                            "clean_acc": x[j], "clean_lo": x_lo[j], "clean_hi": x_hi[j], "shifted_acc": y[j],
                            "shifted_lo": y_lo[j], "shifted_hi": y_hi[j], "clipped": bool(cx[j] or cy[j]),
                            "er": er[j], "er_lo": np.nanquantile(er_b[:, j], lo_q) if no_line < 1 else np.nan,
                            "er_hi": np.nanquantile(er_b[:, j], hi_q) if no_line < 1 else np.nan})
            for p in pairs(params):
                ib, ia = models.index(p.base), models.index(p.aligned)
                d_er, d_er_b = er[ia] - er[ib], er_b[:, ia] - er_b[:, ib]
                rho1_b = (zyb[:, ia] - zyb[:, ib]) - (zxb[:, ia] - zxb[:, ib])
                contrasts.append({
                    "dataset": d, "shift": name, "pair": p.id, "delta_er": d_er,
                    "delta_er_lo": np.nanquantile(d_er_b, lo_q) if no_line < 1 else np.nan,
                    "delta_er_hi": np.nanquantile(d_er_b, hi_q) if no_line < 1 else np.nan,
                    "rho_fitted_beta": pair_contrast(x[ib], y[ib], x[ia], y[ia], line["beta"], n)
                    if np.isfinite(line["beta"]) else np.nan,
                    "rho_beta1": pair_contrast(x[ib], y[ib], x[ia], y[ia], 1.0, n),
                    "rho_beta1_lo": float(np.quantile(rho1_b, lo_q)), "rho_beta1_hi": float(np.quantile(rho1_b, hi_q)),
                    "n_items": n})
    return pd.DataFrame(fits), pd.DataFrame(ers), pd.DataFrame(contrasts), pd.DataFrame(bands)


PAPER_N = {"P0": 50, "P1": 10, "P2": 10, "P3": 10}  # the paper's stated n (Table 2's caption)


def paper_points() -> pd.DataFrame:
    """The paper's models on GQA, where clean and mean corrupted accuracy are both derivable: clean from
    Table 2; corrupted from Table 5's CE per corruption times the reference's error sums in Table 6
    (E_f,c = CE_c(f) x E_ref,c, eq. 1), so mean corrupted accuracy = 1 - sum_c E_f,c / (corruptions x 3)."""
    from .. import paper

    t2 = paper.table(2).set_index(["pair", "role"])
    t5 = paper.table(5).set_index("corruption").drop(index="mCE")
    t6 = paper.table(6)
    e_ref = (1 - t6["B"]).groupby(t6["corruption"], sort=False).sum()
    cells = len(t6)
    rows = []
    for pid in PAPER_N:
        for role, tag in (("base", "B"), ("aligned", "A")):
            e = (t5[f"{pid}_{tag}"] * e_ref.reindex(t5.index)).sum()
            rows.append({"pair": pid, "role": role, "model": t2.loc[(pid, role), "model"], "dataset": "GQA",
                         "clean_acc": float(t2.loc[(pid, role), "GQA"]), "shifted_acc": float(1 - e / cells),
                         "n_stated": PAPER_N[pid]})
    return pd.DataFrame(rows)


def z_variance(p, n: int):
    """Sampling variance of z(p) = Phi^-1(p) for an accuracy of n items (delta method:
    p (1 - p) / (n phi(z)^2)), at the clipped p."""
    c, _ = clip(p, n)
    return c * (1 - c) / (n * sps.norm.pdf(sps.norm.ppf(c)) ** 2)


def weighted_line(zx, zy, weights, use=None) -> dict:
    """Weighted least squares z(y) = alpha + beta z(x) (weights: inverse variances of z(y)); NaN with a
    reason below three distinct points."""
    zx, zy, w = (np.asarray(v, float) for v in (zx, zy, weights))
    use = np.ones(zx.shape, bool) if use is None else np.asarray(use, bool)
    ok = use & np.isfinite(zx) & np.isfinite(zy) & np.isfinite(w)
    if ok.sum() < 3 or np.ptp(zx[ok]) == 0:
        return {"alpha": np.nan, "beta": np.nan, "n_points": int(ok.sum()), "status": "no line: fewer than 3 points"}
    beta, alpha = np.polyfit(zx[ok], zy[ok], 1, w=np.sqrt(w[ok]))
    return {"alpha": float(alpha), "beta": float(beta), "n_points": int(ok.sum()), "status": "ok"}


PAPER_CELLS = 12  # the pilot's 4 corruptions x 3 severities behind each shifted accuracy


def paper_lines(n_boot: int = 2000, seed: int = 0, ci: float = 0.95) -> tuple[pd.DataFrame, dict]:
    """The probit line through the paper's four base models on GQA, and each model's effective
    robustness and each pair's contrast against it.

    The points carry very different n (P0 50 items, P1-P3 10), so the line is weighted least squares
    with the inverse sampling variance of each z(shifted accuracy) (``z_variance``; the shifted
    accuracy averages 12 conditions of n items, taken as 12 n binomial trials [P]); the unweighted OLS
    line is reported beside it. Intervals come from a parametric bootstrap: every accuracy redrawn from
    its binomial at the stated n, the line refitted, ER and the contrasts recomputed. ``extrapolated``
    flags an aligned model whose clean accuracy lies outside the base models' range (the line is not
    fitted there). GQA is open-ended: no chance correction."""
    pts = paper_points()
    n = pts["n_stated"].to_numpy()
    base = pts["role"].eq("base").to_numpy()
    zx = np.array([transform(v, k)[0] for v, k in zip(pts["clean_acc"], n)])
    zy = np.array([transform(v, k * PAPER_CELLS)[0] for v, k in zip(pts["shifted_acc"], n)])
    w = 1 / z_variance(pts["shifted_acc"].to_numpy(), n * PAPER_CELLS)
    ols = fit_line(zx, zy, base)
    line = {**weighted_line(zx, zy, w, base), "r2": ols["r2"], "alpha_ols": ols["alpha"], "beta_ols": ols["beta"],
            "fit": "weighted least squares (inverse variance of z(y)); OLS beside"}
    rng = np.random.default_rng(seed)
    xb = rng.binomial(n, pts["clean_acc"].to_numpy(), size=(n_boot, len(pts))) / n
    yb = rng.binomial(n * PAPER_CELLS, pts["shifted_acc"].to_numpy(), size=(n_boot, len(pts))) / (n * PAPER_CELLS)
    zxb = np.column_stack([transform(xb[:, j], n[j])[0] for j in range(len(pts))])
    zyb = np.column_stack([transform(yb[:, j], n[j] * PAPER_CELLS)[0] for j in range(len(pts))])
    fits = [weighted_line(zxb[b], zyb[b], w, base) for b in range(n_boot)]
    alpha_b = np.array([f["alpha"] for f in fits])
    beta_b = np.array([f["beta"] for f in fits])
    q = [(1 - ci) / 2, 1 - (1 - ci) / 2]
    pts["er"] = pts["shifted_acc"] - sps.norm.cdf(line["alpha"] + line["beta"] * zx)
    er_b = yb - sps.norm.cdf(alpha_b[:, None] + beta_b[:, None] * zxb)
    pts["er_lo"], pts["er_hi"] = np.nanquantile(er_b, q, axis=0)
    x_lo, x_hi = pts.loc[base, "clean_acc"].min(), pts.loc[base, "clean_acc"].max()
    pts["extrapolated"] = ~base & ((pts["clean_acc"] < x_lo) | (pts["clean_acc"] > x_hi))
    cols = {}
    for pid, g in pts.groupby("pair"):
        ib, ia = g.index[g["role"] == "base"][0], g.index[g["role"] == "aligned"][0]
        b, a = pts.loc[ib], pts.loc[ia]
        rho_w = (zy[ia] - zy[ib]) - line["beta"] * (zx[ia] - zx[ib])
        rho_b = (zyb[:, ia] - zyb[:, ib]) - beta_b * (zxb[:, ia] - zxb[:, ib])
        rho1_b = (zyb[:, ia] - zyb[:, ib]) - (zxb[:, ia] - zxb[:, ib])
        cols[pid] = {"rho_fitted_beta": rho_w,
                     "rho_fitted_lo": float(np.nanquantile(rho_b, q[0])), "rho_fitted_hi": float(np.nanquantile(rho_b, q[1])),
                     "rho_ols_beta": pair_contrast(b.clean_acc, b.shifted_acc, a.clean_acc, a.shifted_acc, ols["beta"],
                                                   PAPER_N[pid]),
                     "rho_beta1": float((zy[ia] - zy[ib]) - (zx[ia] - zx[ib])),
                     "rho_beta1_lo": float(np.quantile(rho1_b, q[0])), "rho_beta1_hi": float(np.quantile(rho1_b, q[1]))}
    for key in next(iter(cols.values())):
        pts[key] = pts["pair"].map({pid: c[key] for pid, c in cols.items()})
    line["beta_lo"], line["beta_hi"] = (float(v) for v in np.nanquantile(beta_b, q))
    line["base_clean_range"] = (float(x_lo), float(x_hi))
    return pts, line
