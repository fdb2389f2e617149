"""zoo-experiments/seed_runs.py: the pipeline on other seeds' zoos (params it writes, findings it collects)."""

import pandas as pd
import pytest

import vlmrobust as vr
import scriptmod


def _script():
    return scriptmod.load("seed_runs")


def test_a_seed_without_a_trained_zoo_is_refused_before_anything_runs(outputs):
    with pytest.raises(SystemExit, match="zoo-seeds SEEDS=\"3\""):
        _script().seed_params_file("params/smoke.yaml", 3)


def test_the_seed_params_point_the_zoo_and_its_models_at_the_seed_directory(outputs, monkeypatch):
    sr = _script()
    monkeypatch.setattr(vr.zoo, "is_trained", lambda d, cfg: cfg["seed"] == 1 and str(d).endswith("seed1"))
    f = sr.seed_params_file("params/smoke.yaml", 1)
    p = vr.params.load(f)
    zdir = outputs / "smoke" / "zoo-seeds" / "seed1"
    assert f == zdir / "params.yaml" and p["run"] == "smoke-seed1" and p["zoo"]["seed"] == 1
    assert p["zoo"]["dir"] == str(zdir)
    zoo_models = {n: m["source"] for n, m in p["models"].items() if n.startswith("zoo-")}
    assert zoo_models and all(s.startswith(str(zdir) + "/") for s in zoo_models.values())
    base = vr.params.load("params/smoke.yaml")
    assert {k: v for k, v in p["zoo"].items() if k not in ("seed", "dir")} == \
           {k: v for k, v in base["zoo"].items() if k not in ("seed", "dir")}  # only seed and place differ
    assert p["pairs"] == base["pairs"] and p["benchmark"] == base["benchmark"]


def test_findings_read_the_headline_numbers_of_a_run(outputs):
    t = outputs / "r" / "tables"
    t.mkdir(parents=True)
    pd.DataFrame({"dataset": ["a", "macro", "macro"], "pair": ["Z0", "Z0", "Z2"],
                  "rel_mce_ratio": [0.5, 0.9, 0.8]}).to_csv(t / "table4_relative_mce.csv", index=False)
    pd.DataFrame({"pair": ["Z0", "Z0"], "dataset": ["a", "a"], "term": ["aligned", "aligned:sev_c"],
                  "vb_z": [9.0, 2.5], "gee_z": [9.0, 2.0]}).to_csv(t / "ethics_mixed.csv", index=False)
    pd.DataFrame({"pair": ["Z2"] * 3, "rho_beta1_lo": [0.1, -0.2, -0.5], "rho_beta1_hi": [0.4, 0.3, -0.1]}
                 ).to_csv(t / "probit_pair_contrast.csv", index=False)
    f = _script().findings("r", 7).set_index(["analysis", "pair", "dataset"])["value"]
    assert f[("table4 Rel. mCE (macro)", "Z2", "macro")] == 0.8 and len(f.loc["table4 Rel. mCE (macro)"]) == 2
    assert f[("mixed model aligned x severity: z (variational)", "Z0", "a")] == 2.5  # the interaction, not the main term
    assert f[("mixed model aligned x severity: z (GEE)", "Z0", "a")] == 2.0
    assert f[("probit pair contrast: cells above 0", "Z2", "all")] == 1
    assert f[("probit pair contrast: cells below 0", "Z2", "all")] == 1
    assert f[("probit pair contrast: cells", "Z2", "all")] == 3
