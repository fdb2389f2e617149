"""stats: every hand-computed value of docs/methods.md sections 3 and 6 (to 1e-4), and the edge cases."""

import math

import numpy as np
import pandas as pd
import pytest

from vlmrobust import stats


@pytest.mark.parametrize("k, n, lo, hi", [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0),
                                          (29, 50, 0.4423, 0.7062)])
def test_wilson_by_hand(k, n, lo, hi):
    assert stats.wilson(k, n) == pytest.approx((lo, hi), abs=1e-4)


def test_wilson_of_no_items_is_nan():
    lo, hi = stats.wilson(0, 0)
    assert np.isnan(lo) and np.isnan(hi)


def test_mcnemar_exact_by_hand():
    assert stats.mcnemar_exact(0, 2, "greater") == pytest.approx(0.25)  # spec: severity 1, c = 2, b = 0
    assert stats.mcnemar_exact(0, 2) == pytest.approx(0.5)
    assert stats.mcnemar_exact(0, 5) == pytest.approx(0.0625)  # 5/50 one way cannot reach .05
    assert stats.mcnemar_exact(0, 6) == pytest.approx(0.03125)
    assert stats.mcnemar_exact(3, 0, "less") == pytest.approx(0.125)
    assert stats.mcnemar_exact(0, 0) == 1.0  # no discordant pair: no evidence
    with pytest.raises(ValueError, match="alternative"):
        stats.mcnemar_exact(1, 2, "bigger")


def test_sign_flip_by_hand():
    assert stats.sign_flip([1, 1, 1, 1, 1]) == pytest.approx(2 / 32)  # = McNemar b = 0, c = 5
    assert stats.sign_flip([0.3, 0.6, -0.3, 1.0]) == pytest.approx(6 / 16)
    assert stats.sign_flip([1, 1, 1, 1, 1], alternative="greater") == pytest.approx(1 / 32)
    assert stats.sign_flip([0, 0, 0]) == 1.0 and stats.sign_flip([]) == 1.0


def test_sign_flip_monte_carlo_beyond_20_nonzero():
    d = np.r_[np.ones(30), -np.ones(10)]
    p = stats.sign_flip(d, n_resamples=20000, seed=1)
    assert p == pytest.approx(stats.mcnemar_exact(30, 10), abs=0.01)  # both test the same null
    assert p == stats.sign_flip(d, n_resamples=20000, seed=1)  # seeded


def test_adjust_by_hand_and_never_silently():
    p = [0.01, 0.02, 0.03, 0.04]
    assert stats.adjust(p, "holm") == pytest.approx([0.04, 0.06, 0.06, 0.06])
    assert stats.adjust(p, "fdr_bh") == pytest.approx([0.04, 0.04, 0.04, 0.04])
    out = stats.adjust([0.01, np.nan, 0.04], "holm")
    assert np.isnan(out[1]) and out[[0, 2]] == pytest.approx([0.02, 0.04])  # NaN is not in the family
    with pytest.raises(ValueError, match="holm"):
        stats.adjust(p, "hs")


def test_cochran_q_by_hand():
    q, p = stats.cochran_q([0.1, 0.0, -0.1], [0.05, 0.05, 0.05])
    assert q == pytest.approx(8.0) and p == pytest.approx(math.exp(-4), abs=1e-4)
    assert all(np.isnan(stats.cochran_q([0.1], [0.05])))


def test_paired_counts_and_difference():
    assert stats.paired_counts([1, 1, 0, 0, 0], [1, 0, 1, 1, 0]) == (1, 1, 2, 1)
    d, lo, hi = stats.paired_diff_ci(1, 2, 5)
    assert d == pytest.approx(0.2) and lo < d < hi


def test_iut_and_the_four_item_did_example():
    # items (B1, A1, B5, A5): d = (2, 0, 0, 1), DiD = 0.75 = delta1 (0.5) - delta5 (-0.25)
    y = np.array([(0, 1, 1, 0), (0, 0, 1, 1), (1, 1, 0, 0), (0, 1, 0, 0)])
    d = (y[:, 1] - y[:, 0]) - (y[:, 3] - y[:, 2])
    assert list(d) == [2, 0, 0, 1] and d.mean() == pytest.approx(0.75)
    assert stats.iut(0.25, 0.6) == 0.6


def test_bootstrap_mean_and_degenerate_case():
    b = stats.bootstrap_mean([2, 0, 0, 1], n_resamples=500, seed=0)
    assert b["estimate"] == pytest.approx(0.75) and b["ci_lo"] <= 0.75 <= b["ci_hi"]
    same = stats.bootstrap_mean([1, 1, 1], n_resamples=100, seed=0)
    assert same["degenerate"] and same["ci_lo"] == same["ci_hi"] == 1.0
    assert np.isnan(stats.bootstrap_mean([], 10, 0)["estimate"])


