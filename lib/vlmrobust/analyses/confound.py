"""The format and pre-training confounds (notebook 05; docs/methods.md section 4; the paper's C2 and 4.5).

Rel. mCE compares a base with its aligned model. If the base does not answer in the expected
form (a raw pretrained checkpoint continues a caption; a verbose model writes a sentence that a
strict scorer rejects), its "errors" measure instruction following, not perception, and the ratio
measures the wrong thing. This module asks four questions of a run:

1. ``compliance``: how often does each model answer in the expected form, per dataset, prompt
   variant and condition (Wilson intervals)? Text: ``answer_format.format_ok`` on the synthetic
   benchmark (the closed answer space of the question type), 1 to ``MAX_WORDS`` words after VQA
   normalisation on hub open-ended sets [P], a parsed letter for MCQ; logit: the letters hold at
   least ``LETTER_MASS_MIN`` of the next-token distribution (MCQ).
2. ``verbosity_ab``: the paper's C2. Accuracy with the concise instruction against without it
   (``plain``), a sign-flip test of the per-item difference per model (conditions averaged within
   the item); how the base-aligned gap moves between the two
   (``did = G_plain - G_concise``, item bootstrap; the paper does not say which direction
   "inflates", so the sign is reported); a lenient containment score beside the strict one and
   the format loss ``FL = lenient - strict``. The fix "removes the mismatch" when the aligned
   model's FL under concise is equivalent to 0: its 90 % interval inside [-m, m], with
   m = ``analysis.equivalence_margin`` (two one-sided tests; an interval that only contains 0 is not
   enough).
3. ``denominator_sensitivity``: eq. 1's denominator E_b = sum_s (1 - acc_b,s) tends to its
   ceiling S as the base nears the floor, so CE = E_a / E_b tends to the aligned model's mean
   corrupted error (bounded, favouring the aligned model mechanically), while the clean-subtracted
   form R_a / R_b explodes (R_b -> 0). Both per pair, dataset and corruption, with the base's
   headroom, flags, and what one item either way does to each.
4. ``format_controlled``: Rel. mCE (both forms) (a) on the items both models of the pair answer
   in format in that condition, and (b) for MCQ from the option probabilities' argmax instead of
   the generated text; each with a paired item-bootstrap interval beside the standard value.
   Compliance is post-treatment (a corruption can change it), so (a) is a sensitivity analysis,
   not an unbiased estimate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import metrics
from ..answer_format import format_ok
from ..corruptions import CLEAN
from ..data import DATASETS
from ..design import MAIN_VARIANT, label, pairs
from ..prompts import VARIANTS
from .section import Section
from ..scoring import contains_answer, normalize_vqa
from ..stats import bootstrap_mean, percentile_interval, resample_indices, sign_flip, tost_bootstrap, wilson
from .outcomes import binary_scores

REPORT = [
    Section(4.5, "Section 4.5 / C2: the format and pre-training confounds", "05_format_confound",
            "Answer-format compliance per model and prompt; the verbosity A/B (concise against plain) with a lenient "
            "score; where eq. 1's denominator stops measuring robustness (a base at the floor); Rel. mCE restricted to "
            "answers in format and, for MCQ, from the option probabilities.",
            tables=("format_compliance", "verbosity_ab", "denominator_sensitivity", "rel_mce_format_controlled"),
            figures=("figure_confound_compliance", "figure_confound_verbosity", "figure_confound_denominator")),
]

MAX_WORDS = 3  # hub open-ended answers in format: 1-3 words after VQA normalisation [P]
LETTER_MASS_MIN = 0.5  # MCQ in format by logits: the letters hold at least half the next-token mass [P]
FLOOR_HEADROOM = 0.10  # flag a base whose mean corrupted accuracy 1 - E_b / S is below this
N_MIN = 5  # joint-compliance cells with fewer items are NaN and their corruption is excluded


# --- per-response columns ------------------------------------------------------------

def with_format(scores: pd.DataFrame, samples: pd.DataFrame) -> pd.DataFrame:
    """Scores with ``comp_text`` (answer in the expected form), ``comp_logit`` (MCQ letter mass
    >= LETTER_MASS_MIN; NaN otherwise), ``words`` (after VQA normalisation), ``lenient``
    (some ground-truth answer occurs in the response) and ``y`` (binary outcome)."""
    items = samples[["dataset", "sample_id", "question_type", "answers", "options"]].drop_duplicates(["dataset", "sample_id"])
    s = scores.merge(items, on=["dataset", "sample_id"], how="left", validate="many_to_one")
    scorer = s["dataset"].map(lambda d: DATASETS[d]["scorer"])
    synthetic = s["dataset"].map(lambda d: DATASETS[d]["kind"] == "synthetic")
    words = s["response"].fillna("").map(lambda r: len(normalize_vqa(r).split()))
    comp = []
    for sc, syn, qt, r, o, ok, w in zip(scorer, synthetic, s["question_type"], s["response"].fillna(""),
                                        s["options"], s["parse_ok"], words):
        if sc == "mcq":
            comp.append(bool(ok))
        elif syn:
            comp.append(format_ok(sc, qt, r, o))
        else:
            comp.append(1 <= w <= MAX_WORDS)
    s["comp_text"] = comp
    s["comp_logit"] = np.where(s["letter_mass"].notna(), s["letter_mass"].fillna(0) >= LETTER_MASS_MIN, np.nan)
    s["words"] = words
    s["lenient"] = [float(any(contains_answer(r, str(g)) for g in a)) if sc != "mcq" else np.nan
                    for r, a, sc in zip(s["response"].fillna(""), s["answers"], scorer)]
    s["y"] = binary_scores(s)
    return s.drop(columns=["answers", "options"])


# --- 1. compliance -----------------------------------------------------------------------

def compliance(f: pd.DataFrame, ci: float = 0.95) -> pd.DataFrame:
    """Per model x dataset x variant x (corruption, severity): compliance rate (text; Wilson),
    logit compliance (MCQ), accuracy given compliance, median new tokens and words."""
    f = f[f["prompt_variant"].isin(VARIANTS)]
    g = f.groupby(["model", "dataset", "prompt_variant", "corruption", "severity"], observed=True)
    t = g.agg(n=("comp_text", "size"), compliant=("comp_text", "sum"), comp_logit=("comp_logit", "mean"),
              median_new_tokens=("new_tokens", "median"), median_words=("words", "median")).reset_index()
    t["comp_text"] = t["compliant"] / t["n"]
    t["ci_lo"], t["ci_hi"] = wilson(t["compliant"], t["n"], ci)
    acc_c = f[f["comp_text"]].groupby(["model", "dataset", "prompt_variant", "corruption", "severity"])["score"].mean()
    t = t.merge(acc_c.rename("acc_if_compliant").reset_index(), how="left",
                on=["model", "dataset", "prompt_variant", "corruption", "severity"])
    return t


def compliance_summary(f: pd.DataFrame, ci: float = 0.95) -> pd.DataFrame:
    """Compliance per model x dataset x variant x image (clean; all corruptions pooled)."""
    f = f[f["prompt_variant"].isin(VARIANTS)]
    f = f.assign(image=np.where(f["severity"] == 0, "clean", "corrupted"))
    t = f.groupby(["model", "dataset", "prompt_variant", "image"]).agg(
        n=("comp_text", "size"), compliant=("comp_text", "sum")).reset_index()
    t["comp_text"] = t["compliant"] / t["n"]
    t["ci_lo"], t["ci_hi"] = wilson(t["compliant"], t["n"], ci)
    return t


# --- 2. the verbosity A/B ---------------------------------------------------------------

def _variant_pair(f: pd.DataFrame, model: str, dataset: str) -> pd.DataFrame:
    key = ["sample_id", "corruption", "severity"]
    s = f[(f["model"] == model) & (f["dataset"] == dataset)]
    c = s[s["prompt_variant"] == MAIN_VARIANT].set_index(key)[["y", "lenient"]]
    p = s[s["prompt_variant"] == "plain"].set_index(key)[["y", "lenient"]]
    return c.join(p, lsuffix="_c", rsuffix="_p", how="inner").reset_index()


def verbosity_ab(f: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Per pair, dataset (with both variants) and image (clean; the corrupted conditions together):
    each model's concise and plain accuracy, a sign-flip test of the per-item difference (one value per
    item: its conditions are averaged first, never counted as separate observations), lenient accuracy
    and the format loss FL = lenient - strict with its interval; the gap G_v = acc_a,v - acc_b,v per
    variant and did = G_plain - G_concise (bootstrap).

    "The fix removes the format loss" is an equivalence claim, tested by two one-sided tests: the 90 %
    interval of the aligned model's FL under the concise prompt must lie inside
    [-analysis.equivalence_margin, +margin] (``fl_equivalent_a``). ``n`` counts items, ``rows`` the
    item x condition answers averaged inside them."""
    a, seed = params["analysis"], params["seed"]
    margin = a["equivalence_margin"]
    rows = []
    both = [d for d in params["benchmark"]["datasets"] if d in params["inference"]["concise_datasets"]
            and "plain" in params["inference"]["prompt_variants"]]
    for pair in pairs(params):
        for ds in both:
            m = {r: _variant_pair(f, getattr(pair, r), ds) for r in ("base", "aligned")}
            key = ["sample_id", "corruption", "severity"]
            j = m["base"].merge(m["aligned"], on=key, suffixes=("_b", "_a"))
            for image, sub in (("clean", j[j["severity"] == 0]), ("corrupted", j[j["severity"] > 0])):
                if sub.empty:
                    continue
                per_item = sub.groupby("sample_id")
                row = {"pair": pair.id, "dataset": ds, "image": image, "n": per_item.ngroups, "rows": len(sub)}
                for r, t in (("base", "b"), ("aligned", "a")):
                    d_verb = (sub[f"y_c_{t}"] - sub[f"y_p_{t}"]).groupby(sub["sample_id"]).mean().to_numpy()
                    fl = (sub[f"lenient_c_{t}"] - sub[f"y_c_{t}"]).groupby(sub["sample_id"]).mean().to_numpy()
                    bt = bootstrap_mean(fl, a["bootstrap"], seed, a["ci"])
                    tost = tost_bootstrap(fl, margin, a["bootstrap"], seed)
                    row.update({f"acc_concise_{t}": sub[f"y_c_{t}"].mean(), f"acc_plain_{t}": sub[f"y_p_{t}"].mean(),
                                f"d_verb_{t}": d_verb.mean(), f"p_verb_{t}": sign_flip(d_verb, 10000, seed),
                                f"lenient_plain_{t}": sub[f"lenient_p_{t}"].mean(),
                                f"fl_plain_{t}": (sub[f"lenient_p_{t}"] - sub[f"y_p_{t}"]).mean(),
                                f"fl_concise_{t}": bt["estimate"], f"fl_concise_{t}_lo": bt["ci_lo"],
                                f"fl_concise_{t}_hi": bt["ci_hi"], f"fl_tost_lo_{t}": tost["ci_lo"],
                                f"fl_tost_hi_{t}": tost["ci_hi"], f"fl_equivalent_{t}": tost["equivalent"]})
                d = ((sub["y_p_a"] - sub["y_p_b"]) - (sub["y_c_a"] - sub["y_c_b"])).groupby(sub["sample_id"]).mean()
                bt = bootstrap_mean(d.to_numpy(), a["bootstrap"], seed, a["ci"])
                row.update({"gap_concise": row["acc_concise_a"] - row["acc_concise_b"],
                            "gap_plain": row["acc_plain_a"] - row["acc_plain_b"],
                            "did": bt["estimate"], "did_lo": bt["ci_lo"], "did_hi": bt["ci_hi"],
                            "tost_margin": margin, "fix_removes_format_loss": row["fl_equivalent_a"]})
                rows.append(row)
    return pd.DataFrame(rows)


