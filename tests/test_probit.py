"""analyses.probit: the spec's hand-computed cases (docs/methods.md section 5) to 1e-4, and the paper's GQA points."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from vlmrobust import params
from vlmrobust.analyses import probit

BASE = [(0.5, 0.308538), (0.841345, 0.5), (0.977250, 0.691462)]  # (Phi(0), Phi(-.5)), (Phi(1), Phi(0)), (Phi(2), Phi(.5))


def test_exact_line_fit():
    x, y = np.array(BASE).T
    zx, _ = probit.transform(x, 10_000)
    zy, _ = probit.transform(y, 10_000)
    line = probit.fit_line(zx, zy)
    assert (line["beta"], line["alpha"], line["r2"]) == pytest.approx((0.5, -0.5, 1.0), abs=1e-4)


def test_effective_robustness_and_pair_contrast():
    er = probit.effective_robustness([0.841345, 0.841345], [0.691462, 0.5], -0.5, 0.5, 10_000)
    assert er == pytest.approx([0.191462, 0.0], abs=1e-4)  # aligned above the line; its base on it
    assert er[0] - er[1] == pytest.approx(0.191462, abs=1e-4)
    for beta in (0.5, 1.0):
        assert probit.pair_contrast(0.841345, 0.5, 0.841345, 0.691462, beta, 10_000) == pytest.approx(0.5, abs=1e-4)


def test_clipping_and_chance_correction():
    z, clipped = probit.transform([0.0], 50)
    assert z[0] == pytest.approx(-2.3263, abs=1e-4) and clipped[0]  # 0 -> 1/(2n) = 0.01, hollow, out of fits
    z, clipped = probit.transform([0.625], 50, chance=4)
    assert z[0] == pytest.approx(0.0, abs=1e-9) and not clipped[0]  # (0.625 - .25) / .75 = .5


def test_no_line_below_three_points():
    line = probit.fit_line([0.1, 0.2], [0.3, 0.4])
    assert np.isnan(line["beta"]) and "need 3" in line["status"]
    line = probit.fit_line([0.1, 0.2, 0.3], [0.3, 0.4, 0.5], use=[True, True, False])
    assert np.isnan(line["beta"])


def test_shift_all_averages_severities_first():
    conds = [("a", 1), ("a", 3), ("b", 1)]
    sh = probit.shifts(conds)
    acc = np.array([0.2, 0.4, 0.9])
    assert probit._shift_acc(acc, conds, sh["a"], "a") == pytest.approx(0.3)
    assert probit._shift_acc(acc, conds, sh[probit.ALL], probit.ALL) == pytest.approx((0.3 + 0.9) / 2)  # not 0.5


def _run_scores(n=40):
    """Three models on one dataset: each with a known clean and corrupted accuracy (items ordered)."""
    acc = {"b": (0.5, 0.3), "a": (0.8, 0.7), "r": (0.9, 0.6)}
    rows = []
    for m, (clean, corr) in acc.items():
        for i in range(n):
            rows.append({"model": m, "dataset": "synth-spatial", "sample_id": f"s{i}", "corruption": "none",
                         "severity": 0, "prompt_variant": "concise", "score": float(i < clean * n)})
            for sev in (1, 3):
                rows.append({"model": m, "dataset": "synth-spatial", "sample_id": f"s{i}", "corruption": "fog",
                             "severity": sev, "prompt_variant": "concise", "score": float(i < corr * n)})
    return pd.DataFrame(rows)


def test_lines_on_a_run_match_the_closed_form():
    p = params.load("params/smoke.yaml")
    p["benchmark"]["datasets"] = ["synth-spatial"]
    p["models"] = {m: {"source": f"x/{m}", "prompt_style": "chat"} for m in ("b", "a", "r")}
    p["pairs"] = {"X": {"base": "b", "aligned": "a", "method": "m"}}
    p["reference"] = "r"
    p["analysis"] = {"bootstrap": 300, "probit_fit_on": "all"}
    p = params.validate(p, "test")
    fits, er, con, band = probit.lines(_run_scores(), p, fit_on="all")
    b = band[band["shift"] == probit.ALL]
    assert len(b) == len(probit.BAND_GRID) and (b["lo"] <= b["hi"]).all()
    f = fits[fits["shift"] == probit.ALL].iloc[0]
    zx, zy = sps.norm.ppf([0.5, 0.8, 0.9]), sps.norm.ppf([0.3, 0.7, 0.6])
    expect = sps.linregress(zx, zy)
    assert (f["beta"], f["alpha"]) == pytest.approx((expect.slope, expect.intercept), abs=1e-9)
    e = er[er["shift"] == probit.ALL].set_index("model")
    assert e.loc["a", "er"] == pytest.approx(0.7 - sps.norm.cdf(expect.intercept + expect.slope * zx[1]), abs=1e-9)
    assert e.loc["a", "er_lo"] <= e.loc["a", "er"] <= e.loc["a", "er_hi"]
    c = con[con["shift"] == probit.ALL].iloc[0]
    assert c["rho_beta1"] == pytest.approx((zy[1] - zy[0]) - (zx[1] - zx[0]), abs=1e-9)
    base_only = probit.lines(_run_scores(), p, fit_on="base")[0]
    assert base_only["status"].str.startswith("no line").all()  # one base model: no line, said so


def test_paper_points_follow_from_tables_2_5_6():
    pts = probit.paper_points().set_index("model")
    # IVL-SFT is the reference: its error sums are Table 6's (7.0 over 12 cells)
    assert pts.loc["IVL-SFT", "shifted_acc"] == pytest.approx(1 - 7.0 / 12, abs=1e-9)
    e = 0.889 * 1.8 + 0.950 * 2.0 + 0.600 * 1.5 + 0.882 * 1.7
    assert pts.loc["IVL-MPO", "shifted_acc"] == pytest.approx(1 - e / 12, abs=1e-9)
    assert pts.loc["QW-inst", "clean_acc"] == 0.8


def test_the_weighted_line_equals_ols_for_equal_weights_and_follows_the_heavy_point():
    zx, zy = np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0, 4.0])
    ols = probit.fit_line(zx, zy)
    eq = probit.weighted_line(zx, zy, np.ones(4))
    assert eq["beta"] == pytest.approx(ols["beta"]) and eq["alpha"] == pytest.approx(ols["alpha"])
    heavy = probit.weighted_line(zx, zy, np.array([100.0, 100.0, 100.0, 1.0]))
    assert heavy["beta"] == pytest.approx(1.0, abs=0.02)  # the three heavy points lie on y = x
    # the variance of z(p) shrinks with n and is smallest at p = 0.5
    assert probit.z_variance(0.5, 50) < probit.z_variance(0.5, 10) and probit.z_variance(0.5, 50) < probit.z_variance(0.1, 50)


def test_the_paper_line_is_weighted_with_intervals_and_flags_extrapolation():
    pts, line = probit.paper_lines(n_boot=300)
    assert line["fit"].startswith("weighted") and line["beta_lo"] < line["beta"] < line["beta_hi"]
    al = pts[pts["role"] == "aligned"].set_index("pair")
    assert (al["rho_fitted_lo"] <= al["rho_fitted_beta"]).all() and (al["rho_fitted_beta"] <= al["rho_fitted_hi"]).all()
    assert al.loc["P1", "extrapolated"] and not al.loc["P0", "extrapolated"]  # QW-inst's clean 0.8 > the bases' 0.58
