"""Misleading text in the prompt, alone and with a corrupted image (notebook 10; docs/methods.md section 8).

Each item that the ``mislead`` / ``truthful`` variants were asked on (``perturb.claim``) is
lined up with its ``concise`` answer ("none": the same prompt without the line) in the same
image condition: clean, or a corruption at the highest severity. Per model and condition:

- accuracy drop ``d_mislead = acc(mislead) - acc(none)`` (and ``d_truthful``), with paired
  item-bootstrap intervals;
- flip rate ``FR = #(right under none and wrong under mislead) / #(right under none)``; NaN
  when nothing was right under none;
- adoption rate ``AR``: the share of answers equal to the asserted wrong value w (MCQ: the
  parsed letter is w's letter; open-ended: the response contains w as a word), under mislead
  and, as its baseline, under none (a model may say w without being told);
- confidence (MCQ): mean change of the gold option's probability ``dp_y`` and of w's ``dp_w``.

The 2x2 composition, A_IT with I = 1 for the corrupted image and T = 1 for the misleading line:
``Int = (A11 - A10) - (A01 - A00)``, negative when the caption hurts more on a corrupted image. The
reference (T = 0) is reported both ways (``REFERENCES``): the truthful line, so that T isolates the
misleading *content*, and no line, so that T measures the presence of a caption at all.
Item-level contrasts d_i (averaged over the item's corruptions) give a bootstrap interval; a GEE
logistic model ``y ~ img * text`` clustered by item gives the log-odds interaction, which does
not depend on how close the cells are to the floor. The paper's section 4.6 explains its defocus
reversal by the aligned model "using language priors to fill in mildly degraded images"; if so,
its caption damage should grow more under corruption than the base's: the three-way contrast
``Int_aligned - Int_base`` (paired over items, sign-flip p) is negative.

Binary outcomes follow ``outcomes.binary`` (soft VQA scores: at least two annotators matched).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..design import MAIN_VARIANT, item_id, label, pairs
from ..prompts import MISLEAD, TEXT_VARIANTS, TRUTHFUL
from .section import Section
from ..scoring import contains_answer
from ..stats import bootstrap_mean, gee_interaction, sign_flip
from .outcomes import binary_scores

REPORT = [
    Section(10, "Misleading text in the prompt: a second robustness axis", "10_text_perturbation",
            "A wrong (mislead) or right (truthful) caption or hint before the question, on clean images and at the "
            "highest severity: accuracy drop, flip and adoption rates, the change in the gold option's probability; "
            "the 2x2 image x text interaction per model and the three-way test of the paper's section 4.6 "
            "explanation (the aligned model's caption damage grows more under corruption).",
            tables=("text_perturbation", "text_interaction", "text_three_way"), figures=("figure_text_2x2",)),
]

NONE = "none"  # the concise prompt without a line: the reference of every text effect
CLEAN_LABEL, CORRUPTED = "clean", "corrupted (pooled)"
VARIANTS = (NONE, *TEXT_VARIANTS)


# --- the hand-checkable pieces ----------------------------------------------------

def flip_rate(y_none, y_mislead) -> float:
    """Share of the items right under none that are wrong under mislead (NaN if none were right)."""
    yn, ym = np.asarray(y_none, bool), np.asarray(y_mislead, bool)
    return float((yn & ~ym).sum() / yn.sum()) if yn.any() else np.nan


def interaction(a00: float, a01: float, a10: float, a11: float) -> float:
    """(A11 - A10) - (A01 - A00): first index image corrupted, second text misleading."""
    return (a11 - a10) - (a01 - a00)


def adopted(response, parsed, asserted, is_mcq: bool) -> bool:
    """Did the answer take up the asserted value (MCQ: its letter was parsed; else: w is in the response)?"""
    if asserted is None or (isinstance(asserted, float) and np.isnan(asserted)):
        return False
    if is_mcq:
        return parsed == asserted
    return contains_answer("" if response is None else str(response), str(asserted))


def option_prob(letters, probs, letter) -> float:
    """The probability of ``letter`` among the stored option probabilities (NaN when absent)."""
    if letters is None or probs is None or letter is None:
        return np.nan
    letters = list(letters)
    return float(list(probs)[letters.index(letter)]) if letter in letters else np.nan


# --- the item table ----------------------------------------------------------------

def item_table(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, dataset, item, corruption, severity) that a text variant was asked in,
    with per variant v in (none, mislead, truthful): ``y_v`` (binary), ``adopt_v`` (took up the
    mislead claim w), ``p_y_v``, ``p_w_v`` (gold and w option probabilities, MCQ)."""
    key = ["model", "dataset", "sample_id", "corruption", "severity"]
    mis = scores[scores["prompt_variant"] == MISLEAD]
    if mis.empty:
        return pd.DataFrame(columns=key)
    w = mis[key + ["claim"]].rename(columns={"claim": "w"})
    out = w
    for v, name in ((MAIN_VARIANT, NONE), (MISLEAD, MISLEAD), (TRUTHFUL, TRUTHFUL)):
        s = scores[scores["prompt_variant"] == v]
        if s.empty:
            continue
        s = s.merge(w, on=key, how="inner")
        is_mcq = s["option_letters"].notna()
        cols = pd.DataFrame({
            f"y_{name}": binary_scores(s),
            f"adopt_{name}": [adopted(r, p, a, m) for r, p, a, m in zip(s["response"], s["parsed"], s["w"], is_mcq)],
            f"p_y_{name}": [option_prob(L, p, y) for L, p, y in zip(s["option_letters"], s["option_probs"], s["answer"])],
            f"p_w_{name}": [option_prob(L, p, x) for L, p, x in zip(s["option_letters"], s["option_probs"], s["w"])],
        }, index=s.index)
        out = out.merge(pd.concat([s[key], cols], axis=1), on=key, how="inner")
    out["item"] = item_id(out)
    out["image"] = np.where(out["severity"] == 0, CLEAN_LABEL, out["corruption"])
    return out.sort_values(key).reset_index(drop=True)


