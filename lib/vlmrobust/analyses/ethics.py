"""Notebook 07, ethics statistics: what the run's numbers can and cannot support.

The confirmatory family is the degradation endpoint (``analyses.degradation``: accuracy lost to
corruption, base minus aligned, per item; Holm over pair x dataset), with a GEE of
``y ~ aligned * corrupted`` clustered on the item as its secondary analysis. Around it: every
accuracy with its Wilson interval; the difference in corrupted accuracy level per pair and dataset
(descriptive: clean accuracy dominates it, so it is not a test of robustness); exact tests per cell
(exploratory, BH); what n items can detect (the paper's "differences of +-0.1 are within the noise
band"); a mixed-effects model with item slopes beside the GEE; subgroup disaggregation with
Cochran's Q and the worst group; and the finding that the paper's Table 2 contradicts its own
stated n. Methods: docs/methods.md sections 1 and 6.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from .. import metrics, stats
from ..design import item_id, main_scores, pairs
from .section import Section
from .outcomes import is_soft, long_form, paired

REPORT = [
    Section(50, "Section 5: ethics statistics", "07_ethics_stats",
            "The confirmatory endpoint (degradation, Holm) and its GEE, what n can detect, the paper's Table 2 against "
            "its stated n, the mixed model beside the GEE, subgroups; level differences and the exploratory cell "
            "tests (BH) last.",
            tables=("ethics_endpoint", "ethics_endpoint_gee", "ethics_power", "ethics_table2_granularity",
                    "ethics_mixed", "ethics_subgroup_heterogeneity", "ethics_level", "ethics_pooled_severity",
                    "ethics_mcnemar"),
            figures=("ethics_endpoint", "ethics_mde_curves", "figure_ethics_subgroups")),
]

SMALL_GROUP = 20


def accuracy_intervals(scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Every accuracy of the run (main prompt) with its Wilson interval; soft VQA scores enter as
    fractional counts, an approximation flagged in ``soft_approx``."""
    t = metrics.accuracy_table(main_scores(scores), by=["model", "dataset", "corruption", "severity"],
                               ci=params["analysis"]["ci"])
    t["soft_approx"] = t["dataset"].map(is_soft)
    return t


