"""Notebook 08, prediction structure (the BENCH-C seed): below accuracy, in the option probabilities.

For every multiple-choice item the inference stored the probability of each option letter at the
first generated position (``option_probs``). Comparing an item's clean distribution p_o with its
corrupted one p (docs/methods.md section 7, the seed's eqs. 6-10):

- normalised entropy S(p) = -sum p log p / log K (uncertainty), dS = S(p) - S(p_o);
- calibration error C = |1{argmax p = y} - max p|, dC = C(p) - C(p_o);
- RAS = -dC - [dC]+ [-dS]+ - [dS]+ [-dC]+. **The project's reading of eq. 10**: the printed "+"
  between the penalty brackets, read literally (RAS = -dC - |dC| - |dS| <= 0), contradicts the
  seed's own range [-2, 1] and its positive RAS values; the product reading gives exactly
  [-2, 1] (minimum at dC = 1, dS = -1; maximum at dC = -1, dS <= 0);
- quadrants: degraded (dS up, dC up), overconfident (dC up only), hesitant (dS up only), stable;
  "up" means > 1e-12, so identical distributions are stable;
- transitions RR, RW, WR, WW from argmax correctness clean -> corrupted; destructive RAS (mean over
  clean-correct items) and corrective RAS (clean-wrong items);
- discriminative power kappa(q): the mean over corruptions and models of the Gini impurity of an
  item's top-1 predictions across severities, (1 - sum pi^2) / (1 - 1/K); and a greedy
  discriminative subset with a pluggable embedding.

Items whose probabilities are missing in either condition are excluded and counted, never imputed;
every summary is also given on the items whose letter mass is at least ``MASS_MIN`` in both
conditions (a base model's letter distribution can be noise).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import entr

from ..corruptions import CLEAN
from ..data import DATASETS
from ..design import main_scores, pairs, run_models
from .section import Section
from ..stats import bootstrap_mean

UP = 1e-12
MASS_MIN = 0.5
QUADRANTS = ("degraded", "overconfident", "hesitant", "stable")

REPORT = [
    Section(70, "Prediction structure: the Robustness Alignment Score (BENCH-C)", "08_prediction_structure",
            "From the stored option probabilities: uncertainty and calibration changes, RAS, behaviour quadrants, "
            "destructive and corrective RAS, the pair contrast, discriminative power and a discriminative subset.",
            tables=("table_ras_summary", "ras_pair_contrast", "ras_quadrants", "ras_destructive_corrective",
                    "ras_coverage", "discriminative_subset"),
            figures=("figure_ras_quadrants", "figure_ras_destructive_corrective", "figure_kappa_hist")),
]


def entropy_norm(p) -> np.ndarray:
    """Normalised entropy in [0, 1] of distributions along the last axis (0 log 0 = 0)."""
    p = np.asarray(p, float)
    k = p.shape[-1]
    return entr(p).sum(-1) / np.log(k)


def calibration_error(p, y) -> np.ndarray:
    """|1{argmax p = y} - max p| (argmax: first index on ties)."""
    p = np.asarray(p, float)
    return np.abs((p.argmax(-1) == np.asarray(y)).astype(float) - p.max(-1))


def ras(d_s, d_c) -> np.ndarray:
    """RAS = -dC - [dC]+ [-dS]+ - [dS]+ [-dC]+ (the product reading of eq. 10; range [-2, 1])."""
    d_s, d_c = np.asarray(d_s, float), np.asarray(d_c, float)
    pos = lambda v: np.maximum(v, 0.0)  # noqa: E731
    return -d_c - pos(d_c) * pos(-d_s) - pos(d_s) * pos(-d_c)


def quadrant(d_s, d_c) -> np.ndarray:
    s_up, c_up = np.asarray(d_s) > UP, np.asarray(d_c) > UP
    return np.select([s_up & c_up, c_up, s_up], ["degraded", "overconfident", "hesitant"], "stable")


def transition(right_clean, right_corrupted) -> np.ndarray:
    a, b = np.asarray(right_clean, bool), np.asarray(right_corrupted, bool)
    return np.where(a, np.where(b, "RR", "RW"), np.where(b, "WR", "WW"))


def gini(predictions, k: int) -> float:
    """Normalised Gini impurity of a set of top-1 predictions over K options (0: always the same option)."""
    pred = np.asarray(predictions)
    if pred.size == 0:
        return np.nan
    _, counts = np.unique(pred, return_counts=True)
    pi = counts / counts.sum()
    return float((1 - np.sum(pi ** 2)) / (1 - 1 / k))


def item_table(scores: pd.DataFrame, params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per (model, MCQ item, corrupted condition) with the clean and corrupted distributions'
    S, C, their changes, RAS, quadrant, transition, argmax/text agreement; and a coverage table of what
    was excluded (missing probabilities, K = 1)."""
    s = main_scores(scores)
    mcq = [d for d in params["benchmark"]["datasets"] if DATASETS[d]["scorer"] == "mcq"]
    s = s[s["dataset"].isin(mcq) & s["model"].isin(run_models(params))].copy()
    cov = []
    ok = s["option_probs"].map(lambda v: v is not None and len(v) > 1 and np.all(np.isfinite(np.asarray(v, float))))
    s["k"] = s["option_probs"].map(lambda v: len(v) if v is not None else 0)
    s["y"] = [str(l).find(str(a)) if isinstance(l, str) else -1 for l, a in zip(s["option_letters"], s["answer"])]
    for (m, d), g in s.groupby(["model", "dataset"]):
        cov.append({"model": m, "dataset": d, "rows": len(g), "missing_or_k1": int((~ok[g.index]).sum())})
    s = s[ok & (s["y"] >= 0)]
    key = ["model", "dataset", "sample_id"]
    clean = s[s["corruption"] == CLEAN][key + ["option_probs", "letter_mass", "score"]]
    t = s[s["corruption"] != CLEAN].merge(clean, on=key, suffixes=("", "0"))  # items without a clean row drop out
    t = t[t["option_probs"].map(len) == t["option_probs0"].map(len)]
    t = t.rename(columns={"option_probs0": "p0", "option_probs": "p", "letter_mass0": "mass0",
                          "letter_mass": "mass"})[key + ["corruption", "severity", "k", "y", "p0", "p", "mass0",
                                                          "mass", "score0", "score"]].reset_index(drop=True)
    if t.empty:
        return t, pd.DataFrame(cov)
    t["severity"] = t["severity"].astype(int)
    p0 = [np.asarray(v, float) for v in t["p0"]]
    p = [np.asarray(v, float) for v in t["p"]]
    y = t["y"].to_numpy()
    s0, s1 = np.array([entropy_norm(v) for v in p0]), np.array([entropy_norm(v) for v in p])
    c0 = np.array([calibration_error(v, k) for v, k in zip(p0, y)])
    c1 = np.array([calibration_error(v, k) for v, k in zip(p, y)])
    right0 = np.array([np.argmax(v) == k for v, k in zip(p0, y)])
    right1 = np.array([np.argmax(v) == k for v, k in zip(p, y)])
    t["S0"], t["dS"], t["C0"], t["dC"] = s0, s1 - s0, c0, c1 - c0
    t["ras"] = ras(t["dS"], t["dC"])
    t["quadrant"] = quadrant(t["dS"], t["dC"])
    t["transition"] = transition(right0, right1)
    t["right_clean"], t["right"] = right0, right1
    t["pred"] = [int(np.argmax(v)) for v in p]
    t["tie_clean"] = [(v == v.max()).sum() > 1 for v in p0]
    t["argmax_agrees_text"] = right1 == (t["score"].to_numpy() >= 0.5)
    t["mass_ok"] = (t["mass0"] >= MASS_MIN) & (t["mass"] >= MASS_MIN)
    return t.drop(columns=["p0", "p"]), pd.DataFrame(cov)