# --- effects per model and condition -----------------------------------------------

def _effects_row(g: pd.DataFrame, B: int, seed: int, ci: float) -> dict:
    row = {"n": len(g)}
    for v in VARIANTS:
        if f"y_{v}" in g:
            row[f"acc_{v}"] = g[f"y_{v}"].mean()
    for v in TEXT_VARIANTS:
        if f"y_{v}" not in g:
            continue
        per_item = (g[f"y_{v}"] - g[f"y_{NONE}"]).groupby(g["item"]).mean()
        bt = bootstrap_mean(per_item.to_numpy(), B, seed, ci)
        row.update({f"d_{v}": bt["estimate"], f"d_{v}_lo": bt["ci_lo"], f"d_{v}_hi": bt["ci_hi"]})
    if f"y_{TRUTHFUL}" in g:  # the misleading content alone: mislead against the same line told truthfully
        per_item = (g[f"y_{MISLEAD}"] - g[f"y_{TRUTHFUL}"]).groupby(g["item"]).mean()
        bt = bootstrap_mean(per_item.to_numpy(), B, seed, ci)
        row.update({"d_mislead_vs_truthful": bt["estimate"], "d_mislead_vs_truthful_lo": bt["ci_lo"],
                    "d_mislead_vs_truthful_hi": bt["ci_hi"]})
    row["flip_rate"] = flip_rate(g[f"y_{NONE}"], g[f"y_{MISLEAD}"])
    row["adopt_none"], row["adopt_mislead"] = g[f"adopt_{NONE}"].mean(), g[f"adopt_{MISLEAD}"].mean()
    mcq = g[f"p_y_{NONE}"].notna()
    row["dp_y"] = (g.loc[mcq, f"p_y_{MISLEAD}"] - g.loc[mcq, f"p_y_{NONE}"]).mean() if mcq.any() else np.nan
    row["dp_w"] = (g.loc[mcq, f"p_w_{MISLEAD}"] - g.loc[mcq, f"p_w_{NONE}"]).mean() if mcq.any() else np.nan
    return row


