"""Notebook 04, the severity ablation: Table 6, the severity curves of Figures 5 and 7, and the
reversal scan that tests the paper's "severity-dependent reversal for defocus blur".

Definitions (docs/methods.md section 3). For a pair, dataset and corruption, with l and h the
lowest and highest severity of the run: Delta_s = acc_aligned(s) - acc_base(s); the per-item
contrast d_i = (Y_a,l - Y_b,l) - (Y_a,h - Y_b,h) and its mean, the difference in differences
DiD = Delta_l - Delta_h. A reversal needs both Delta_l > 0 and Delta_h < 0 (or both reversed):
the intersection-union test takes the larger of the two one-sided exact McNemar p-values
(sign-flip tests for soft scores). The arrows of Table 6 are the paper's purely descriptive
rule, sign(Delta_s).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import metrics, stats
from ..design import Pair, label, main_scores, pairs
from .section import Section
from .outcomes import is_soft, long_form, paired

REPORT = [
    Section(6, "Table 6 / Figures 5, 7: the severity ablation", "04_severity_ablation",
            "Accuracy per corruption and severity on the GQA-like dataset for the P0-analogue pair, with paired "
            "exact tests; the paper's own Table 6 re-read (its arrows by its rule, Wilson intervals at n = 50).",
            tables=("table6_severity", "paper_table6_arrows"),
            figures=("figure5_severity_curves", "figure7_severity_pair"), paper_tables=(6,)),
    Section(6.5, "The defocus reversal, tested", "04_severity_ablation",
            "Every pair, dataset and corruption: difference in differences, the intersection-union test with BH, "
            "how many reversals noise alone makes, and the n needed to confirm the paper's.",
            tables=("severity_reversals", "severity_label_swap_null", "severity_power"),
            figures=("severity_reversal_forest", "severity_power_curve")),
]

ARROWS = {1: "↑", -1: "↓", 0: ""}
REVERSAL_THRESHOLD = 0.2  # |Delta| for a descriptive "reversal" in the label-swap count (Table 6: +.30 / -.20)


def arrow(delta: float) -> str:
    """The paper's Table 6 rule: up if the aligned model is more accurate, down if less, blank if equal."""
    return ARROWS[int(np.sign(round(delta, 12)))] if np.isfinite(delta) else ""


def table6_pair(params: dict) -> Pair:
    """The P0 analogue (``analysis.table6_pair``, else the run's first pair)."""
    return _pick(params, params["analysis"]["table6_pair"], 0)


def figure7_pair(params: dict) -> Pair:
    """The P1 analogue (``analysis.figure7_pair``, else the run's second pair, else the first)."""
    return _pick(params, params["analysis"]["figure7_pair"], 1)


def _pick(params, pid, position) -> Pair:
    ps = pairs(params)
    if pid is not None:
        return next(p for p in ps if p.id == pid)
    return ps[min(position, len(ps) - 1)]


def table6(scores: pd.DataFrame, params: dict, pair: Pair, dataset: str) -> pd.DataFrame:
    """Accuracy of base (B) and aligned (A) per corruption and severity, Wilson intervals, the
    difference and its arrow, the paired exact McNemar test (sign-flip for soft scores) and
    BH q-values over the table's cells."""
    m, _ = paired(scores, pair, dataset, corrupted_only=True)
    ci = params["analysis"]["ci"]
    rows = []
    for (c, s), g in m.groupby(["corruption", "severity"], sort=False):
        n = len(g)
        row = {"corruption": c, "severity": int(s), "n": n}
        for tag, col in (("B", "s_b"), ("A", "s_a")):
            row[tag] = g[col].mean()
            row[f"{tag}_lo"], row[f"{tag}_hi"] = (float(v) for v in stats.wilson(g[col].sum(), n, ci))
        row["delta"] = row["A"] - row["B"]
        row["arrow"] = arrow(row["delta"])
        _, b, c_, _ = stats.paired_counts(g["y_b"], g["y_a"])
        row["b_base_only"], row["c_aligned_only"] = b, c_
        row["p"] = (stats.sign_flip(g["s_a"] - g["s_b"], seed=params["seed"]) if is_soft(dataset)
                    else stats.mcnemar_exact(b, c_))
        rows.append(row)
    t = pd.DataFrame(rows)
    if t.empty:
        return t
    t["q_bh"] = stats.adjust(t["p"], "fdr_bh")
    return t.sort_values(["corruption", "severity"], key=_corruption_order(t)).reset_index(drop=True)