def paired_tests(scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Per pair, dataset, corruption and severity (clean included): the 2x2 counts, the difference of
    paired proportions with its Wald interval, the exact McNemar p (sign-flip on the raw scores too for
    soft scores) and BH q over the whole table (the exploratory family)."""
    rows = []
    for p in pairs(params):
        for d in params["benchmark"]["datasets"]:
            m, dropped = paired(scores, p, d)
            for (c, s), g in m.groupby(["corruption", "severity"], sort=False):
                n11, b, c_, n00 = stats.paired_counts(g["y_b"], g["y_a"])
                delta, lo, hi = stats.paired_diff_ci(b, c_, len(g), params["analysis"]["ci"])
                rows.append({"pair": p.id, "dataset": d, "corruption": c, "severity": int(s), "n": len(g),
                             "n11": n11, "b_base_only": b, "c_aligned_only": c_, "n00": n00, "delta": delta,
                             "wald_lo": lo, "wald_hi": hi, "few_discordant": b + c_ < 10,
                             "p_mcnemar": stats.mcnemar_exact(b, c_),
                             "p_signflip_soft": (stats.sign_flip(g["s_a"] - g["s_b"], seed=params["seed"])
                                                 if is_soft(d) else np.nan), "dropped_rows": dropped})
    t = pd.DataFrame(rows)
    t["q_bh"] = stats.adjust(t["p_mcnemar"], "fdr_bh")
    return t


def pooled_severity_tests(scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Per pair, dataset and corruption: a sign-flip test of d_i = sum over severities of (Y_a - Y_b),
    i.e. of H0: equal error sums, CE_c(aligned | base) = 1 (severities share items, so they are never
    pooled into one McNemar table)."""
    rows = []
    for p in pairs(params):
        for d in params["benchmark"]["datasets"]:
            m, _ = paired(scores, p, d, corrupted_only=True)
            for c, g in m.groupby("corruption", sort=False):
                di = g.assign(diff=g["s_a"] - g["s_b"]).groupby("item")["diff"].sum()
                rows.append({"pair": p.id, "dataset": d, "corruption": c, "n_items": len(di),
                             "mean_error_sum_diff": -di.mean(), "p_signflip": stats.sign_flip(di, seed=params["seed"])})
    t = pd.DataFrame(rows)
    t["q_bh"] = stats.adjust(t["p_signflip"], "fdr_bh")
    return t


def endpoint(scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """The confirmatory family: the degradation endpoint per pair x dataset (Holm), pooled rows beside."""
    from .degradation import endpoint as degradation_endpoint

    a = params["analysis"]
    return degradation_endpoint(scores, pairs(params), n_boot=a["bootstrap"], seed=params["seed"], ci=a["ci"])


def endpoint_gee(scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """The endpoint's secondary analysis: logistic GEE ``y ~ aligned * corrupted`` per pair x dataset on
    every condition (clean and corrupted), exchangeable working correlation clustered on the item,
    bias-reduced robust SEs. ``aligned:corrupted`` < 0: the aligned model loses more (in log-odds)."""
    rows = []
    for p in pairs(params):
        for d in params["benchmark"]["datasets"]:
            m, dropped = paired(scores, p, d)
            if m.empty:
                continue
            df = long_form(m)
            df["corrupted"] = (df["severity"] > 0).astype(int)
            g = stats.gee_interaction(df, "y ~ aligned * corrupted", "aligned:corrupted",
                                      separation_by=["aligned", "corrupted"])
            rows.append({"pair": p.id, "dataset": d, "items": df["item"].nunique(), "rows": len(df),
                         "log_odds": g["coef"], "se": g["se"], "z": g["coef"] / g["se"] if g["se"] else np.nan,
                         "p": g["p"], "status": g["status"]})
    return pd.DataFrame(rows)


def level_differences(scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Descriptive, not a test of robustness: per pair and dataset, the difference in corrupted accuracy
    level d_i = mean over corruptions and severities of (Y_a - Y_b) (one value per item), with a
    sign-flip p and Holm. Clean accuracy dominates it: a model better on clean images is better here
    whatever its robustness (the degradation endpoint removes that)."""
    rows = []
    for p in pairs(params):
        for d in params["benchmark"]["datasets"]:
            m, dropped = paired(scores, p, d, corrupted_only=True)
            di = m.assign(diff=m["s_a"] - m["s_b"]).groupby("item")["diff"].mean()
            boot = stats.bootstrap_mean(di.values, params["analysis"]["bootstrap"], params["seed"],
                                        params["analysis"]["ci"])
            rows.append({"pair": p.id, "dataset": d, "n_items": len(di), "mean_diff": boot["estimate"],
                         "ci_lo": boot["ci_lo"], "ci_hi": boot["ci_hi"],
                         "direction": "aligned better" if boot["estimate"] > 0 else
                         ("base better" if boot["estimate"] < 0 else "equal"),
                         "p_signflip": stats.sign_flip(di, seed=params["seed"]), "dropped_rows": dropped})
    t = pd.DataFrame(rows)
    t["p_holm"] = stats.adjust(t["p_signflip"], "holm")
    return t


def noise_band(ns=(10, 50, 500)) -> pd.DataFrame:
    """What n items can detect (80 % power, alpha .05), for the paper's "+-0.1 is within the noise band"."""
    return stats.mde_table(ns)


SLOPES = ("aligned", "aligned:sev_c")  # item random slopes of the mixed model: the terms that vary within items


def mixed_models(scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Per pair and dataset, corrupted rows: logit P(correct) = aligned * sev_c + C(corruption). The GEE
    (population-averaged, clustered on the item, robust SEs) leads; the Bayesian mixed model (VB) is
    the secondary fit, with an item intercept and item slopes for ``aligned`` and ``aligned:sev_c``
    (``SLOPES``): without them, items that differ in how alignment affects them count as replicates
    of one effect and its z is inflated. sev_c is the severity centred on the run's mean severity; soft
    scores are binarised. Seconds per fit are recorded."""
    terms = ["aligned", "sev_c", "aligned:sev_c"]
    formula = "y ~ aligned * sev_c + C(corruption)"
    rows = []
    for p in pairs(params):
        for d in params["benchmark"]["datasets"]:
            m, _ = paired(scores, p, d, corrupted_only=True)
            if m.empty or m["severity"].nunique() < 2:
                rows += [{"pair": p.id, "dataset": d, "term": t, "gee_status": "fewer than two severities"}
                         for t in terms]
                continue
            df = long_form(m)
            df["sev_c"] = df["severity"] - df["severity"].mean()
            t0 = time.perf_counter()
            gee = stats.gee_interaction(df, formula, "aligned:sev_c", separation_by=["aligned"])
            t_gee = time.perf_counter() - t0
            t0 = time.perf_counter()
            vb = stats.mixed_vb(df, formula, terms, slopes=SLOPES)
            t_vb = time.perf_counter() - t0
            coefs = gee.get("coefs", {})
            for r in vb.itertuples():
                g_coef, g_se = coefs.get(r.term, (np.nan, np.nan))
                rows.append({"pair": p.id, "dataset": d, "term": r.term, "gee_coef": g_coef, "gee_se": g_se,
                             "gee_z": g_coef / g_se if g_se else np.nan, "vb_mean": r.post_mean, "vb_sd": r.post_sd,
                             "vb_z": r.z_approx, "vb_random": r.random, "items": df["item"].nunique(),
                             "rows": len(df), "gee_status": gee["status"], "vb_status": r.status,
                             "seconds_gee": round(t_gee, 2), "seconds_vb": round(t_vb, 2)})
    return pd.DataFrame(rows)


def subgroups(scores: pd.DataFrame, samples: pd.DataFrame, params: dict,
              variables=("lighting", "style")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subgroup disaggregation where the samples carry subgroup labels (the synthetic benchmark).

    Per pair, dataset, variable and group g: each model's corruption loss D = clean accuracy - mean
    corrupted accuracy, and theta_g = D_base - D_aligned (> 0: the aligned model degrades less), with a
    paired bootstrap within g; then Cochran's Q across the groups and the worst group's accuracy per model.
    Returns (per-group rows, per-variable heterogeneity rows)."""
    a = params["analysis"]
    rows, het = [], []
    meta = samples.assign(item=item_id(samples)).set_index("item")
    for p in pairs(params):
        for d in params["benchmark"]["datasets"]:
            m, _ = paired(scores, p, d)
            if m.empty:
                continue
            clean = m[m["severity"] == 0].set_index("item")[["s_b", "s_a"]]
            corr = m[m["severity"] > 0].groupby("item")[["s_b", "s_a"]].mean()
            per_item = clean.add_suffix("_clean").join(corr.add_suffix("_corr"), how="inner")
            per_item["theta_i"] = ((per_item["s_b_clean"] - per_item["s_b_corr"])
                                   - (per_item["s_a_clean"] - per_item["s_a_corr"]))
            for var in variables:
                if var not in meta or meta.loc[per_item.index, var].isna().all():
                    continue
                groups = meta.loc[per_item.index, var]
                for gname, idx in per_item.groupby(groups).groups.items():
                    g = per_item.loc[idx]
                    boot = stats.bootstrap_mean(g["theta_i"].values, a["bootstrap"], params["seed"], a["ci"])
                    rows.append({"pair": p.id, "dataset": d, "variable": var, "group": gname, "n": len(g),
                                 "small_group": len(g) < SMALL_GROUP, "theta": boot["estimate"],
                                 "ci_lo": boot["ci_lo"], "ci_hi": boot["ci_hi"], "se": boot["se"],
                                 "base_clean": g["s_b_clean"].mean(), "base_corrupted": g["s_b_corr"].mean(),
                                 "aligned_clean": g["s_a_clean"].mean(), "aligned_corrupted": g["s_a_corr"].mean()})
                cur = pd.DataFrame([r for r in rows if (r["pair"], r["dataset"], r["variable"]) == (p.id, d, var)])
                q, pq = stats.cochran_q(cur["theta"], cur["se"])
                worst = {f"worst_{col}": cur.loc[cur[col].idxmin(), "group"] for col in
                         ("base_corrupted", "aligned_corrupted")}
                het.append({"pair": p.id, "dataset": d, "variable": var, "groups": len(cur), "cochran_q": q,
                            "p": pq, **worst, "worst_base_corrupted_acc": cur["base_corrupted"].min(),
                            "worst_aligned_corrupted_acc": cur["aligned_corrupted"].min()})
    return pd.DataFrame(rows), pd.DataFrame(het)


STATED_N = {"P0": 50, "P1": 10, "P2": 10, "P3": 10}  # the paper's stated sample sizes per pair
BINARY_COLUMNS = ("GQA", "TextVQA", "MMBench")  # binary scorers; VQAv2's soft score can take other values


def table2_granularity() -> pd.DataFrame:
    """Finding F1: binary-scored accuracies of n items are multiples of 1/n; the paper's Table 2 cells that
    are not multiples of 1/(stated n), and the smallest n their digits allow."""
    from .. import paper

    t = paper.table(2)
    rows = []
    for r in t[t["role"] != "delta"].itertuples(index=False):
        r = r._asdict()
        n = STATED_N[r["pair"]]
        for col in BINARY_COLUMNS:
            v = float(r[col])
            ok = abs(v * n - round(v * n)) < 1e-9
            implied = next(k for k in range(1, 1001) if abs(v * k - round(v * k)) < 1e-9)
            rows.append({"pair": r["pair"], "model": r["model"], "dataset": col, "accuracy": v, "stated_n": n,
                         "consistent_with_stated_n": ok, "smallest_n_possible": implied})
    return pd.DataFrame(rows)
