"""CE / mCE / Rel. mCE / mCR / Wilson / bootstrap on hand-computed cases."""

import numpy as np
import pandas as pd
import pytest

from vlmrobust import metrics as M

N = 10  # items; accuracies are multiples of 0.1


def rows(model, dataset, corruption, severity, acc):
    k = round(acc * N)
    return [{"model": model, "dataset": dataset, "corruption": corruption, "severity": severity,
             "sample_id": f"i{i}", "score": float(i < k)} for i in range(N)]


def build(spec):
    """spec: {model: {corruption: [acc per severity 1,3,5], 'none': clean acc}}"""
    out = []
    for model, by_c in spec.items():
        for c, accs in by_c.items():
            if c == "none":
                out += rows(model, "d", "none", 0, accs)
            else:
                for s, a in zip((1, 3, 5), accs):
                    out += rows(model, "d", c, s, a)
    return pd.DataFrame(out)


SPEC = {
    "ref":  {"none": 0.9, "c1": [0.8, 0.6, 0.4], "c2": [0.5, 0.5, 0.5]},
    "m":    {"none": 1.0, "c1": [0.9, 0.7, 0.5], "c2": [0.5, 0.2, 0.2]},
    "base": {"none": 0.8, "c1": [0.6, 0.4, 0.2], "c2": [0.4, 0.4, 0.4]},
}


def test_ce_and_mce_by_hand():
    s = build(SPEC)
    ce = M.ce_table(s, "m", "ref", "d").set_index("corruption")
    # c1: errors 0.1+0.3+0.5 = 0.9 over 0.2+0.4+0.6 = 1.2; c2: 0.5+0.8+0.8 = 2.1 over 1.5
    assert ce.loc["c1", "ce"] == pytest.approx(0.75)
    assert ce.loc["c2", "ce"] == pytest.approx(1.4)
    assert M.mce(ce.reset_index())[0] == pytest.approx((0.75 + 1.4) / 2)
    # Hendrycks: c1 (0.1+0.3+0.5 - 3*0) / (0.2+0.4+0.6 - 3*0.1) = 0.9/0.9
    assert ce.loc["c1", "rel_ce"] == pytest.approx(1.0)


def test_reference_has_mce_one_and_mcr_zero():
    s = build(SPEC)
    t = M.mce_table(s, ["ref", "m"], "ref", ["d"])
    assert t.loc["ref", "d"] == pytest.approx(1.0) and t.loc["ref", "macro_mcr"] == pytest.approx(0.0)
    assert t.loc["m", "macro_mcr"] == pytest.approx(1 - 1.075)


def test_relative_mce_both_forms():
    s = build(SPEC)
    r = M.relative_mce(s, base="base", aligned="m", reference="ref", datasets=["d"]).set_index("dataset")
    # mCE(m|ref) = 1.075; mCE(base|ref): c1 (0.4+0.6+0.8)/1.2 = 1.5, c2 1.8/1.5 = 1.2 -> 1.35
    assert r.loc["d", "rel_mce_ratio"] == pytest.approx(1.075 / 1.35)
    # intra: CE_c(m|base): c1 0.9/1.8 = 0.5, c2 2.1/1.8 = 1.1667 -> mean 0.8333
    assert r.loc["d", "rel_mce_intra"] == pytest.approx((0.5 + 2.1 / 1.8) / 2)
    assert r.loc["macro", "rel_mce_ratio"] == pytest.approx(1.075 / 1.35)


def test_paper_table4_is_the_ratio_form_of_its_table3():
    """Every cell of the paper's Table 4 is mCE(aligned) / mCE(base) of its Table 3 (as printed, to
    the printed precision), which is what ``rel_mce_ratio`` computes."""
    from vlmrobust import paper

    t3 = paper.table(3).set_index("model")
    t4 = paper.table(4).set_index("pair")
    labels = {pid: (base, aligned) for pid, (base, aligned, _) in paper.PAIRS.items()}
    checked = 0
    for pid, (base, aligned) in labels.items():
        for d in paper.DATASETS:
            ratio = t3.loc[aligned, d] / t3.loc[base, d]
            assert abs(ratio - t4.loc[pid, d]) <= 0.0015 + 0.0005 * ratio, (pid, d, ratio, t4.loc[pid, d])
            checked += 1
    assert checked == 16


def test_min_denominator_rule_flags_and_excludes():
    spec = {"ref": {"none": 1.0, "c1": [0.8, 0.6, 0.4], "c2": [1.0, 1.0, 0.9]},
            "m": {"none": 1.0, "c1": [0.9, 0.7, 0.5], "c2": [0.5, 0.5, 0.5]}}
    s = build(spec)
    ce = M.ce_table(s, "m", "ref", "d", min_denominator=2).set_index("corruption")
    assert ce.loc["c2", "den_items"] == pytest.approx(1.0)  # one reference error in 30 item-severities
    assert not ce.loc["c2", "ce_ok"] and np.isnan(ce.loc["c2", "ce"])
    value, excluded = M.mce(ce.reset_index())
    assert value == pytest.approx(0.75) and excluded == ["c2"]
    t = M.mce_table(s, ["m"], "ref", ["d"], min_denominator=2)
    assert t.loc["m", "excluded"] == "d:c2"
    # without the rule the ratio is computed (and huge)
    assert M.ce_table(s, "m", "ref", "d").set_index("corruption").loc["c2", "ce"] == pytest.approx(15.0)


def test_wilson_known_values():
    lo, hi = M.wilson(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-9) and hi == pytest.approx(0.278, abs=1e-3)
    lo, hi = M.wilson(10, 10)
    assert lo == pytest.approx(0.722, abs=1e-3)