def test_power_and_minimum_detectable_effects_by_hand():
    t = stats.mde_table((10, 50, 500)).set_index("n")
    assert t["wilson_halfwidth_at_0.5"].tolist() == pytest.approx([0.263, 0.134, 0.044], abs=1e-3)
    assert t["min_significant_paired_delta"].tolist() == pytest.approx([0.60, 0.12, 0.012])
    assert t["mde_independent"].tolist() == pytest.approx([0.475, 0.266, 0.088], abs=1e-3)
    assert np.isnan(t.loc[10, "mde_paired_connor_psi0.2"])  # infeasible: MDE > psi
    assert t.loc[50, "mde_paired_connor_psi0.2"] == pytest.approx(0.173, abs=1e-3)
    assert t.loc[500, "mde_paired_connor_psi0.2"] == pytest.approx(0.056, abs=1e-3)
    assert t["power_delta0.1_independent"].tolist() == pytest.approx([0.07, 0.17, 0.89], abs=0.01)
    assert t["power_delta0.1_paired_exact_psi0.2"].tolist() == pytest.approx([0.001, 0.24, 0.999], abs=0.01)
    assert [math.ceil(stats.connor_n(0.1, psi)) for psi in (0.1, 0.2, 0.3, 0.5)] == [77, 155, 234, 391]


def test_reversal_power_at_the_papers_n():
    cells = (0.2, 0.5, 0.5, 0.3)  # Table 6 defocus: B1, A1, B5, A5
    at10 = stats.power_reversal(cells, 10, reps=6000, seed=0)
    at50 = stats.power_reversal(cells, 50, reps=6000, seed=0)
    assert at10["iut"] == pytest.approx(0.02, abs=0.02) and at50["iut"] == pytest.approx(0.52, abs=0.04)
    assert at10["did"] == pytest.approx(0.32, abs=0.05) and at50["did"] == pytest.approx(0.95, abs=0.03)
    # analytic check for independent cells: n = 7.849 * 0.87 / 0.25 = 27.3 for the DiD test
    assert 20 <= stats.n_for_power(cells, "did", reps=3000) <= 36


def _saturated(cells, n=10):
    rows = []
    for (aligned, sev), p in cells.items():
        for i in range(n):
            rows.append({"item": i, "aligned": aligned, "severity": sev, "y": int(i < round(p * n))})
    return pd.DataFrame(rows)


def test_gee_saturated_model_recovers_the_log_odds_did():
    df = _saturated({(0, 1): 0.2, (1, 1): 0.5, (0, 5): 0.5, (1, 5): 0.3})
    r = stats.gee_interaction(df, "y ~ aligned * C(severity)", "aligned:C(severity)[T.5]",
                              separation_by=["aligned", "severity"])
    assert r["status"] == "ok" and r["coef"] == pytest.approx(-2.2336, abs=1e-4)
    assert math.exp(r["coef"]) == pytest.approx(0.1071, abs=1e-4)


def test_gee_perfect_separation_is_nan_with_a_reason():
    df = _saturated({(0, 1): 1.0, (1, 1): 0.5, (0, 5): 0.5, (1, 5): 0.3})
    r = stats.gee_interaction(df, "y ~ aligned * C(severity)", "aligned:C(severity)[T.5]",
                              separation_by=["aligned", "severity"])
    assert np.isnan(r["coef"]) and "perfect separation" in r["status"]


def test_mixed_model_agrees_in_sign_with_gee():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):
        u = rng.normal(0, 1)
        for aligned in (0, 1):
            for sev in (1, 3, 5):
                logit = 0.5 + u - 0.3 * (sev - 3) + 0.8 * aligned
                rows.append({"item": i, "aligned": aligned, "sev_c": sev - 3, "corruption": "g",
                             "y": int(rng.random() < 1 / (1 + math.exp(-logit)))})
    df = pd.DataFrame(rows)
    vb = stats.mixed_vb(df, "y ~ aligned * sev_c", ["aligned", "aligned:sev_c"]).set_index("term")
    gee = stats.gee_interaction(df, "y ~ aligned * sev_c", "aligned")
    assert vb.loc["aligned", "status"] == "ok" and vb.loc["aligned", "post_mean"] > 0 and gee["coef"] > 0
    assert vb.loc["aligned", "z_approx"] > 2