METRICS = ("ras", "dS", "dC", "S0", "C0")


def kappa(t: pd.DataFrame) -> pd.DataFrame:
    """Discriminative power per item: the mean over corruptions and models of the Gini impurity of the
    item's top-1 predictions across severities (clean excluded, as in the seed). With 3 severities and
    4 options the maximum is 0.889. The selectors are the run's own models (circular: BENCH-C's were
    disjoint from the models it evaluated), so results are also reported with kappa = 1."""
    g = t.groupby(["dataset", "sample_id", "corruption", "model"]).agg(pred=("pred", list), k=("k", "first"))
    g["gini"] = [gini(p, k) for p, k in zip(g["pred"], g["k"])]
    return g.groupby(["dataset", "sample_id"])["gini"].mean().rename("kappa").reset_index()


def summary(t: pd.DataFrame, kap: pd.DataFrame) -> pd.DataFrame:
    """The seed's Table 1 analogue per model and dataset: clean accuracy (argmax), its change, RAS, clean
    uncertainty and calibration error and their changes; unweighted and kappa-weighted (each condition's
    item mean weighted by kappa, normalised by the sum of kappa: eq. 11 as printed lacks the normaliser),
    on all items and on the items whose letter mass is >= MASS_MIN in both conditions."""
    t = t.merge(kap, on=["dataset", "sample_id"], how="left")
    t["d_acc"] = t["right"].astype(float) - t["right_clean"].astype(float)
    rows = []
    for subset, sub in (("all items", t), (f"letter mass >= {MASS_MIN}", t[t["mass_ok"]])):
        for (m, d), g in sub.groupby(["model", "dataset"]):
            for weighting in ("unweighted", "kappa-weighted"):
                w = g["kappa"].fillna(0) if weighting == "kappa-weighted" else pd.Series(1.0, index=g.index)
                per_cond = g.assign(w=w).groupby(["corruption", "severity"]).apply(
                    lambda x: pd.Series({c: np.average(x[c], weights=x["w"]) if x["w"].sum() > 0 else np.nan
                                         for c in ("d_acc", *METRICS)}), include_groups=False)
                clean = g.drop_duplicates("sample_id")
                rows.append({"model": m, "dataset": d, "subset": subset, "weighting": weighting,
                             "items": clean["sample_id"].nunique(),
                             "acc_clean": float(np.average(clean["right_clean"], weights=w[clean.index])
                                                if w[clean.index].sum() > 0 else np.nan),
                             **per_cond.mean().rename({"S0": "S_clean", "C0": "C_clean"}).to_dict(),
                             "argmax_agrees_text": float(g["argmax_agrees_text"].mean())})
    return pd.DataFrame(rows)