def effects(t: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Per model x dataset x image condition (clean, each corruption, the corruptions pooled)."""
    a = params["analysis"]
    rows = []
    views = [(c, t[t["image"] == c]) for c in t["image"].unique()] + [(CORRUPTED, t[t["severity"] > 0])]
    for cond, sub in views:
        for (model, ds), g in sub.groupby(["model", "dataset"], sort=True):
            rows.append({"model": model, "dataset": ds, "image": cond,
                         **_effects_row(g, a["bootstrap"], params["seed"], a["ci"])})
    return pd.DataFrame(rows)


# --- the 2x2 interaction ------------------------------------------------------------

ALL = "all datasets"


# The two references a misleading line is compared with: ``truthful`` isolates the misleading
# *content* (the same line, with the true value); ``none`` measures the presence of a caption line at
# all (a truthful line costs some models as much as a wrong one).
REFERENCES = {TRUTHFUL: "truthful (misleading content)", NONE: "none (a caption line)"}


def item_contrasts(g: pd.DataFrame, reference: str = TRUTHFUL) -> pd.Series:
    """Per item: mean over its corruptions of (y_c,mis - y_c,ref) - (y_0,mis - y_0,ref): how much more
    the misleading line costs on a corrupted image than on the clean one, against ``reference``."""
    clean = g[g["severity"] == 0].set_index("item")
    cor = g[g["severity"] > 0]
    caption_clean = (clean[f"y_{MISLEAD}"] - clean[f"y_{reference}"])
    d = (cor[f"y_{MISLEAD}"] - cor[f"y_{reference}"]).to_numpy() - cor["item"].map(caption_clean).to_numpy()
    return pd.Series(d, index=cor["item"].to_numpy()).groupby(level=0).mean().dropna()


def _long(g: pd.DataFrame, reference: str = TRUTHFUL) -> pd.DataFrame:
    parts = [pd.DataFrame({"item": g["item"], "dataset": g["dataset"], "img": (g["severity"] > 0).astype(int),
                           "text": t, "y": g[f"y_{v}"]})
             for t, v in ((0, reference), (1, MISLEAD))]
    return pd.concat(parts, ignore_index=True)


def _references(g: pd.DataFrame):
    """The references this item table has (``truthful`` only where the run asked it)."""
    return [r for r in REFERENCES if f"y_{r}" in g]


def _datasets(t: pd.DataFrame):
    for ds in sorted(t["dataset"].unique()):
        yield ds, t[t["dataset"] == ds]
    if t["dataset"].nunique() > 1:
        yield ALL, t


def interaction_table(t: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Per model, dataset (and all datasets pooled) and reference (``REFERENCES``): the four cells, Int
    with a bootstrap interval over items, and the GEE log-odds interaction (``img:text``, clustered on
    the item; pooled over datasets with a dataset term) with its p-value."""
    a = params["analysis"]
    rows = []
    for model in sorted(t["model"].unique()):
        for ds, g in _datasets(t[t["model"] == model]):
            for ref in _references(g):
                cl, co = g[g["severity"] == 0], g[g["severity"] > 0]
                cells = {"A00": cl[f"y_{ref}"].mean(), "A01": cl[f"y_{MISLEAD}"].mean(),
                         "A10": co[f"y_{ref}"].mean(), "A11": co[f"y_{MISLEAD}"].mean()}
                bt = bootstrap_mean(item_contrasts(g, ref).to_numpy(), a["bootstrap"], params["seed"], a["ci"])
                formula = "y ~ img * text" + (" + C(dataset)" if ds == ALL else "")
                gee = gee_interaction(_long(g, ref), formula, "img:text", separation_by=["img", "text"])
                rows.append({"model": model, "dataset": ds, "reference": REFERENCES[ref], "items": g["item"].nunique(),
                             **cells, "int": interaction(*cells.values()), "int_lo": bt["ci_lo"], "int_hi": bt["ci_hi"],
                             "gee_log_odds": gee["coef"], "gee_se": gee["se"], "gee_p": gee["p"],
                             "gee_status": gee["status"]})
    return pd.DataFrame(rows)


def three_way(t: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Per pair and dataset (and pooled): Int(aligned) - Int(base) over the items both answered,
    with a paired bootstrap interval and a sign-flip p-value (H0: equal caption x corruption
    interaction)."""
    a = params["analysis"]
    rows = []
    for pair in pairs(params):
        sub = t[t["model"].isin([pair.base, pair.aligned])]
        for ds, g in _datasets(sub):
            for ref in _references(g):
                cb = item_contrasts(g[g["model"] == pair.base], ref)
                ca = item_contrasts(g[g["model"] == pair.aligned], ref)
                d = (ca - cb).dropna()
                bt = bootstrap_mean(d.to_numpy(), a["bootstrap"], params["seed"], a["ci"])
                rows.append({"pair": pair.id, "label": pair.label, "dataset": ds, "reference": REFERENCES[ref],
                             "items": len(d), "int_base": cb.mean(), "int_aligned": ca.mean(), "diff": bt["estimate"],
                             "ci_lo": bt["ci_lo"], "ci_hi": bt["ci_hi"],
                             "p_sign_flip": sign_flip(d.to_numpy(), 10000, params["seed"]) if len(d) else np.nan})
    return pd.DataFrame(rows)


def cells_for_figure(t: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Long accuracy cells (pooled over datasets) for the interaction plot: pair, role, model,
    image (clean / corrupted), text variant, accuracy and n."""
    rows = []
    for pair in pairs(params):
        for role, model in (("base", pair.base), ("aligned", pair.aligned)):
            g = t[t["model"] == model]
            for img, sub in ((CLEAN_LABEL, g[g["severity"] == 0]), ("corrupted", g[g["severity"] > 0])):
                for v in VARIANTS:
                    if f"y_{v}" in sub and len(sub):
                        rows.append({"pair": pair.id, "role": role, "model": label(params, model), "image": img,
                                     "text": v, "acc": sub[f"y_{v}"].mean(), "n": len(sub)})
    return pd.DataFrame(rows)
