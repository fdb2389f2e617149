"""The confirmatory degradation endpoint against hand-computed values, and its unit of analysis."""

import numpy as np
import pandas as pd
import pytest

from vlmrobust.analyses import degradation
from vlmrobust.design import Pair

# item -> (clean, c1, c2) per model, dataset X
BASE = {"a": (1, 0, 0), "b": (1, 1, 0), "c": (0, 0, 0)}
ALIGNED = {"a": (1, 1, 0), "b": (0, 0, 0), "c": (1, 0, 1)}


def _scores(table: dict, model: str, dataset: str = "X", variant: str = "concise") -> pd.DataFrame:
    rows = []
    for sid, (clean, c1, c2) in table.items():
        rows += [{"model": model, "dataset": dataset, "sample_id": sid, "corruption": "none", "severity": 0,
                  "prompt_variant": variant, "score": clean},
                 {"model": model, "dataset": dataset, "sample_id": sid, "corruption": "gaussian_noise", "severity": 5,
                  "prompt_variant": variant, "score": c1},
                 {"model": model, "dataset": dataset, "sample_id": sid, "corruption": "defocus_blur", "severity": 5,
                  "prompt_variant": variant, "score": c2}]
    return pd.DataFrame(rows)


SCORES = pd.concat([_scores(BASE, "b"), _scores(ALIGNED, "a")], ignore_index=True)


def test_three_items_two_conditions_by_hand():
    # lost(base) = 1, 0.5, 0; lost(aligned) = 0.5, 0, 0.5; D = 0.5, 0.5, -0.5
    d = degradation.paired_losses(SCORES, "b", "a").set_index("item")
    assert d.loc["X|a", "base_lost"] == 1 and d.loc["X|b", "base_lost"] == 0.5 and d.loc["X|c", "base_lost"] == 0
    assert list(d["d"]) == [0.5, 0.5, -0.5]
    row = degradation.endpoint(SCORES, [Pair("P", "b", "a", "m")], n_boot=500).iloc[0]
    assert row["n_items"] == 3 and row["estimate"] == pytest.approx(1 / 6)
    assert row["base_lost"] == pytest.approx(0.5) and row["aligned_lost"] == pytest.approx(1 / 3)
    # exact sign flip: every one of the 8 sign patterns has |sum| >= 0.5, so p = 1
    assert row["p"] == 1.0 and row["ci_lo"] <= row["estimate"] <= row["ci_hi"]
    assert row["direction"] == "interval contains 0"


def test_more_conditions_do_not_add_items():
    """Repeating an item's conditions (more corruptions, more severities) leaves n = the items: the
    bootstrap and the test see one value per item, never one per item x condition."""
    more = pd.concat([SCORES, SCORES[SCORES["corruption"] != "none"].assign(severity=3)], ignore_index=True)
    a = degradation.endpoint(SCORES, [Pair("P", "b", "a", "m")], n_boot=500).iloc[0]
    b = degradation.endpoint(more, [Pair("P", "b", "a", "m")], n_boot=500).iloc[0]
    assert a["n_items"] == b["n_items"] == 3
    assert a["estimate"] == pytest.approx(b["estimate"]) and (a["ci_lo"], a["ci_hi"]) == (b["ci_lo"], b["ci_hi"])


def test_other_prompt_variants_are_left_out_and_clean_accuracy_cancels():
    plain = _scores({k: (1, 1, 1) for k in BASE}, "a", variant="plain")
    assert degradation.endpoint(pd.concat([SCORES, plain]), [Pair("P", "b", "a", "m")], n_boot=200).iloc[0][
        "estimate"] == pytest.approx(1 / 6)
    # an aligned model that is better on clean items by a constant, and loses the same, has D = 0
    shifted = _scores({k: (1, 1, 1) for k in "pqrs"}, "b").assign(score=lambda d: d["score"] * 0.5)
    better = _scores({k: (1, 1, 1) for k in "pqrs"}, "a")
    row = degradation.endpoint(pd.concat([shifted, better]), [Pair("P", "b", "a", "m")], n_boot=200).iloc[0]
    assert row["estimate"] == 0 and row["p"] == 1.0


def test_holm_over_pair_by_dataset_and_a_pooled_row():
    rng = np.random.default_rng(0)
    frames = []
    for ds in ("X", "Y"):
        n = 40
        base = {f"{ds}{i}": (1, int(rng.random() < 0.3), int(rng.random() < 0.3)) for i in range(n)}
        al = {f"{ds}{i}": (1, int(rng.random() < 0.8), int(rng.random() < 0.8)) for i in range(n)}
        frames += [_scores(base, "b", ds), _scores(al, "a", ds)]
    out = degradation.endpoint(pd.concat(frames), [Pair("P", "b", "a", "m")], n_boot=500)
    assert list(out["dataset"]) == ["X", "Y", degradation.POOLED]
    fam = out[out["dataset"] != degradation.POOLED]
    assert (fam["p_holm"] >= fam["p"]).all() and np.isnan(out.iloc[-1]["p_holm"])
    assert out.iloc[-1]["n_items"] == 80 and (out["direction"] == "aligned loses less").all()