# --- 3. denominator sensitivity -----------------------------------------------------------

def sensitivity(acc_b, acc_a, clean_b: float, clean_a: float, n: int, min_denominator: float = 0.0) -> dict:
    """CE = E_a / E_b and relCE = R_a / R_b for one corruption (accuracies per severity), the base's
    headroom, and both recomputed with the base's denominator one item (1/n) either way."""
    acc_b, acc_a = np.asarray(acc_b, float), np.asarray(acc_a, float)
    S = len(acc_b)
    e_b, e_a = float((1 - acc_b).sum()), float((1 - acc_a).sum())
    r_b = float((1 - acc_b - (1 - clean_b)).sum())
    r_a = float((1 - acc_a - (1 - clean_a)).sum())
    step = 1.0 / n
    rel_ok = r_b * n >= max(min_denominator, 1e-9)

    def ratio(num, den):
        return num / den if den > 0 else np.nan

    return {"S": S, "E_b": e_b, "E_a": e_a, "headroom_b": 1 - e_b / S, "floor": 1 - e_b / S < FLOOR_HEADROOM,
            "ce": ratio(e_a, e_b), "ce_base_one_more_right": ratio(e_a, e_b - step),
            "ce_base_one_more_wrong": ratio(e_a, e_b + step),
            "R_b": r_b, "R_a": r_a, "rel_den_items": r_b * n, "rel_ok": rel_ok,
            "rel_ce": ratio(r_a, r_b) if rel_ok else np.nan, "rel_ce_unguarded": ratio(r_a, r_b),
            "rel_ce_den_minus_one": ratio(r_a, r_b - step), "rel_ce_den_plus_one": ratio(r_a, r_b + step)}


