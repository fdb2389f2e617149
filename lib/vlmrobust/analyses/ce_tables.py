"""Notebook 03's tables: the run's results in the shapes of the paper's Tables 2-5, 7, 9-11.

Scores in, tidy frames out. All main tables use the main prompt variant (the paper's
corrected, concise prompts; ``design.MAIN_VARIANT``); the ``plain`` variant is the
verbosity A/B of notebook 05. Every interval uses the run's ``analysis.ci``; CE-type
numbers use its ``analysis.min_denominator``. Where the run is the paper's
configuration, ``side_by_side`` puts the paper's values next to ours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import metrics
from ..corruptions import CLEAN
from ..data import PAPER_NAMES
from ..design import is_paper_configuration, label, main_scores, pairs, run_models
from ..stats import percentile_interval
from .section import Section

REPORT = [
    Section(2, "Table 2 / Figure 2: clean accuracy", "03_scoring",
            "Per pair, base and aligned, with Wilson intervals (Figure 2). The paper's Table 8 is its appendix twin.",
            tables=("table2_clean_accuracy", "unparseable_rates"), figures=("figure2_clean_accuracy",),
            paper_tables=(2, 8), paper_figures=("paper_figure2_clean_accuracy",)),
    Section(3, "Tables 3, 9, 10 / Figures 3, 4: mCE against the global reference", "03_scoring",
            "CE_c(f | ref) = sum_s (1 - acc) / sum_s (1 - acc_ref); mCE its mean over corruptions; mCR = 1 - mCE.",
            tables=("table3_mce_global_reference",), figures=("figure3_mce", "figure4_radar"),
            paper_tables=(3, 9, 10), paper_figures=("paper_figure3_mce", "paper_figure4_radar")),
    Section(4, "Table 4 / Figure 6: Relative mCE", "03_scoring",
            "Both forms: rel_mce_ratio (what the paper's Table 4 reports) and rel_mce_intra (eq. 1 with the base "
            "as reference), with paired item-bootstrap intervals.",
            tables=("table4_relative_mce", "relative_mce_bootstrap"), figures=("figure6_relative_mce",),
            paper_tables=(4,), paper_figures=("paper_figure6_rel_mce",)),
    Section(5, "Table 5: CE per corruption on the GQA-like dataset", "03_scoring",
            tables=("table5_ce_per_corruption",), paper_tables=(5,)),
    Section(7, "Tables 7 and 11: per-corruption CE of each pair", "03_scoring",
            "CE of base and aligned against the global reference, their ratio, and CE(aligned | base).",
            tables=("table11_ce_per_pair",), paper_tables=(7, 11)),
]


def clean_accuracy(scores: pd.DataFrame, params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 2 analogue (wide, with delta rows) and its tidy form with Wilson intervals at the
    run's ``analysis.ci`` (Figure 2)."""
    s = main_scores(scores)
    acc = metrics.accuracy_table(s[s["corruption"] == CLEAN], by=["model", "dataset"], ci=params["analysis"]["ci"])
    datasets = params["benchmark"]["datasets"]
    wide, tidy = [], []
    for pid, base, aligned, method in pairs(params):
        vals = {}
        for role, m in (("base", base), ("aligned", aligned)):
            a = acc[acc["model"] == m].set_index("dataset").reindex(datasets)
            vals[role] = a["acc"]
            wide.append({"pair": pid, "role": role, "model": label(params, m), **a["acc"].to_dict()})
            for d in datasets:
                tidy.append({"pair": pid, "pair_label": f"{pid} ({method})", "role": role, "model": m,
                             "dataset": d, "acc": a.loc[d, "acc"], "ci_lo": a.loc[d, "ci_lo"],
                             "ci_hi": a.loc[d, "ci_hi"], "n": a.loc[d, "n"]})
        wide.append({"pair": pid, "role": "delta", "model": "aligned - base",
                     **(vals["aligned"] - vals["base"]).to_dict()})
    return pd.DataFrame(wide).set_index(["pair", "role", "model"]), pd.DataFrame(tidy)


