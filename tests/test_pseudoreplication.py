"""No analysis counts one item twice: the fixes of the verbosity A/B, the format-loss equivalence, the
label-swap null, the mixed model and the text contrasts, each on a case where today's answer was wrong."""

import numpy as np
import pandas as pd
import pytest

from vlmrobust import params, stats
from vlmrobust.analyses import confound, severity


# --- equivalence (TOST) for "the fix eliminates the format loss" --------------------------------

@pytest.mark.parametrize("lo, hi, equivalent", [(-0.02, 0.18, False), (-0.010, 0.015, True), (-0.03, 0.01, False),
                                                 (-0.02, 0.02, True)])
def test_equivalence_needs_the_whole_90_percent_interval_inside_the_margin(lo, hi, equivalent):
    assert stats.equivalent(lo, hi, margin=0.02) is equivalent


def test_tost_bootstrap_uses_the_90_percent_interval():
    d = np.r_[np.zeros(90), np.full(10, 0.5)]  # a format loss of 0.05 on 100 items
    r = stats.tost_bootstrap(d, margin=0.02, n_resamples=2000, seed=0)
    assert r["estimate"] == pytest.approx(0.05) and not r["equivalent"]
    wide = stats.bootstrap_mean(d, 2000, 0, ci=0.90)
    assert (r["ci_lo"], r["ci_hi"]) == (wide["ci_lo"], wide["ci_hi"])
    assert stats.tost_bootstrap(np.zeros(50), margin=0.02, n_resamples=500, seed=0)["equivalent"]


# --- the verbosity A/B counts items, not item x condition rows -------------------------------------

def _format_frame(n_items=20, conditions=6):
    """Concise right and plain wrong on the same 3 items in every corrupted condition (a per-item
    difference of 3 / 20), for both models of the demo's Z0."""
    rows = []
    for m in ("zoo-it", "zoo-po"):
        for i in range(n_items):
            for k in range(conditions + 1):
                c, s = ("none", 0) if k == 0 else (f"c{k % 3}", 1 + k // 3)
                for v, y in (("concise", 1.0 if i < 3 else 0.0), ("plain", 0.0)):
                    rows.append({"model": m, "dataset": "synth-vqa", "sample_id": str(i), "corruption": c,
                                 "severity": s, "prompt_variant": v, "y": y, "lenient": y})
    return pd.DataFrame(rows)


def test_the_verbosity_test_has_one_value_per_item():
    p = params.load("params/demo.yaml", {"benchmark": {"datasets": ["synth-vqa"]}})
    ab = confound.verbosity_ab(_format_frame(), p)
    cor = ab[(ab["pair"] == "Z0") & (ab["image"] == "corrupted")].iloc[0]
    assert cor["n"] == 20 and cor["rows"] == 120  # items, and the item x condition rows averaged inside them
    # 3 of 20 items differ, all one way: the exact sign-flip p is 2 x 0.5^3 = 0.25 (pooling the 18 rows
    # as independent would give 2 x 0.5^18)
    assert cor["p_verb_b"] == pytest.approx(0.25)


# --- the label-swap null: one sign per item for all of its conditions ----------------------------------

def test_the_label_swap_draws_one_sign_per_item_across_corruptions():
    """Two corruptions with identical per-item differences: under a joint swap their reversal counts
    move together, so the null count is 0 or 2, never 1 (independent swaps per corruption give 1)."""
    rows = []
    for i in range(6):
        lo, hi = (1, 0) if i < 3 else (0, 0)  # aligned right at severity 1 on 3 items; base right at 5 on 3 others
        lo_b, hi_b = (0, 0) if i < 3 else (0, 1)
        for c in ("gaussian_noise", "defocus_blur"):
            for sev, a, b in ((1, lo, lo_b), (5, hi, hi_b)):
                rows += [{"model": "zoo-po", "dataset": "synth-vqa", "sample_id": str(i), "corruption": c,
                          "severity": sev, "prompt_variant": "concise", "score": float(a)},
                         {"model": "zoo-it", "dataset": "synth-vqa", "sample_id": str(i), "corruption": c,
                          "severity": sev, "prompt_variant": "concise", "score": float(b)}]
    p = params.load("params/demo.yaml", {"benchmark": {"datasets": ["synth-vqa"]},
                                         "pairs": {"Z1": {"enabled": False}, "Z2": {"enabled": False}}})
    counts = severity.label_swap_counts(pd.DataFrame(rows), p, n_perm=400)
    assert counts[0] == 2  # observed: +0.5 at severity 1 and -0.5 at 5 in both corruptions
    assert set(np.unique(counts[1:])) <= {0, 2}


# --- the mixed model: item slopes for the terms that vary within items -------------------------------

def test_item_slopes_bring_the_mixed_models_z_back_to_the_gees():
    """Items differ in how alignment affects them (a random item slope, mean 0) and there is no true
    aligned x severity effect: an intercept-only mixed model counts the item x condition answers as
    replicates of one effect and its z overshoots the GEE's (clustered on the item); with item slopes
    it does not."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(100):
        u, b = rng.normal(0, 1), rng.normal(0, 1.5)
        for a in (0, 1):
            for s in (1, 3, 5):
                for c in ("gaussian_noise", "defocus_blur"):
                    p = 1 / (1 + np.exp(-(u + a * b - 0.2 * (s - 3))))
                    rows.append({"item": f"i{i}", "aligned": a, "sev_c": s - 3, "corruption": c,
                                 "y": int(rng.random() < p)})
    df = pd.DataFrame(rows)
    formula, term = "y ~ aligned * sev_c + C(corruption)", "aligned:sev_c"
    gee = stats.gee_interaction(df, formula, term)
    z_gee = gee["coef"] / gee["se"]
    z_flat = stats.mixed_vb(df, formula, [term]).iloc[0]["z_approx"]
    z_slopes = stats.mixed_vb(df, formula, [term], slopes=("aligned", "aligned:sev_c")).iloc[0]
    assert abs(z_flat) > abs(z_gee) + 0.5
    assert abs(z_slopes["z_approx"]) <= abs(z_gee) + 0.25
    assert "item:aligned sd" in z_slopes["random"] and "item:aligned:sev_c sd" in z_slopes["random"]
