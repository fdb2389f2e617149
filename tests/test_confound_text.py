"""Notebooks 05 and 10: the hand-computed cases of docs/methods.md section 4 and 6, to 1e-4."""

import numpy as np
import pandas as pd
import pytest

from vlmrobust.analyses import confound as C
from vlmrobust.analyses import text_perturbation as T
from vlmrobust.design import Pair

# --- 2.3 denominator sensitivity -----------------------------------------------------------


def test_floor_base_ce_is_bounded_and_relative_ce_explodes():
    # n = 50, S = 3, acc_b = .02 at every severity, acc_a = .5; clean .04 (base) and .6 (aligned)
    r = C.sensitivity([0.02] * 3, [0.5] * 3, clean_b=0.04, clean_a=0.6, n=50, min_denominator=5)
    assert r["E_b"] == pytest.approx(2.94) and r["E_a"] == pytest.approx(1.5)
    assert r["ce"] == pytest.approx(0.5102, abs=1e-4)
    assert r["ce_base_one_more_right"] == pytest.approx(1.5 / 2.92, abs=1e-4)  # 0.5137
    assert r["ce_base_one_more_right"] == pytest.approx(0.5137, abs=1e-4)
    assert r["floor"] and r["headroom_b"] == pytest.approx(0.02)
    assert r["R_b"] == pytest.approx(0.06) and r["R_a"] == pytest.approx(0.3)
    assert r["rel_den_items"] == pytest.approx(3.0)
    assert np.isnan(r["rel_ce"]) and not r["rel_ok"]  # 3 items < min_denominator 5
    assert r["rel_ce_unguarded"] == pytest.approx(5.0)
    assert r["rel_ce_den_minus_one"] == pytest.approx(7.5) and r["rel_ce_den_plus_one"] == pytest.approx(3.75)


def test_ce_curve_passes_through_the_observed_point():
    c = C.ce_curve(1.5, 3, base_acc=[0.02, 0.5])
    assert c["ce"].tolist() == pytest.approx([1.5 / 2.94, 1.0])


# --- 2.4 format-controlled Rel. mCE ---------------------------------------------------------


def _frame(model, comp, score, corruption="none", severity=0):
    return pd.DataFrame({"model": model, "dataset": "synth-vqa", "sample_id": [f"i{k}" for k in range(1, 5)],
                         "corruption": corruption, "severity": severity, "prompt_variant": "concise",
                         "comp_text": comp, "score": score})


def test_joint_compliance_restricts_every_model_to_the_shared_items():
    # 4 items, 1 condition: base compliant on {1,2}, aligned on all -> I = {1, 2}
    b = _frame("b", [True, True, False, False], [1.0, 0.0, 0.0, 0.0])
    a = _frame("a", [True] * 4, [1.0, 1.0, 0.0, 0.0])
    kept, thin = C.joint_compliant(pd.concat([b, a]), Pair("P", "b", "a", "x"), "a", "synth-vqa")
    assert sorted(kept["sample_id"].unique()) == ["i1", "i2"]
    acc = kept.groupby("model")["score"].mean()
    assert acc["b"] == pytest.approx(0.5) and acc["a"] == pytest.approx(1.0)
    assert a["score"].mean() == pytest.approx(0.5)  # unrestricted
    assert thin == ["none"]  # 2 items < N_MIN: the clean condition is listed as too thin


def test_logit_outcome_argmax_and_ties():
    assert C.logit_outcome("ABCD", [0.1, 0.6, 0.2, 0.1], "B") == (1.0, False)
    assert C.logit_outcome("ABCD", [0.25] * 4, "A") == (1.0, True)  # first index on a tie, flagged
    assert C.logit_outcome("ABCD", [0.25] * 4, "C") == (0.0, True)
    y, tie = C.logit_outcome(None, None, "A")
    assert np.isnan(y) and not tie  # excluded, never imputed


def test_masked_bootstrap_without_mask_matches_metrics_point(tiny_scores):
    """The controlled views' bootstrap computes the same statistic as metrics.relative_mce: with every
    cell kept its intervals must bracket the metrics point value."""
    from vlmrobust import metrics

    s, pair = tiny_scores
    point = metrics.relative_mce(s, pair.base, pair.aligned, pair.base, ["synth-vqa"]).iloc[0]
    bt = C._masked_bootstrap(s, pair, pair.base, "synth-vqa", None, 400, 0, 0.95)
    assert bt["intra_lo"] <= point["rel_mce_intra"] <= bt["intra_hi"]
    assert bt["ratio_lo"] <= point["rel_mce_ratio"] <= bt["ratio_hi"]
    # a mask that keeps every cell is the same bootstrap; one that drops half the items moves it
    cells = s[(s["model"] == "b") & (s["corruption"] != "none")].set_index(["sample_id", "corruption", "severity"])
    full = C._masked_bootstrap(s, pair, pair.base, "synth-vqa", cells["score"] >= 0, 400, 0, 0.95)
    assert full == pytest.approx(bt)
    half = cells.index.get_level_values(0).str[1:].astype(int) < 20
    part = C._masked_bootstrap(s, pair, pair.base, "synth-vqa", pd.Series(half, cells.index), 400, 0, 0.95)
    assert part != pytest.approx(bt)