def ce_curve(e_a: float, S: int, base_acc=np.linspace(0.0, 0.95, 96)) -> pd.DataFrame:
    """CE(mean base accuracy) = E_a / (S (1 - acc_b)) for a fixed aligned error sum E_a."""
    base_acc = np.asarray(base_acc, float)
    return pd.DataFrame({"base_acc": base_acc, "ce": e_a / (S * (1 - base_acc))})


def denominator_sensitivity(scores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """``sensitivity`` per pair, dataset and corruption on the main prompt (binary-or-soft scores as
    the CE tables use them), with the bootstrap's share of undefined intra-pair CEs."""
    s = scores[scores["prompt_variant"] == MAIN_VARIANT]
    a = params["analysis"]
    rows = []
    for pair in pairs(params):
        for ds in params["benchmark"]["datasets"]:
            acc = s[s["dataset"] == ds].groupby(["model", "corruption", "severity"])["score"].agg(["mean", "size"])
            n = int(acc.loc[pair.base, "size"].min())
            cb, ca = acc.loc[(pair.base, CLEAN, 0), "mean"], acc.loc[(pair.aligned, CLEAN, 0), "mean"]
            for c in [c for c in acc.loc[pair.base].index.get_level_values(0).unique() if c != CLEAN]:
                ab, aa = acc.loc[(pair.base, c), "mean"], acc.loc[(pair.aligned, c), "mean"]
                rows.append({"pair": pair.id, "dataset": ds, "corruption": c, "n": n,
                             "clean_acc_b": cb, "clean_acc_a": ca, "mean_acc_b": float(ab.mean()),
                             "mean_acc_a": float(aa.mean()),
                             **sensitivity(ab.to_numpy(), aa.to_numpy(), cb, ca, n, a["min_denominator"])})
    return pd.DataFrame(rows)


# --- 4. format-controlled Rel. mCE ----------------------------------------------------------

def logit_outcome(letters, probs, answer) -> tuple[float, bool]:
    """(1 if the most probable option is the answer else 0, whether the maximum is tied); NaN
    without probabilities (excluded and counted, never imputed). np.argmax takes the first on ties."""
    if letters is None or probs is None:
        return np.nan, False
    p = np.asarray(list(probs), float)
    if p.size == 0 or not np.isfinite(p).all():
        return np.nan, False
    k = int(np.argmax(p))
    tie = int((p == p[k]).sum()) > 1
    return float(list(letters)[k] == answer), tie


def joint_compliant(f: pd.DataFrame, pair, reference: str, dataset: str) -> pd.DataFrame:
    """Rows of base, aligned and reference (main prompt, one dataset) restricted to the (item,
    condition) cells where base and aligned both answer in format; conditions (and with them
    their corruption) with fewer than ``N_MIN`` such items are dropped."""
    key = ["sample_id", "corruption", "severity"]
    s = f[(f["dataset"] == dataset) & (f["prompt_variant"] == MAIN_VARIANT)]
    ok = (s[s["model"] == pair.base].set_index(key)["comp_text"]
          & s[s["model"] == pair.aligned].set_index(key)["comp_text"]).fillna(False)
    cells = ok[ok].reset_index()[key]
    size = cells.groupby(["corruption", "severity"]).size()
    all_conds = s[["corruption", "severity"]].drop_duplicates()
    sized = all_conds.merge(size.rename("k").reset_index(), how="left").fillna({"k": 0})
    thin = sorted(set(sized.loc[sized["k"] < N_MIN, "corruption"]))
    keep = s[s["model"].isin({pair.base, pair.aligned, reference})].merge(cells, on=key)
    return keep[~keep["corruption"].isin([c for c in thin if c != CLEAN])], thin


def _masked_bootstrap(f: pd.DataFrame, pair, reference: str, dataset: str, mask: pd.Series | None,
                      n_boot: int, seed: int, ci: float) -> dict:
    """Paired item bootstrap of both Rel. mCE forms where each condition's accuracy is taken over the
    items of ``mask`` (items x conditions, True = counted) only; the mask is resampled with the items."""
    s = f[(f["dataset"] == dataset) & (f["corruption"] != CLEAN)]
    cubes = {m: s[s["model"] == m].pivot_table(index="sample_id", columns=["corruption", "severity"], values="score")
             for m in dict.fromkeys([pair.base, pair.aligned, reference])}
    items, conds = cubes[pair.base].index, cubes[pair.base].columns
    E = {m: 1 - c.reindex(index=items, columns=conds).to_numpy() for m, c in cubes.items()}
    W = (mask.unstack(["corruption", "severity"]).reindex(index=items, columns=conds).fillna(False).to_numpy(float)
         if mask is not None else np.ones_like(E[pair.base]))
    for m in E:
        W = W * np.isfinite(E[m])
        E[m] = np.nan_to_num(E[m])
    corr = list(dict.fromkeys(conds.get_level_values(0)))
    col_of = {c: np.flatnonzero(conds.get_level_values(0) == c) for c in corr}

    def stat(ix):
        w = W[ix]
        k = w.sum(axis=-2)
        with np.errstate(divide="ignore", invalid="ignore"):
            err = {m: np.where(k >= N_MIN, (E[m][ix] * w).sum(axis=-2) / k, np.nan) for m in E}
            tot = {m: np.stack([err[m][..., col_of[c]].sum(-1) for c in corr], -1) for m in E}
            ce_a, ce_b, ce_ab = tot[pair.aligned] / tot[reference], tot[pair.base] / tot[reference], \
                tot[pair.aligned] / tot[pair.base]
            return {"ratio": np.nanmean(ce_a, -1) / np.nanmean(ce_b, -1), "intra": np.nanmean(ce_ab, -1)}

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        boot = stat(resample_indices(len(items), n_boot, seed))
    out = {}
    for form, b in boot.items():
        b = np.asarray(b, float)
        fin = np.isfinite(b)
        lo, hi = percentile_interval(b, ci)
        out.update({f"{form}_lo": float(lo), f"{form}_hi": float(hi), f"{form}_undefined": float(1 - fin.mean())})
    return out


def format_controlled(f: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Per pair and dataset: Rel. mCE (ratio and intra forms) standard, on the jointly compliant
    items, and (MCQ) from option-probability argmax; point values by ``metrics.relative_mce`` on
    the filtered or re-scored rows, intervals by a paired item bootstrap; the share of cells kept."""
    a, seed, ref = params["analysis"], params["seed"], params["reference"]
    main = f[f["prompt_variant"] == MAIN_VARIANT]
    rows = []
    for pair in pairs(params):
        for ds in params["benchmark"]["datasets"]:
            views = {"standard": (main, None, "")}
            kept, thin = joint_compliant(f, pair, ref, ds)
            key = ["sample_id", "corruption", "severity"]
            mask = kept[kept["model"] == pair.base].set_index(key)["comp_text"].astype(bool)
            views["joint_compliant"] = (kept, mask, ", ".join(thin))
            if DATASETS[ds]["scorer"] == "mcq":
                m = main[main["dataset"] == ds]
                lo = [logit_outcome(L, p, y) for L, p, y in zip(m["option_letters"], m["option_probs"], m["answer"])]
                ml = m.assign(score=[v for v, _ in lo], tie=[t for _, t in lo]).dropna(subset=["score"])
                views["logit"] = (ml, None, f"{int(ml['tie'].sum())} tied argmax; {len(m) - len(ml)} without probabilities")
            n_all = len(main[(main["dataset"] == ds) & (main["model"] == pair.base)])
            for view, (rows_v, mask_v, note) in views.items():
                have = rows_v.loc[(rows_v["dataset"] == ds) & (rows_v["corruption"] != CLEAN), "model"].unique()
                if not {pair.base, pair.aligned, ref} <= set(have):
                    rows.append({"pair": pair.id, "dataset": ds, "view": view, "share_kept": 0.0,
                                 "note": f"no corrupted condition with {N_MIN}+ items answered in format by both"})
                    continue
                point = metrics.relative_mce(rows_v, pair.base, pair.aligned, ref, [ds], a["min_denominator"]).iloc[0]
                bt = _masked_bootstrap(rows_v, pair, ref, ds, mask_v, a["bootstrap"], seed, a["ci"])
                share = len(rows_v[(rows_v["dataset"] == ds) & (rows_v["model"] == pair.base)]) / n_all if n_all else np.nan
                rows.append({"pair": pair.id, "dataset": ds, "view": view, "share_kept": share,
                             "rel_mce_ratio": point["rel_mce_ratio"], "ratio_lo": bt["ratio_lo"], "ratio_hi": bt["ratio_hi"],
                             "rel_mce_intra": point["rel_mce_intra"], "intra_lo": bt["intra_lo"],
                             "intra_hi": bt["intra_hi"], "share_undefined": max(bt["ratio_undefined"], bt["intra_undefined"]),
                             "note": note})
    return pd.DataFrame(rows)


def conclusions(fc: pd.DataFrame) -> pd.DataFrame:
    """Per pair and dataset: does the interval of each view sit below 1, above 1, or contain it,
    and does the controlled view's verdict differ from the standard one?"""
    def verdict(lo, hi):
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return "undefined"
        return "aligned more robust" if hi < 1 else ("aligned less robust" if lo > 1 else "no difference shown")

    t = fc.assign(verdict=[verdict(lo, hi) for lo, hi in zip(fc["intra_lo"], fc["intra_hi"])])
    w = t.pivot_table(index=["pair", "dataset"], columns="view", values="verdict", aggfunc="first")
    for v in [c for c in w.columns if c != "standard"]:
        w[f"{v}_changes"] = w[v].notna() & (w[v] != w["standard"])
    return w.reset_index()


def labelled(t: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Model names -> display labels (for figures)."""
    return t.assign(model=t["model"].map(lambda m: label(params, m)))

