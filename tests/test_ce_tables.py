"""Notebook 03's tables (``analyses.ce_tables``) on a run small enough to compute by hand.

One GQA-like dataset, two items, Gaussian noise at severities 1 and 3; the base ``b`` is also
the global reference (as InternVL2.5-2B SFT is for the paper's P0):

==========  =====  ======  ======
model       clean  sev 1   sev 3
==========  =====  ======  ======
b (ref)     1.0    0.5     0.0
a           0.5    1.0     0.5
==========  =====  ======  ======

CE(a | b) = ((1 - 1.0) + (1 - 0.5)) / ((1 - 0.5) + (1 - 0.0)) = 0.5 / 1.5 = 1/3, so both
Rel. mCE forms are 1/3; Hendrycks' relative CE subtracts the clean errors:
((0 - 0.5) + (0.5 - 0.5)) / ((0.5 - 0) + (1 - 0)) = -1/3. The reference's error sum is
0.5 x 2 + 1.0 x 2 = 3 items.
"""

import numpy as np
import pandas as pd
import pytest

from vlmrobust import params
from vlmrobust.analyses import ce_tables as T

RESULTS = {  # model -> {(corruption, severity): [score per item]}
    "b": {("none", 0): [1, 1], ("gaussian_noise", 1): [1, 0], ("gaussian_noise", 3): [0, 0]},
    "a": {("none", 0): [1, 0], ("gaussian_noise", 1): [1, 1], ("gaussian_noise", 3): [1, 0]},
}


def _params(ci=0.95, min_denominator=0):
    p = params.load("params/smoke.yaml")
    p["benchmark"]["datasets"] = ["synth-spatial"]
    p["models"] = {"b": {"source": "x/b", "prompt_style": "chat"}, "a": {"source": "x/a", "prompt_style": "chat",
                                                                          "label": "aligned one"}}
    p["pairs"] = {"X": {"base": "b", "aligned": "a", "method": "alignment"}}
    p["reference"] = "b"
    p["analysis"] = {"ci": ci, "min_denominator": min_denominator, "bootstrap": 50}
    return params.validate(p, "test")


def _scores():
    rows = []
    for m, conds in RESULTS.items():
        for (c, s), item_scores in conds.items():
            for i, sc in enumerate(item_scores):
                rows.append({"model": m, "dataset": "synth-spatial", "sample_id": f"i{i}", "corruption": c,
                             "severity": s, "prompt_variant": "concise", "score": float(sc), "parse_ok": True})
    # a plain-prompt row that every main table must ignore (it would move a's clean accuracy)
    rows.append({**rows[-1], "corruption": "none", "severity": 0, "prompt_variant": "plain", "score": 0.0,
                 "parse_ok": False})
    return pd.DataFrame(rows)


def test_clean_accuracy_uses_the_main_prompt_and_the_runs_ci():
    wide, tidy = T.clean_accuracy(_scores(), _params())
    assert wide.loc[("X", "base", "b"), "synth-spatial"] == 1.0
    assert wide.loc[("X", "aligned", "aligned one"), "synth-spatial"] == 0.5  # labelled, plain row ignored
    assert wide.loc[("X", "delta", "aligned - base"), "synth-spatial"] == -0.5
    a95 = tidy.set_index("model").loc["a"]
    assert (a95["ci_lo"], a95["ci_hi"]) == pytest.approx((0.0945, 0.9055), abs=1e-4)  # Wilson 1/2, z = 1.96
    # the bug this guards: the run's analysis.ci was never passed, every interval was 95 %
    a90 = T.clean_accuracy(_scores(), _params(ci=0.90))[1].set_index("model").loc["a"]
    assert (a90["ci_lo"], a90["ci_hi"]) == pytest.approx((0.1209, 0.8791), abs=1e-4)  # z = 1.645


