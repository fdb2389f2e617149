"""Item-level outcomes of a pair, lined up for paired statistics (shared by notebooks 04 and 07).

Rules (docs/methods.md section 0): the item key is ``dataset|sample_id`` (sample ids repeat
across the synthetic datasets); every paired statistic inner-joins base and aligned on
(item, corruption, severity) and reports how many rows the join dropped; the binary outcome
is the score for binary scorers and 1{score >= 0.5} (at least two annotators matched) for
the soft VQA score, whose permutation tests use the raw soft scores instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import DATASETS
from ..design import Pair, item_id, main_scores

SOFT_THRESHOLD = 0.5


def is_soft(dataset: str) -> bool:
    """Does the dataset's scorer give soft scores (the VQA accuracy), not 0/1?"""
    return DATASETS[dataset]["scorer"] == "vqa"


def binary(score, dataset: str):
    """The binary outcome of a score (soft VQA scores: at least two annotators matched)."""
    s = np.asarray(score, float)
    return (s >= SOFT_THRESHOLD).astype(float) if is_soft(dataset) else s


def binary_scores(s: pd.DataFrame) -> np.ndarray:
    """``binary`` of a frame's ``score`` column, dataset by dataset (rows may mix datasets)."""
    y = np.empty(len(s))
    score = s["score"].to_numpy(float)
    for ds, idx in s.groupby("dataset").indices.items():
        y[idx] = binary(score[idx], ds)
    return y


def paired(scores: pd.DataFrame, pair: Pair, dataset: str, corrupted_only: bool = False) -> tuple[pd.DataFrame, int]:
    """One row per (item, corruption, severity) with ``y_b``, ``y_a`` (binary) and ``s_b``, ``s_a``
    (raw scores), main prompt variant only; and the number of rows the inner join dropped."""
    s = main_scores(scores)
    s = s[s["dataset"] == dataset]
    if corrupted_only:
        s = s[s["severity"] > 0]
    key = ["sample_id", "corruption", "severity"]
    b = s[s["model"] == pair.base][key + ["score"]].rename(columns={"score": "s_b"})
    a = s[s["model"] == pair.aligned][key + ["score"]].rename(columns={"score": "s_a"})
    m = b.merge(a, on=key, how="inner")
    dropped = len(b) + len(a) - 2 * len(m)
    m["item"] = item_id(m.assign(dataset=dataset))
    m["y_b"], m["y_a"] = binary(m["s_b"], dataset), binary(m["s_a"], dataset)
    return m.sort_values(key).reset_index(drop=True), int(dropped)


def long_form(m: pd.DataFrame) -> pd.DataFrame:
    """Paired rows -> one row per model answer (``aligned`` 0/1, ``y``), for regression models."""
    base = m.assign(aligned=0, y=m["y_b"])
    al = m.assign(aligned=1, y=m["y_a"])
    return pd.concat([base, al], ignore_index=True)[["item", "corruption", "severity", "aligned", "y"]]