def test_accuracy_table():
    s = build(SPEC)
    t = M.accuracy_table(s).set_index(["model", "corruption", "severity"])
    assert t.loc[("m", "c2", 3), "acc"] == pytest.approx(0.2) and t.loc[("m", "c2", 3), "n"] == N
    assert t.loc[("m", "c2", 3), "ci_lo"] < 0.2 < t.loc[("m", "c2", 3), "ci_hi"]


def test_bootstrap_point_estimates_match_and_intervals_contain_them():
    s = build(SPEC)
    b = M.bootstrap_pair(s, "d", base="base", aligned="m", reference="ref", n_boot=300, seed=1).set_index("statistic")
    assert b.loc["mce_aligned_ref", "estimate"] == pytest.approx(1.075)
    assert b.loc["rel_mce_ratio", "estimate"] == pytest.approx(1.075 / 1.35)
    assert b.loc["rel_mce_intra", "estimate"] == pytest.approx((0.5 + 2.1 / 1.8) / 2)
    for stat in ("mce_aligned_ref", "rel_mce_ratio", "ce_aligned_ref:c1"):
        assert b.loc[stat, "ci_lo"] <= b.loc[stat, "estimate"] <= b.loc[stat, "ci_hi"]
    assert b.loc["rel_mce_ratio", "ci_hi"] > b.loc["rel_mce_ratio", "ci_lo"]


def test_bootstrap_identical_models_give_ratio_exactly_one():
    s = build(SPEC)
    s2 = pd.concat([s, s[s["model"] == "base"].assign(model="base2")])
    b = M.bootstrap_pair(s2, "d", base="base", aligned="base2", reference="ref", n_boot=200).set_index("statistic")
    assert b.loc["rel_mce_ratio", ["estimate", "ci_lo", "ci_hi"]].tolist() == pytest.approx([1, 1, 1])


def test_bootstrap_reports_undefined_resamples():
    # the reference makes one error on c2: many resamples drop that item -> zero denominator
    spec = {"ref": {"c1": [0.8, 0.6, 0.4], "c2": [1.0, 1.0, 0.9]},
            "m": {"c1": [0.9, 0.7, 0.5], "c2": [0.5, 0.5, 0.5]},
            "base": {"c1": [0.6, 0.6, 0.6], "c2": [0.5, 0.5, 0.5]}}
    b = M.bootstrap_pair(build(spec), "d", "base", "m", "ref", n_boot=500, seed=0).set_index("statistic")
    assert 0.2 < b.loc["ce_aligned_ref:c2", "share_undefined"] < 0.5  # P(item never drawn) ~ (0.9)^10


def test_missing_condition_is_an_error():
    s = build(SPEC)
    s = s[~((s["model"] == "m") & (s["sample_id"] == "i3") & (s["corruption"] == "c1"))]
    with pytest.raises(ValueError, match="scores missing"):
        M.bootstrap_pair(s, "d", "base", "m", "ref", n_boot=10)


def test_hendrycks_relative_ce_is_undefined_without_reference_degradation():
    spec = {"ref": {"none": 0.5, "c1": [0.5, 0.5, 0.5]}, "m": {"none": 0.9, "c1": [0.6, 0.5, 0.4]}}
    ce = M.ce_table(build(spec), "m", "ref", "d", min_denominator=1).set_index("corruption")
    assert np.isnan(ce.loc["c1", "rel_ce"]) and ce.loc["c1", "ce"] == pytest.approx(1.5 / 1.5)


def test_degradation_ratio_and_the_ratio_forms_floor_by_hand():
    b = M.bootstrap_pair(build(SPEC), "d", base="base", aligned="m", reference="ref", n_boot=300, seed=1
                         ).set_index("statistic")
    # added error: m (clean error 0): c1 0.1+0.3+0.5, c2 0.5+0.8+0.8 -> 3.0; base (clean error 0.2):
    # c1 0.4+0.6+0.8 - 0.6 = 1.2, c2 1.8 - 0.6 = 1.2 -> 2.4
    assert b.loc["degradation_ratio", "estimate"] == pytest.approx(3.0 / 2.4)
    assert b.loc["degradation_ratio", "ci_lo"] <= 1.25 <= b.loc["degradation_ratio", "ci_hi"]
    # m undegraded has error 0 everywhere: the ratio form's floor is 0
    assert b.loc["rel_mce_ratio_undegraded", "estimate"] == pytest.approx(0.0)
    spec = {**SPEC, "m": {**SPEC["m"], "none": 0.5}}  # clean error 0.5: CE_c floor 1.5/1.2 and 1.5/1.5
    f = M.bootstrap_pair(build(spec), "d", "base", "m", "ref", n_boot=50).set_index("statistic")
    assert f.loc["rel_mce_ratio_undegraded", "estimate"] == pytest.approx((1.5 / 1.2 + 1.0) / 2 / 1.35)


def test_degradation_ratio_is_one_for_equal_degradation_at_different_clean_accuracy():
    spec = {"ref": {"none": 0.9, "c1": [0.8, 0.7, 0.6]},
            "base": {"none": 0.8, "c1": [0.7, 0.6, 0.5]},
            "m": {"none": 0.6, "c1": [0.5, 0.4, 0.3]}}
    b = M.bootstrap_pair(build(spec), "d", "base", "m", "ref", n_boot=50).set_index("statistic")
    assert b.loc["degradation_ratio", "estimate"] == pytest.approx(1.0)
    assert b.loc["rel_mce_ratio", "estimate"] > 1.2  # the ratio form reads the clean gap as fragility