def test_mce_against_the_global_reference():
    t3 = T.mce_global(_scores(), _params())
    assert t3.loc["b", "synth-spatial"] == pytest.approx(1.0)
    assert t3.loc["a", "synth-spatial"] == pytest.approx(1 / 3)
    assert t3.loc["a", "macro_mcr"] == pytest.approx(2 / 3)
    assert t3.loc["a", "macro_rel_mce_hendrycks"] == pytest.approx(-1 / 3)
    assert list(t3.index) == ["a", "b"]  # sorted by macro mCE
    long = T.mce_long(t3, _params())
    assert set(long["role"]) == {"base", "aligned"} and long["pair_label"].iloc[0] == "X (alignment)"


def test_relative_mce_both_forms_and_per_corruption_tables():
    rel = T.relative(_scores(), _params()).set_index("dataset")
    assert rel.loc["synth-spatial", "rel_mce_ratio"] == pytest.approx(1 / 3)
    assert rel.loc["synth-spatial", "rel_mce_intra"] == pytest.approx(1 / 3)
    t5 = T.ce_by_corruption(_scores(), _params(), "synth-spatial")
    assert t5.loc["gaussian_noise", "X_B"] == pytest.approx(1.0)
    assert t5.loc["gaussian_noise", "X_A"] == pytest.approx(1 / 3) == t5.loc["mCE", "X_A"]
    t11 = T.intra_pair(_scores(), _params()).iloc[0]
    assert (t11["CE_b"], t11["CE_a"], t11["Rel"], t11["CE_a_given_b"]) == pytest.approx((1, 1 / 3, 1 / 3, 1 / 3))
    assert t11["base_errors_items"] == pytest.approx(3.0)


def test_min_denominator_excludes_instead_of_dividing():
    rel = T.relative(_scores(), _params(min_denominator=4)).set_index("dataset")  # 3 items < 4
    assert np.isnan(rel.loc["synth-spatial", "rel_mce_intra"])
    assert rel.loc["synth-spatial", "intra_excluded"] == "gaussian_noise"


def test_bootstrap_is_centred_on_the_estimate_and_uses_the_runs_settings():
    boot = T.bootstrap(_scores(), _params(ci=0.9)).set_index("statistic")
    assert boot.loc["rel_mce_ratio", "estimate"] == pytest.approx(1 / 3)
    assert boot.loc["rel_mce_ratio", "ci_lo"] <= 1 / 3 <= boot.loc["rel_mce_ratio", "ci_hi"]


def test_parse_rates_per_prompt_variant():
    r = T.parse_rates(_scores()).set_index(["model", "prompt_variant", "corruption"])["unparseable"]
    assert r.loc[("a", "plain", "none")] == 1.0 and r.loc[("a", "concise", "none")] == 0.0


def test_side_by_side_only_for_the_papers_configuration():
    assert T.side_by_side(T.relative(_scores(), _params()), _params()) is None


def test_the_macro_rel_mce_has_an_interval_from_one_resample_of_items_for_every_dataset():
    p = _params()
    p["benchmark"]["datasets"] = ["synth-spatial", "synth-vqa"]
    rng = np.random.default_rng(3)
    rows = []
    for d in p["benchmark"]["datasets"]:
        for m, acc in (("b", 0.5), ("a", 0.7)):
            for c, s in (("none", 0), ("gaussian_noise", 1), ("gaussian_noise", 3), ("defocus_blur", 1)):
                for i in range(30):
                    rows.append({"model": m, "dataset": d, "sample_id": f"i{i}", "corruption": c, "severity": s,
                                 "prompt_variant": "concise", "score": float(rng.random() < acc - 0.1 * s),
                                 "parse_ok": True})
    boot = T.bootstrap(pd.DataFrame(rows), p)
    macro = boot[(boot["dataset"] == T.MACRO) & (boot["statistic"] == "rel_mce_ratio")]
    per = boot[(boot["dataset"] != T.MACRO) & (boot["statistic"] == "rel_mce_ratio")]
    assert len(macro) == len(p["pairs"])
    for pid, g in per.groupby("pair"):
        m = macro[macro["pair"] == pid].iloc[0]
        assert m["estimate"] == pytest.approx(g["estimate"].mean())
        assert m["ci_lo"] <= m["estimate"] <= m["ci_hi"]
        assert m["n_items"] == g["n_items"].sum()