@pytest.fixture
def tiny_scores():
    rng = np.random.default_rng(0)
    rows = []
    for m, p in (("b", 0.7), ("a", 0.6)):
        for c, sev in (("none", 0), ("blur", 1), ("blur", 3), ("noise", 1), ("noise", 3)):
            drop = 0.1 * sev
            for k in range(40):
                rows.append({"model": m, "dataset": "synth-vqa", "sample_id": f"i{k}", "corruption": c,
                             "severity": sev, "score": float(rng.random() < p - drop)})
    return pd.DataFrame(rows), Pair("P", "b", "a", "x")


# --- 6. textual perturbations ----------------------------------------------------------------


def test_two_by_two_interaction():
    assert T.interaction(0.8, 0.6, 0.5, 0.2) == pytest.approx(-0.1)


def test_flip_and_adoption_rates():
    # 10 items, 8 right under none, 3 of those wrong under mislead; two responses chose w
    y_none = [1] * 8 + [0, 0]
    y_mis = [0, 0, 0] + [1] * 5 + [0, 0]
    assert T.flip_rate(y_none, y_mis) == pytest.approx(0.375)
    responses = ["blue", "red", "blue", "green", "x", "y", "z", "w", "v", "u"]
    adopted = [T.adopted(r, None, "blue", False) for r in responses]
    assert np.mean(adopted) == pytest.approx(0.2)
    assert np.isnan(T.flip_rate([0, 0], [0, 1]))  # nothing right under none
    assert T.adopted(None, "C", "C", True) and not T.adopted("C", "B", "C", True)
    assert not T.adopted("bluebird", None, "blue", False)  # whole words only


def test_gold_option_probability_change():
    p_none = T.option_prob("ABCD", [0.1, 0.7, 0.1, 0.1], "B")
    p_mis = T.option_prob("ABCD", [0.4, 0.4, 0.1, 0.1], "B")
    assert p_mis - p_none == pytest.approx(-0.3)
    assert np.isnan(T.option_prob(None, None, "B"))


def _text_scores(cells: dict, n: int = 10) -> pd.DataFrame:
    """Scores whose accuracy in each (image, text) cell is cells[(I, T)] (n items, one corruption)."""
    rows = []
    for (img, txt), acc in cells.items():
        variant = "mislead" if txt else "concise"
        k = round(acc * n)
        for i in range(n):
            rows.append({"model": "m", "dataset": "synth-spatial", "sample_id": f"s{i}",
                         "corruption": "blur" if img else "none", "severity": 5 if img else 0,
                         "prompt_variant": variant, "score": float(i < k), "response": "x", "parsed": None,
                         "claim": "left", "option_letters": None, "option_probs": None, "answer": "right"})
    return pd.DataFrame(rows)


def test_item_table_and_interaction_table_reproduce_the_cells():
    s = _text_scores({(0, 0): 0.8, (0, 1): 0.6, (1, 0): 0.5, (1, 1): 0.2})
    t = T.item_table(s)
    assert len(t) == 20 and set(t["image"]) == {"clean", "blur"}
    params = {"analysis": {"bootstrap": 200, "ci": 0.95}, "seed": 0, "pairs": {}, "models": {}}
    it = T.interaction_table(t, params).iloc[0]
    assert (it["A00"], it["A01"], it["A10"], it["A11"]) == pytest.approx((0.8, 0.6, 0.5, 0.2))
    assert it["int"] == pytest.approx(-0.1)
    assert it["int_lo"] <= -0.1 <= it["int_hi"]
    # item-level contrasts average to the same interaction
    assert T.item_contrasts(t, T.NONE).mean() == pytest.approx(-0.1)
    assert it["reference"] == T.REFERENCES[T.NONE]  # no truthful variant in this run: only the line reference


def test_the_misleading_content_is_measured_against_the_truthful_line():
    """A model hurt by any caption line alike (truthful as much as misleading) has a line effect
    against none, and no content effect against truthful."""
    rows = []
    for i in range(20):
        for img, sev in (("none", 0), ("blur", 5)):
            none = 1.0 if i < (16 if img == "none" else 10) else 0.0
            line = 1.0 if i < (12 if img == "none" else 4) else 0.0  # a line costs 4 clean, 6 corrupted
            for variant, score in (("concise", none), ("mislead", line), ("truthful", line)):
                rows.append({"model": "m", "dataset": "synth-spatial", "sample_id": f"s{i}", "corruption": img,
                             "severity": sev, "prompt_variant": variant, "score": score, "response": "x",
                             "parsed": None, "claim": "left", "option_letters": None, "option_probs": None,
                             "answer": "right"})
    t = T.item_table(pd.DataFrame(rows))
    params = {"analysis": {"bootstrap": 200, "ci": 0.95}, "seed": 0, "pairs": {}, "models": {}}
    it = T.interaction_table(t, params).set_index("reference")
    assert it.loc[T.REFERENCES[T.NONE], "int"] == pytest.approx(-0.1)  # (4 - 10 - (12 - 16)) / 20
    assert it.loc[T.REFERENCES[T.TRUTHFUL], "int"] == pytest.approx(0.0)  # the content itself costs nothing
    eff = T._effects_row(t[t["severity"] == 0], 200, 0, 0.95)
    assert eff["d_mislead_vs_truthful"] == 0 and eff["d_mislead"] == pytest.approx(-0.2)