def mce_global(scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Tables 3 / 9 / 10 analogue: mCE of every run model against the global reference."""
    a = params["analysis"]
    t = metrics.mce_table(main_scores(scores), run_models(params), params["reference"],
                          params["benchmark"]["datasets"], a["min_denominator"])
    t.insert(0, "label", [label(params, m) for m in t.index])
    return t.sort_values("macro_mce")


def mce_long(mce: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Tidy (pair, role, dataset, mce) rows for Figures 3 and 4."""
    rows = []
    for pid, base, aligned, method in pairs(params):
        for role, m in (("base", base), ("aligned", aligned)):
            for d in params["benchmark"]["datasets"]:
                rows.append({"pair": pid, "pair_label": f"{pid} ({method})", "role": role, "model": m,
                             "dataset": d, "mce": mce.loc[m, d]})
    return pd.DataFrame(rows)


def relative(scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Table 4 analogue in both forms: ``rel_mce_ratio`` (what the paper's Table 4 reports) and
    ``rel_mce_intra`` (eq. 1 with the base as the reference)."""
    a = params["analysis"]
    out = []
    for pid, base, aligned, method in pairs(params):
        r = metrics.relative_mce(main_scores(scores), base, aligned, params["reference"],
                                 params["benchmark"]["datasets"], a["min_denominator"])
        out.append(r.assign(pair=pid, method=method))
    return pd.concat(out, ignore_index=True)


def ce_by_corruption(scores: pd.DataFrame, params: dict, dataset: str) -> pd.DataFrame:
    """Table 5 analogue: CE per corruption for every pair's base (B) and aligned (A) model
    against the global reference, on one dataset, with the mCE row."""
    a = params["analysis"]
    cols = {}
    for pid, base, aligned, _ in pairs(params):
        for tag, m in (("B", base), ("A", aligned)):
            ce = metrics.ce_table(main_scores(scores), m, params["reference"], dataset, a["min_denominator"])
            col = ce.set_index("corruption")["ce"]
            col.loc["mCE"] = metrics.mce(ce)[0]
            cols[f"{pid}_{tag}"] = col
    return pd.DataFrame(cols)


def intra_pair(scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Tables 7 / 11 analogue: per pair and dataset, CE per corruption of base and aligned
    against the global reference, their ratio, and the intra-pair CE(aligned | base)."""
    a = params["analysis"]
    rows = []
    s = main_scores(scores)
    for pid, base, aligned, _ in pairs(params):
        for d in params["benchmark"]["datasets"]:
            b = metrics.ce_table(s, base, params["reference"], d, a["min_denominator"]).set_index("corruption")
            al = metrics.ce_table(s, aligned, params["reference"], d, a["min_denominator"]).set_index("corruption")
            intra = metrics.ce_table(s, aligned, base, d, a["min_denominator"]).set_index("corruption")
            for c in b.index:
                rows.append({"pair": pid, "dataset": d, "corruption": c, "CE_b": b.loc[c, "ce"],
                             "CE_a": al.loc[c, "ce"],
                             "Rel": al.loc[c, "ce"] / b.loc[c, "ce"] if b.loc[c, "ce"] else np.nan,
                             "CE_a_given_b": intra.loc[c, "ce"], "base_errors_items": intra.loc[c, "den_items"]})
    return pd.DataFrame(rows)


MACRO = "macro"


def bootstrap(scores: pd.DataFrame, params: dict, macro: bool = True) -> pd.DataFrame:
    """Paired item-bootstrap intervals for every pair and dataset (mCEs, both Rel. mCE forms, CEs) and,
    with ``macro``, a row per pair for the macro (mean over datasets) of each Rel. mCE form: every
    dataset is resampled with the same seed, so resample b of the macro averages resample b of every
    dataset (one resample of items for every dataset, as the paper's Table 4 macro needs)."""
    a = params["analysis"]
    out = []
    for pid, base, aligned, method in pairs(params):
        per, n_total = [], 0
        for d in params["benchmark"]["datasets"]:
            res = {}
            b = metrics.bootstrap_pair(main_scores(scores), d, base, aligned, params["reference"],
                                       n_boot=a["bootstrap"], seed=params["seed"],
                                       ci=a["ci"], min_denominator=a["min_denominator"], resamples=res)
            out.append(b.assign(pair=pid, pair_label=f"{pid} ({method})"))
            per.append(res)
            n_total += int(b["n_items"].iloc[0]) if len(b) else 0
        if macro and len(per) > 1:
            rows = []
            for k in ("rel_mce_ratio", "rel_mce_intra"):
                point = float(np.mean([r[k][0] for r in per]))
                boot = np.mean([r[k][1] for r in per], axis=0)
                lo, hi = percentile_interval(boot, a["ci"])
                rows.append({"dataset": MACRO, "statistic": k, "estimate": point, "ci_lo": lo, "ci_hi": hi,
                             "share_undefined": float(1 - np.isfinite(boot).mean()), "n_items": n_total})
            out.append(pd.DataFrame(rows).assign(pair=pid, pair_label=f"{pid} ({method})"))
    return pd.concat(out, ignore_index=True)


def parse_rates(scores: pd.DataFrame) -> pd.DataFrame:
    """Share of responses the scorer could not parse, per model, dataset, prompt and condition."""
    g = scores.groupby(["model", "dataset", "prompt_variant", "corruption"])["parse_ok"]
    return (1 - g.mean()).rename("unparseable").reset_index()


def side_by_side(rel: pd.DataFrame, params: dict) -> pd.DataFrame | None:
    """Our Rel. mCE next to the paper's Table 4, when the run is the paper's configuration."""
    from .. import paper

    if not is_paper_configuration(params):
        return None
    t4 = paper.table(4).set_index("pair")
    rows = []
    for r in rel.itertuples():
        if r.pair in t4.index and r.dataset in PAPER_NAMES:
            rows.append({"pair": r.pair, "dataset": r.dataset, "ours_ratio": r.rel_mce_ratio,
                         "ours_intra": r.rel_mce_intra, "paper": t4.loc[r.pair, PAPER_NAMES[r.dataset]]})
    return pd.DataFrame(rows)
