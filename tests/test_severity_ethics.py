"""analyses.severity and analyses.ethics on score tables small enough to check by hand."""

import numpy as np
import pandas as pd
import pytest

from vlmrobust import params
from vlmrobust.analyses import ethics, severity
from vlmrobust.design import Pair

PAIR = Pair("X", "b", "a", "alignment")
# the spec's four items, outcomes (B1, A1, B5, A5): d = (2, 0, 0, 1), DiD = 0.75 = 0.5 - (-0.25)
ITEMS = [(0, 1, 1, 0), (0, 0, 1, 1), (1, 1, 0, 0), (0, 1, 0, 0)]


def _params(**analysis):
    p = params.load("params/smoke.yaml")
    p["benchmark"]["datasets"] = ["synth-spatial"]
    p["models"] = {"b": {"source": "x/b", "prompt_style": "chat"}, "a": {"source": "x/a", "prompt_style": "chat"}}
    p["pairs"] = {"X": {"base": "b", "aligned": "a", "method": "alignment"}}
    p["reference"] = "b"
    p["analysis"] = {"bootstrap": 400, **analysis}
    return params.validate(p, "test")


def _scores(items=ITEMS, dataset="synth-spatial", corruption="defocus_blur"):
    rows = []
    for i, (b1, a1, b5, a5) in enumerate(items):
        for model, sev, y in (("b", 1, b1), ("a", 1, a1), ("b", 5, b5), ("a", 5, a5)):
            rows.append({"model": model, "dataset": dataset, "sample_id": f"s{i}", "corruption": corruption,
                         "severity": sev, "prompt_variant": "concise", "score": float(y)})
        for model in ("b", "a"):
            rows.append({"model": model, "dataset": dataset, "sample_id": f"s{i}", "corruption": "none",
                         "severity": 0, "prompt_variant": "concise", "score": 1.0})
    return pd.DataFrame(rows)


def test_table6_cells_by_hand():
    t = severity.table6(_scores(), _params(), PAIR, "synth-spatial").set_index("severity")
    assert (t.loc[1, "B"], t.loc[1, "A"], t.loc[1, "delta"], t.loc[1, "arrow"]) == (0.25, 0.75, 0.5, "↑")
    assert (t.loc[5, "B"], t.loc[5, "A"], t.loc[5, "arrow"]) == (0.5, 0.25, "↓")
    assert (t.loc[1, "b_base_only"], t.loc[1, "c_aligned_only"]) == (0, 2)
    assert t.loc[1, "p"] == pytest.approx(0.5)  # two-sided exact McNemar, b = 0, c = 2
    assert t.loc[1, "B_lo"] < 0.25 < t.loc[1, "B_hi"]


def test_reversal_scan_by_hand():
    r = severity.reversal_scan(_scores(), _params()).iloc[0]
    assert r["pattern"] == "reversal_A_to_B"
    assert (r["delta_low"], r["delta_high"], r["did"]) == pytest.approx((0.5, -0.25, 0.75))
    assert r["p_low"] == pytest.approx(0.25)  # one-sided, c = 2, b = 0
    assert r["p_high"] == pytest.approx(0.5)  # aligned worse at 5: b = 1 (item 1), c = 0 -> P(X <= 0 | 1) = .5
    assert r["p_iut"] == pytest.approx(max(r["p_low"], r["p_high"]))
    assert not r["confirmed_reversal"] and "n < 20" in r["note"]


def test_one_severity_gives_nan_with_a_reason():
    s = _scores()
    s = s[s["severity"] != 5]
    r = severity.reversal_scan(s, _params()).iloc[0]
    assert np.isnan(r.get("did", np.nan)) and "one severity" in r["note"]


def test_pattern_labels():
    assert severity.pattern([0.3, 0.0, -0.2]) == "reversal_A_to_B"
    assert severity.pattern([-0.1, 0.2]) == "reversal_B_to_A"
    assert severity.pattern([0.1, 0.0, 0.2]) == "aligned_better"
    assert severity.pattern([0.0, 0.0]) == "flat"
    assert severity.pattern([0.1, -0.1, 0.1]) == "mixed"


def test_paper_table6_arrows_and_ce():
    t = severity.paper_table6()
    arrows = t.groupby("corruption", sort=False)["arrow"].apply(lambda a: "".join(x or "·" for x in a))
    assert arrows.to_dict() == {"gaussian_noise": "↑↑·", "defocus_blur": "↑·↓", "brightness": "↑↑↑",
                                "jpeg_compression": "··↑"}
    ce = severity.paper_table6_ce()["ce"]
    assert ce["defocus_blur"] == pytest.approx(0.95) and ce.mean() == pytest.approx(0.8303, abs=1e-4)


def test_label_swap_null_counts_reversals():
    big = ITEMS * 10  # 40 items: Delta_1 = +0.5, Delta_5 = -0.25 -> one reversal of size >= 0.2
    null = severity.label_swap_null(_scores(big), _params(), n_perm=200)
    assert null["observed_reversals"] == 1 and 0 <= null["null_mean"] < 1


def test_level_differences_and_pooled_tests():
    p = _params()
    conf = ethics.level_differences(_scores(), p).iloc[0]
    # d_i = mean over the two severities of (a - b): items (1 + -1)/2 = 0, (0 + 0)/2 = 0, 0, (1 + 0)/2 = 0.5
    assert conf["mean_diff"] == pytest.approx(0.125) and conf["direction"] == "aligned better"
    assert conf["p_signflip"] == pytest.approx(1.0) and conf["p_holm"] == pytest.approx(1.0)
    pooled = ethics.pooled_severity_tests(_scores(), p).iloc[0]
    assert pooled["mean_error_sum_diff"] == pytest.approx(-0.25)


def test_paired_tests_family_and_clean_rows():
    t = ethics.paired_tests(_scores(), _params())
    assert set(t["severity"]) == {0, 1, 5}
    clean = t[t["severity"] == 0].iloc[0]
    assert (clean["b_base_only"], clean["c_aligned_only"], clean["p_mcnemar"]) == (0, 0, 1.0)
    assert t["q_bh"].notna().all()


def test_subgroups_and_cochran_q():
    s = _scores(ITEMS * 5)
    samples = pd.DataFrame({"dataset": "synth-spatial", "sample_id": [f"s{i}" for i in range(20)],
                            "lighting": ["day"] * 10 + ["night"] * 10})
    groups, het = ethics.subgroups(s, samples, _params(), variables=("lighting",))
    assert set(groups["group"]) == {"day", "night"} and groups["small_group"].all()
    # theta_i = (1 - mean(b1, b5)) - (1 - mean(a1, a5)) = mean(a) - mean(b) over severities: 0.125 on average
    assert groups["theta"].mean() == pytest.approx(0.125)
    assert len(het) == 1 and np.isfinite(het["cochran_q"].iloc[0])


def test_table2_granularity_finding():
    bad = ethics.table2_granularity().query("not consistent_with_stated_n")
    assert len(bad) == 9 and set(bad["pair"]) == {"P2", "P3"}
