"""The confirmatory endpoint: how much accuracy corruption costs the base model, minus how much it
costs the aligned model, item by item.

The paper's question is whether alignment changes *degradation*, not accuracy. Rel. mCE (the
paper's metric) divides corrupted error by the reference's, so a model that is simply more accurate
on clean images scores better whatever its robustness, and a robustness effect can hide below a
clean-accuracy difference. The endpoint removes clean accuracy item by item:

    lost_i(m) = score_i(m, clean) - mean over the run's corrupted conditions c of score_i(m, c)
    D_i       = lost_i(base) - lost_i(aligned)

D_i > 0: the aligned model loses less on item i. The estimate is mean D_i with a paired item
bootstrap interval (``stats.bootstrap_mean``: the items are resampled, each carrying all of its
conditions, so one item is never counted as several), a two-sided sign-flip test of mean D = 0
(``stats.sign_flip``, one sign per item), and Holm's adjustment over the pair x dataset family.
The conditions are the main prompt variant's (the concise prompt), every corruption and severity the
run evaluates, weighted alike. A pooled row per pair treats the datasets' items as one sample
(descriptive: the family is per dataset).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import stats
from ..corruptions import CLEAN
from ..design import MAIN_VARIANT, item_id

POOLED = "pooled"
COLUMNS = ["pair", "base", "aligned", "dataset", "n_items", "base_lost", "aligned_lost", "estimate", "ci_lo",
           "ci_hi", "p", "p_holm", "direction"]


def item_losses(scores: pd.DataFrame, models, variant: str = MAIN_VARIANT) -> pd.DataFrame:
    """Accuracy lost to corruption per model and item: one row per (model, item) with ``dataset``,
    ``clean``, ``corrupted`` (mean over the corrupted conditions the item has) and ``lost``. Items
    without a clean score or without any corrupted score are left out."""
    s = scores[(scores["prompt_variant"] == variant) & scores["model"].isin(list(models))]
    s = s.assign(item=item_id(s), is_clean=s["corruption"] == CLEAN)
    clean = s[s["is_clean"]].groupby(["model", "item"]).agg(dataset=("dataset", "first"), clean=("score", "mean"))
    # each condition once per item (mean over duplicates, e.g. shards), then the mean over conditions
    cond = (s[~s["is_clean"]].groupby(["model", "item", "corruption", "severity"])["score"].mean()
            .groupby(["model", "item"]).mean().rename("corrupted"))
    out = clean.join(cond, how="inner")
    out["lost"] = out["clean"] - out["corrupted"]
    return out.reset_index()


def paired_losses(scores: pd.DataFrame, base: str, aligned: str, variant: str = MAIN_VARIANT) -> pd.DataFrame:
    """Per item of both models: ``base_lost``, ``aligned_lost`` and ``d`` = their difference."""
    lost = item_losses(scores, (base, aligned), variant)
    wide = lost.pivot(index="item", columns="model", values="lost").dropna()
    if base not in wide or aligned not in wide:
        return pd.DataFrame(columns=["item", "dataset", "base_lost", "aligned_lost", "d"])
    ds = lost.drop_duplicates("item").set_index("item")["dataset"]
    return pd.DataFrame({"item": wide.index, "dataset": ds.reindex(wide.index).to_numpy(),
                         "base_lost": wide[base].to_numpy(), "aligned_lost": wide[aligned].to_numpy(),
                         "d": (wide[base] - wide[aligned]).to_numpy()})


def _row(d: pd.DataFrame, n_boot: int, seed: int, ci: float) -> dict:
    b = stats.bootstrap_mean(d["d"].to_numpy(), n_boot, seed, ci)
    p = stats.sign_flip(d["d"].to_numpy(), seed=seed) if len(d) else np.nan
    return {"n_items": len(d), "base_lost": d["base_lost"].mean(), "aligned_lost": d["aligned_lost"].mean(),
            "estimate": b["estimate"], "ci_lo": b["ci_lo"], "ci_hi": b["ci_hi"], "p": p}


def direction(lo: float, hi: float) -> str:
    """What the interval says: the aligned model loses less, more, or the interval contains 0."""
    if lo > 0:
        return "aligned loses less"
    if hi < 0:
        return "aligned loses more"
    return "interval contains 0"


def endpoint(scores: pd.DataFrame, pairs, n_boot: int = 2000, seed: int = 0, ci: float = 0.95,
             variant: str = MAIN_VARIANT) -> pd.DataFrame:
    """The endpoint per pair x dataset, Holm-adjusted over that family, plus a pooled row per pair.

    ``pairs``: ``design.Pair``-like objects (``id``, ``base``, ``aligned``). Every row uses the same
    bootstrap seed, so pairs that share a base are resampled alike.
    """
    rows = []
    for pair in pairs:
        d = paired_losses(scores, pair.base, pair.aligned, variant)
        for ds in sorted(d["dataset"].unique()):
            rows.append({"pair": pair.id, "base": pair.base, "aligned": pair.aligned, "dataset": ds,
                         **_row(d[d["dataset"] == ds], n_boot, seed, ci)})
        if d["dataset"].nunique() > 1:
            rows.append({"pair": pair.id, "base": pair.base, "aligned": pair.aligned, "dataset": POOLED,
                         **_row(d, n_boot, seed, ci)})
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("p_holm", "direction")])
    family = out["dataset"] != POOLED
    out["p_holm"] = np.nan
    if family.any():
        out.loc[family, "p_holm"] = stats.adjust(out.loc[family, "p"].to_numpy(), "holm")
    out["direction"] = [direction(lo, hi) for lo, hi in zip(out["ci_lo"], out["ci_hi"])]
    return out[COLUMNS]


def summary(ep: pd.DataFrame) -> str:
    """The endpoint in sentences, generated from the table (so the narration cannot drift from it)."""
    lines = []
    for pid, g in ep.groupby("pair", sort=False):
        tasks = g[g["dataset"] != POOLED]
        pooled = g[g["dataset"] == POOLED]
        above, below = int((tasks["ci_lo"] > 0).sum()), int((tasks["ci_hi"] < 0).sum())
        holm = int((tasks["p_holm"] < 0.05).sum())
        head = (f"pooled {pooled['estimate'].iloc[0]:+.3f} [{pooled['ci_lo'].iloc[0]:+.3f}, "
                f"{pooled['ci_hi'].iloc[0]:+.3f}]; " if len(pooled) else "")
        lines.append(f"- **{pid}** ({g['base'].iloc[0]} vs {g['aligned'].iloc[0]}): {head}interval above 0 on "
                     f"{above} of {len(tasks)} datasets, below 0 on {below}; Holm-adjusted p < 0.05 on {holm}.")
    return "\n".join(lines)