def _corruption_order(t):
    order = {c: i for i, c in enumerate(dict.fromkeys(t["corruption"]))}
    return lambda col: col.map(order) if col.name == "corruption" else col


def paper_table6() -> pd.DataFrame:
    """The paper's own Table 6 (P0, GQA, stated n = 50) with its arrows recomputed by the rule, and what
    n = 50 (and n = 10) can support: each accuracy's Wilson interval and the smallest paired
    difference an exact McNemar test could call significant."""
    from .. import paper

    t = paper.table(6).copy()
    t["delta"] = (t["A"] - t["B"]).round(10)
    t["arrow"] = t["delta"].map(arrow)
    for n in (50, 10):
        for tag in ("B", "A"):
            lo, hi = stats.wilson(t[tag] * n, n)
            t[f"{tag}_lo_n{n}"], t[f"{tag}_hi_n{n}"] = lo, hi
        t[f"min_significant_delta_n{n}"] = stats.min_significant_delta(n)
    return t


def severity_curves(scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Accuracy per pair, role, dataset, corruption and severity with Wilson intervals, plus each
    model's clean accuracy (severity 0, corruption ``none``): the data of Figures 5 and 7."""
    acc = metrics.accuracy_table(main_scores(scores), by=["model", "dataset", "corruption", "severity"],
                                 ci=params["analysis"]["ci"])
    rows = []
    for p in pairs(params):
        for role, model in (("base", p.base), ("aligned", p.aligned)):
            rows.append(acc[acc["model"] == model].assign(pair=p.id, pair_label=p.label, role=role,
                                                          model_label=label(params, model)))
    return pd.concat(rows, ignore_index=True)


def pattern(deltas) -> str:
    """Descriptive label of a corruption's Delta_s profile over severities (in severity order)."""
    d = np.asarray(deltas, float)
    if np.all(d == 0):
        return "flat"
    if d[0] > 0 > d[-1]:
        return "reversal_A_to_B"
    if d[0] < 0 < d[-1]:
        return "reversal_B_to_A"
    if np.all(d >= 0):
        return "aligned_better"
    if np.all(d <= 0):
        return "base_better"
    return "mixed"


def _reversal_row(m: pd.DataFrame, dataset: str, n_boot: int, seed: int, ci: float) -> dict:
    sev = sorted(m["severity"].unique())
    lo_s, hi_s = sev[0], sev[-1]
    deltas = m.groupby("severity")[["s_a", "s_b"]].mean().pipe(lambda g: g["s_a"] - g["s_b"])
    row = {"severities": len(sev), "pattern": pattern(deltas.values), "delta_low": deltas.get(lo_s, np.nan),
           "delta_high": deltas.get(hi_s, np.nan)}
    if len(sev) < 2:
        return {**row, "note": "one severity only: no difference in differences"}
    w = m.pivot_table(index="item", columns="severity", values=["s_a", "s_b", "y_a", "y_b"])
    w = w.dropna()
    d = (w["s_a"][lo_s] - w["s_b"][lo_s]) - (w["s_a"][hi_s] - w["s_b"][hi_s])
    boot = stats.bootstrap_mean(d.values, n_boot, seed, ci)
    row.update(n_items=len(w), did=boot["estimate"], did_lo=boot["ci_lo"], did_hi=boot["ci_hi"],
               degenerate=boot["degenerate"])
    from scipy.stats import ttest_1samp

    row["p_t"] = float(ttest_1samp(d.values, 0).pvalue) if d.std() > 0 else (1.0 if d.mean() == 0 else 0.0)
    direction = "greater" if row["delta_low"] >= row["delta_high"] else "less"  # A->B or B->A reversal
    opposite = "less" if direction == "greater" else "greater"
    if is_soft(dataset):
        p_lo = stats.sign_flip(w["s_a"][lo_s] - w["s_b"][lo_s], seed=seed, alternative=direction)
        p_hi = stats.sign_flip(w["s_a"][hi_s] - w["s_b"][hi_s], seed=seed, alternative=opposite)
    else:
        _, b_lo, c_lo, _ = stats.paired_counts(w["y_b"][lo_s], w["y_a"][lo_s])
        _, b_hi, c_hi, _ = stats.paired_counts(w["y_b"][hi_s], w["y_a"][hi_s])
        p_lo, p_hi = stats.mcnemar_exact(b_lo, c_lo, direction), stats.mcnemar_exact(b_hi, c_hi, opposite)
    row.update(p_low=p_lo, p_high=p_hi, p_iut=stats.iut(p_lo, p_hi),
               note="n < 20: interval descriptive" if len(w) < 20 else "")
    gee = stats.gee_interaction(long_form(m[m["severity"].isin([lo_s, hi_s])]), "y ~ aligned * C(severity)",
                                f"aligned:C(severity)[T.{hi_s}]", separation_by=["aligned", "severity"])
    row.update(gee_log_odds=gee["coef"], gee_se=gee["se"], gee_p=gee["p"], gee_status=gee["status"])
    return row


def reversal_scan(scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Every (pair, dataset, corruption): Delta at the lowest and highest severity, the pattern label,
    DiD with its paired-bootstrap interval, a t-test on d_i, the intersection-union test and BH q over
    the scan, and the GEE log-odds interaction (aligned:severity_high; its sign is opposite to DiD's:
    it measures (A - B) at the high severity minus (A - B) at the low one)."""
    a = params["analysis"]
    rows = []
    for p in pairs(params):
        for d in params["benchmark"]["datasets"]:
            m, dropped = paired(scores, p, d, corrupted_only=True)
            for c, g in m.groupby("corruption", sort=False):
                row = _reversal_row(g, d, a["bootstrap"], params["seed"], a["ci"])
                rows.append({"pair": p.id, "pair_label": p.label, "dataset": d, "corruption": c,
                             "dropped_rows": dropped, **row})
    t = pd.DataFrame(rows)
    if "p_iut" not in t:
        t["p_iut"] = np.nan
    t["q_iut"] = stats.adjust(t["p_iut"], "fdr_bh")
    t["confirmed_reversal"] = t["pattern"].str.startswith("reversal") & (t["q_iut"] < 0.05)
    return t


def label_swap_counts(scores: pd.DataFrame, params: dict, n_perm: int = 1000,
                      threshold: float = REVERSAL_THRESHOLD) -> np.ndarray:
    """The number of descriptive reversals (|Delta| >= threshold at the lowest and highest severity,
    opposite signs) over the run's pairs, datasets and corruptions: the observed count first, then one
    per label swap. A swap exchanges the base and aligned labels of an item with probability 1/2, one
    draw per item for **all** of its conditions (every corruption and severity), which is what the
    sharp null of exchangeable models allows; a draw per corruption would treat an item's corruptions
    as independent and understate the null's variance."""
    rng = np.random.default_rng(params["seed"])
    counts = np.zeros(1 + n_perm)
    for p in pairs(params):
        for d in params["benchmark"]["datasets"]:
            m, _ = paired(scores, p, d, corrupted_only=True)
            if m.empty:
                continue
            items = np.array(sorted(m["item"].unique()))
            flips = np.vstack([np.ones(len(items)), rng.choice((1.0, -1.0), size=(n_perm, len(items)))])
            for _, g in m.groupby("corruption", sort=False):
                sev = sorted(g["severity"].unique())
                if len(sev) < 2:
                    continue
                w = g.pivot_table(index="item", columns="severity", values=["s_a", "s_b"]).dropna()
                diff = np.stack([w["s_a"][s] - w["s_b"][s] for s in (sev[0], sev[-1])], axis=1)  # items x 2
                f = flips[:, np.searchsorted(items, w.index.to_numpy())]  # each item's one sign, all corruptions
                delta = f @ diff / len(diff)  # (1 + B) x 2
                rev = (np.abs(delta) >= threshold - 1e-12).all(1) & (np.sign(delta[:, 0]) == -np.sign(delta[:, 1]))
                counts += rev
    return counts


def label_swap_null(scores: pd.DataFrame, params: dict, n_perm: int = 1000,
                    threshold: float = REVERSAL_THRESHOLD) -> dict:
    """How many descriptive reversals noise alone makes (``label_swap_counts``), against the observed."""
    counts = label_swap_counts(scores, params, n_perm, threshold)
    observed, null = int(counts[0]), counts[1:]
    return {"observed_reversals": observed, "null_mean": float(null.mean()), "null_sd": float(null.std(ddof=1)),
            "null_p95": float(np.quantile(null, 0.95)), "p_at_least_observed": float(np.mean(null >= observed)),
            "threshold": threshold, "permutations": n_perm, "swap": "one sign per item, all its conditions"}


PAPER_DEFOCUS = (0.2, 0.5, 0.5, 0.3)  # Table 6 defocus blur: B sev 1, A sev 1, B sev 5, A sev 5


def _halved(cells) -> tuple:
    """The same reversal at half the size: each Delta halved around the cells' mean at that severity."""
    b1, a1, b5, a5 = cells
    m1, m5 = (a1 + b1) / 2, (a5 + b5) / 2
    return (m1 - (a1 - b1) / 4, m1 + (a1 - b1) / 4, m5 - (a5 - b5) / 4, m5 + (a5 - b5) / 4)


def power_table(reps: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Items per cell for 80 % power to confirm the paper's defocus reversal (+.30 / -.20) and one of half
    its size, with the DiD t-test and the intersection-union test, alone and Bonferroni-corrected over the
    4 scanned corruptions, at latent within-item correlation 0 and 0.3; and the power at the paper's n.

    A simulation (``stats.power``): cached on disk by its arguments, so it runs once per machine.
    """
    from ..artifacts import cached

    def compute():
        rows = []
        for effect, cells in (("observed (+.30/-.20)", PAPER_DEFOCUS), ("halved (+.15/-.10)", _halved(PAPER_DEFOCUS))):
            for rho in (0.0, 0.3):
                row = {"effect": effect, "rho": rho, "cells_B1_A1_B5_A5": str(tuple(round(c, 3) for c in cells))}
                for test in ("did", "iut"):
                    for k in (1, 4):
                        row[f"n80_{test}" + ("_bonferroni4" if k == 4 else "")] = stats.n_for_power(
                            cells, test, rho=rho, n_tests=k, reps=reps, seed=seed)
                for n in (10, 50):
                    pw = stats.power_reversal(cells, n, rho=rho, reps=reps, seed=seed)
                    row[f"power_did_n{n}"], row[f"power_iut_n{n}"] = pw["did"], pw["iut"]
                rows.append(row)
        return pd.DataFrame(rows)

    return cached("power_reversal", {"reps": reps, "seed": seed, "cells": PAPER_DEFOCUS, "version": 1}, compute)


def power_curve(ns=(10, 20, 30, 50, 75, 100, 150, 200, 300, 500), reps: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Power of both reversal tests against n for the paper's defocus effect and half of it (latent
    correlation 0, one test): the data of the power figure. Cached like ``power_table``."""
    from ..artifacts import cached

    def compute():
        rows = []
        for effect, cells in (("observed (+.30/-.20)", PAPER_DEFOCUS), ("halved (+.15/-.10)", _halved(PAPER_DEFOCUS))):
            for n in ns:
                pw = stats.power_reversal(cells, n, reps=reps, seed=seed)
                rows += [{"effect": effect, "n": n, "test": test, "power": pw[key]}
                         for test, key in (("DiD t-test", "did"), ("reversal IUT", "iut"))]
        return pd.DataFrame(rows)

    return cached("power_reversal_curve", {"ns": list(ns), "reps": reps, "seed": seed, "version": 1}, compute)


def paper_table6_ce() -> pd.DataFrame:
    """Finding F5: Table 6's accuracies give Table 5's P0 CE column through eq. 1 (base = reference)."""
    t = paper_table6()
    g = t.groupby("corruption", sort=False)[["B", "A"]].apply(lambda x: (1 - x).sum())
    g.columns = ["base_error_sum", "aligned_error_sum"]
    g["ce"] = g["aligned_error_sum"] / g["base_error_sum"]
    return g
