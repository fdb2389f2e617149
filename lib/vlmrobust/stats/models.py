"""Regression models of item-level correctness: a GEE logistic interaction model (the primary) and
statsmodels' Bayesian mixed logistic model fitted by variational Bayes (cross-checked against GEE).

Both return a flat dict with ``status`` ('ok' or why not) instead of raising: perfect
separation (a cell where every answer is right, or every one wrong) and fits that do not
converge give NaN with the reason, so a scan over many cells never stops deep in statsmodels.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd


def separated_cells(df: pd.DataFrame, y: str, by: list[str]) -> list[tuple]:
    """Cells of ``by`` whose outcome is constant (all 0 or all 1): logistic estimates diverge there."""
    g = df.groupby(by, observed=True)[y].agg(["min", "max"])
    return [k if isinstance(k, tuple) else (k,) for k in g.index[g["min"] == g["max"]]]


def gee_interaction(df: pd.DataFrame, formula: str, term: str, groups: str = "item",
                    separation_by: list[str] | None = None) -> dict:
    """GEE logistic model (exchangeable working correlation, bias-reduced robust covariance);
    the estimate of ``term`` with its SE, Wald p and the number of rows and groups."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    out = {"term": term, "coef": np.nan, "se": np.nan, "p": np.nan, "rows": len(df),
           "groups": int(df[groups].nunique()) if len(df) else 0, "status": "ok"}
    if separation_by:
        sep = separated_cells(df, formula.split("~")[0].strip(), separation_by)
        if sep:
            out["status"] = f"perfect separation in {len(sep)} cell(s) of {separation_by}, e.g. {sep[0]}"
            return out
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            model = smf.gee(formula, groups=groups, data=df, family=sm.families.Binomial(),
                            cov_struct=sm.cov_struct.Exchangeable())
            res = model.fit(cov_type="bias_reduced")
    except Exception as e:  # noqa: BLE001 - reported, not raised
        out["status"] = f"not fitted: {type(e).__name__}: {str(e)[:120]}"
        return out
    if term not in res.params.index:
        out["status"] = f"term {term!r} not in the model ({', '.join(res.params.index)})"
        return out
    out.update(coef=float(res.params[term]), se=float(res.bse[term]), p=float(res.pvalues[term]),
               coefs={k: (float(res.params[k]), float(res.bse[k])) for k in res.params.index})
    if not np.isfinite(out["se"]):
        out["status"] = "not fitted: infinite standard error"
    return out


def random_effects(groups: str, slopes=()) -> dict[str, str]:
    """Variance components of ``mixed_vb``: an intercept per ``groups`` and, for each term of ``slopes``
    (a column or an interaction such as ``aligned:sev_c``), a slope per ``groups``."""
    vc = {groups: f"0 + C({groups})"}
    for term in slopes:
        vc[f"{groups}:{term}"] = f"0 + C({groups}):{term}"
    return vc


def mixed_vb(df: pd.DataFrame, formula: str, terms: list[str], groups: str = "item", slopes=()) -> pd.DataFrame:
    """Bayesian mixed logistic model with a random intercept per ``groups`` and random slopes per
    ``groups`` for ``slopes`` (``BinomialBayesMixedGLM``, variational Bayes, priors N(0, 2^2) on fixed
    effects). One row per term: posterior mean, SD and the approximate z = mean / SD, and the
    posterior SD of each variance component (``random``).

    Without a random slope for a term that varies within items, items that differ in that effect
    are treated as replicates of one effect, and its z is inflated (pseudo-replication): test a
    within-item term with its slope. These are conditional (per-item) effects, larger than GEE's
    marginal ones: compare signs and z, not magnitudes."""
    from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

    rows = []
    vc = random_effects(groups, slopes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = BinomialBayesMixedGLM.from_formula(formula, vc, df, vcp_p=1, fe_p=2)
            res = model.fit_vb()
        names = list(model.exog_names)
        status = "ok" if getattr(res, "optim_retvals", None) is None or res.optim_retvals.get("success", True) \
            else "optimiser did not report success"
        for t in terms:
            if t in names:
                i = names.index(t)
                m, s = float(res.fe_mean[i]), float(res.fe_sd[i])
                sds = {name: round(float(np.exp(v)), 4) for name, v in zip(model.vcp_names, res.vcp_mean)}
                rows.append({"term": t, "post_mean": m, "post_sd": s, "z_approx": m / s if s else np.nan,
                             "item_sd": sds.get(groups, np.nan),
                             "random": "; ".join(f"{k} sd {v}" for k, v in sds.items()), "status": status})
            else:
                rows.append({"term": t, "post_mean": np.nan, "post_sd": np.nan, "z_approx": np.nan,
                             "item_sd": np.nan, "random": "", "status": f"term not in the model ({', '.join(names)})"})
    except Exception as e:  # noqa: BLE001
        rows = [{"term": t, "post_mean": np.nan, "post_sd": np.nan, "z_approx": np.nan, "item_sd": np.nan,
                 "random": "", "status": f"not fitted: {type(e).__name__}: {str(e)[:120]}"} for t in terms]
    return pd.DataFrame(rows)