def quadrant_counts(t: pd.DataFrame) -> pd.DataFrame:
    """Item-conditions per model, quadrant and transition."""
    return t.groupby(["model", "quadrant", "transition"]).size().rename("count").reset_index()


def destructive_corrective(t: pd.DataFrame) -> pd.DataFrame:
    """Mean RAS per model and corruption over clean-correct items (destructive: RR, RW) and clean-wrong
    items (corrective: WR, WW): the seed's Figure 6 matrices."""
    t = t.assign(part=np.where(t["right_clean"], "destructive", "corrective"))
    return t.groupby(["model", "corruption", "part"])["ras"].agg(["mean", "size"]).reset_index()


def pair_contrast(t: pd.DataFrame, params: dict) -> pd.DataFrame:
    """RAS(aligned) - RAS(base) per pair and dataset: per item, the mean RAS over conditions, then a paired
    item bootstrap; on all items and on items with letter mass >= MASS_MIN for both models at clean."""
    a = params["analysis"]
    per_item = t.groupby(["model", "dataset", "sample_id"]).agg(ras=("ras", "mean"), mass0=("mass0", "first"))
    rows = []
    for p in pairs(params):
        for d in sorted(t["dataset"].unique()):
            try:
                b, al = per_item.loc[(p.base, d)], per_item.loc[(p.aligned, d)]
            except KeyError:
                continue
            j = b.add_suffix("_b").join(al.add_suffix("_a"), how="inner")
            for subset, jj in (("all items", j), (f"letter mass >= {MASS_MIN}",
                                                  j[(j["mass0_b"] >= MASS_MIN) & (j["mass0_a"] >= MASS_MIN)])):
                bt = bootstrap_mean((jj["ras_a"] - jj["ras_b"]).to_numpy(), a["bootstrap"], params["seed"], a["ci"])
                rows.append({"pair": p.id, "dataset": d, "subset": subset, "items": len(jj),
                             "ras_base": jj["ras_b"].mean(), "ras_aligned": jj["ras_a"].mean(),
                             "delta_ras": bt["estimate"], "ci_lo": bt["ci_lo"], "ci_hi": bt["ci_hi"]})
    return pd.DataFrame(rows)


def thumbnail_embedding(image: bytes, side: int = 16) -> np.ndarray:
    """The offline substitute for a ViT image embedding: the L2-normalised grey thumbnail."""
    import io

    from PIL import Image

    v = np.asarray(Image.open(io.BytesIO(image)).convert("L").resize((side, side)), float).ravel()
    return v / (np.linalg.norm(v) or 1.0)


def hashed_words_embedding(text: str, dim: int = 256) -> np.ndarray:
    """The offline substitute for a sentence embedding: an L2-normalised hashed bag of words."""
    import hashlib

    v = np.zeros(dim)
    for w in str(text).lower().split():
        v[int.from_bytes(hashlib.sha256(w.encode()).digest()[:4], "little") % dim] += 1
    return v / (np.linalg.norm(v) or 1.0)


def _cos(a, b) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb)) if na and nb else 0.0


def greedy_subset(keys: list[str], kap, embeddings: dict[str, np.ndarray], alpha1: float = 1.0,
                  alpha2: float = 1.0) -> pd.DataFrame:
    """The seed's greedy discriminative subset: repeatedly take the item maximising
    alpha1 kappa(q) + alpha2 D_s(q, A), D_s = 2 - sum over modalities of cos(z_m(q), mean of z_m(A))
    (D_s = 2 for the first pick; ties -> lowest key); items with kappa = 0 are dropped; the items whose
    objective at selection exceeds the mean objective are kept. ``embeddings``: modality -> (items, dim)
    L2-normalised rows, in ``keys`` order (a pluggable embedding)."""
    kap = np.asarray(kap, float)
    order = sorted(range(len(keys)), key=lambda i: keys[i])
    left = [i for i in order if kap[i] > 0]
    chosen, rows = [], []
    while left:
        if chosen:
            means = {m: e[chosen].mean(0) for m, e in embeddings.items()}
            div = {i: 2 - sum(_cos(e[i], means[m]) for m, e in embeddings.items()) for i in left}
        else:
            div = {i: 2.0 for i in left}
        best = max(left, key=lambda i: (alpha1 * kap[i] + alpha2 * div[i], -order.index(i)))
        rows.append({"key": keys[best], "kappa": kap[best], "diversity": div[best],
                     "objective": alpha1 * kap[best] + alpha2 * div[best], "rank": len(chosen) + 1})
        chosen.append(best)
        left.remove(best)
    out = pd.DataFrame(rows, columns=["key", "kappa", "diversity", "objective", "rank"])
    out["kept"] = out["objective"] > out["objective"].mean() if len(out) else pd.Series(dtype=bool)
    return out
