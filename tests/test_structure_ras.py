"""analyses.structure (RAS, BENCH-C): the spec's worked examples to 1e-4 (docs/methods.md section 7)."""

import numpy as np
import pandas as pd
import pytest

from vlmrobust import params
from vlmrobust.analyses import structure as st

CASES = [  # (clean p, corrupted p, y, dS, dC, RAS, quadrant, transition), K = 4, y = A
    ((.7, .1, .1, .1), (.4, .3, .2, .1), 0, .244829, .3, -.3, "degraded", "RR"),
    ((.4, .3, .2, .1), (.1, .8, .05, .05), 0, -.412256, .2, -.282451, "overconfident", "RW"),
    ((.2, .6, .1, .1), (.3, .35, .2, .15), 0, .177585, -.25, .205604, "hesitant", "WW"),
]


@pytest.mark.parametrize("p0, p, y, ds, dc, r, quad, trans", CASES)
def test_worked_examples(p0, p, y, ds, dc, r, quad, trans):
    d_s = st.entropy_norm(p) - st.entropy_norm(p0)
    d_c = st.calibration_error(p, y) - st.calibration_error(p0, y)
    assert (d_s, d_c) == pytest.approx((ds, dc), abs=1e-4)
    assert st.ras(d_s, d_c) == pytest.approx(r, abs=1e-4)
    assert st.quadrant(d_s, d_c) == quad
    assert st.transition(np.argmax(p0) == y, np.argmax(p) == y) == trans


def test_entropy_by_hand_and_ras_range():
    assert st.entropy_norm([.7, .1, .1, .1]) == pytest.approx(.678390, abs=1e-6)
    assert st.entropy_norm([.4, .3, .2, .1]) == pytest.approx(.923219, abs=1e-6)
    assert st.entropy_norm([1, 0, 0, 0]) == 0 and st.entropy_norm([.25] * 4) == pytest.approx(1)
    rng = np.random.default_rng(0)
    p0, p = rng.dirichlet(np.ones(4) * 0.3, 20000), rng.dirichlet(np.ones(4) * 0.3, 20000)
    y = rng.integers(0, 4, 20000)
    r = st.ras(st.entropy_norm(p) - st.entropy_norm(p0), st.calibration_error(p, y) - st.calibration_error(p0, y))
    assert r.min() >= -2 - 1e-12 and r.max() <= 1 + 1e-12 and (r > 0).any()  # the product reading's range
    assert st.ras(-1.0, 1.0) == pytest.approx(-2) and st.ras(0.0, -1.0) == pytest.approx(1)
    assert st.quadrant(0.0, 0.0) == "stable"  # identical distributions


def test_gini_and_kappa_by_hand():
    assert st.gini(list("AABBC"), 4) == pytest.approx(.853333, abs=1e-6)
    assert st.gini(list("AAA"), 4) == 0 and st.gini(list("ABC"), 4) == pytest.approx(.888889, abs=1e-6)
    assert np.mean([.853333, 0, .888889, .64]) == pytest.approx(.595556, abs=1e-6)


def test_greedy_subset_by_hand():
    e = np.array([[1, 0], [1, 0], [0, 1]], float)
    out = st.greedy_subset(["q1", "q2", "q3"], [.9, .8, .5], {"img": e, "txt": e})
    assert out["key"].tolist() == ["q1", "q3", "q2"]
    assert out["objective"].tolist() == pytest.approx([2.9, 2.5, 1.3858], abs=1e-4)
    assert out["objective"].mean() == pytest.approx(2.2619, abs=1e-4)
    assert set(out.loc[out["kept"], "key"]) == {"q1", "q3"}
    empty = st.greedy_subset(["a", "b"], [0, 0], {"img": np.eye(2)})  # kappa = 0 items are dropped
    assert empty.empty and "kept" in empty.columns  # still a table with its columns


def _scores():
    rows = []
    for m, probs in (("b", [(.7, .1, .1, .1), (.4, .3, .2, .1)]), ("a", [(.4, .3, .2, .1), (.1, .8, .05, .05)])):
        for i in range(2):
            for c, sev, p in (("none", 0, probs[0]), ("fog", 1, probs[1]), ("fog", 3, probs[1])):
                rows.append({"model": m, "dataset": "synth-mcq", "sample_id": f"s{i}", "corruption": c, "severity": sev,
                             "prompt_variant": "concise", "option_letters": "ABCD", "option_probs": np.array(p),
                             "letter_mass": 0.9, "answer": "A", "score": float(np.argmax(p) == 0)})
    rows.append({**rows[-1], "sample_id": "s9", "option_probs": None})  # missing: excluded and counted
    return pd.DataFrame(rows)


def test_item_table_summary_and_pair_contrast():
    p = params.load("params/smoke.yaml")
    p["benchmark"]["datasets"] = ["synth-mcq"]
    p["models"] = {"b": {"source": "x/b", "prompt_style": "chat"}, "a": {"source": "x/a", "prompt_style": "chat"}}
    p["pairs"] = {"X": {"base": "b", "aligned": "a", "method": "m"}}
    p["reference"] = "b"
    p["analysis"] = {"bootstrap": 100}
    p = params.validate(p, "test")
    t, cov = st.item_table(_scores(), p)
    assert len(t) == 2 * 2 * 2 and cov.set_index("model").loc["a", "missing_or_k1"] == 1
    assert t.loc[t["model"] == "b", "ras"].tolist() == pytest.approx([-.3] * 4, abs=1e-4)
    assert t.loc[t["model"] == "a", "ras"].tolist() == pytest.approx([-.282451] * 4, abs=1e-4)
    assert t["argmax_agrees_text"].all()
    summ = st.summary(t, st.kappa(t)).set_index(["model", "subset", "weighting"])
    assert summ.loc[("b", "all items", "unweighted"), "ras"] == pytest.approx(-.3, abs=1e-4)
    assert summ.loc[("b", "all items", "unweighted"), "acc_clean"] == 1.0
    c = st.pair_contrast(t, p).iloc[0]
    assert c["delta_ras"] == pytest.approx(-.282451 + .3, abs=1e-4)
