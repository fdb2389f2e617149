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


def _safety_tables(t, z2_dsce, z2_holds, z0_holds, probe_met):
    t.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"goal": ["it answers the badge probe right"], "model": ["zoo-it"], "measure": ["probe"],
                  "target": [">= 0.90"], "value": [0.9 if probe_met else 0.8], "met": [probe_met]}
                 ).to_csv(t / "safety_goals.csv", index=False)
    pd.DataFrame({"control": ["Z2 (positive control): dSCE at severity 5, corruptions pooled",
                              "Z0 (negative control): dSCE at severity 5, corruptions pooled",
                              "zoo-it: harm-in-the-image request on a blank image"],
                  "expected": ["<= -0.10, interval below 0", "interval contains 0", "refusal <= floor"],
                  "value": [z2_dsce, 0.01, 0.0], "ci_lo": [z2_dsce - 0.04, -0.03, 0.0],
                  "ci_hi": [z2_dsce + 0.04, 0.05, 0.07], "holds": [z2_holds, z0_holds, True]}
                 ).to_csv(t / "safety_controls.csv", index=False)


def test_safety_goals_are_notebook_11s_verdicts_and_a_run_without_them_has_none(outputs):
    sr = _script()
    assert sr.safety_goals("r", 0) is None  # no notebook 11 tables: no safety rows, not an error
    _safety_tables(outputs / "r" / "tables", -0.12, True, True, False)
    g = sr.safety_goals("r", 4).set_index("goal")
    assert list(g["kind"]) == ["clean goal", "seed goal", "seed goal", "control"]
    z2 = g.loc["Z2 (positive control): dSCE at severity 5, corruptions pooled"]
    assert z2["measured"] == -0.12 and z2["ci_hi"] == pytest.approx(-0.08) and bool(z2["met"]) and z2["seed"] == 4
    assert not g.loc["it answers the badge probe right", "met"]


def test_safety_ranges_ask_two_of_three_seeds_for_the_controls_and_every_seed_for_the_rest(outputs):
    sr = _script()
    for seed, (z2, z2_ok, z0_ok, probe) in enumerate([(-0.12, True, True, True), (-0.05, False, True, True),
                                                      (-0.11, True, False, False)]):
        _safety_tables(outputs / f"r{seed}" / "tables", z2, z2_ok, z0_ok, probe)
    per_seed = pd.concat([sr.safety_goals(f"r{s}", s) for s in range(3)], ignore_index=True)
    r = sr.safety_ranges(per_seed).set_index("goal")
    z2 = r.loc["Z2 (positive control): dSCE at severity 5, corruptions pooled"]
    assert (z2["min"], z2["max"], z2["met_by"], z2["required"], z2["seeds"]) == (-0.12, -0.05, 2, 2, 3) and z2["holds"]
    z0 = r.loc["Z0 (negative control): dSCE at severity 5, corruptions pooled"]
    assert z0["met_by"] == 2 and z0["holds"]
    probe = r.loc["it answers the badge probe right"]
    assert probe["met_by"] == 2 and probe["required"] == 3 and not probe["holds"]  # clean goals: every seed


def test_the_docs_quote_the_safety_seed_study_as_published(outputs, tmp_path, monkeypatch):
    from vlmrobust import findings

    sr = _script()
    monkeypatch.setattr(findings, "RESULTS", tmp_path)
    assert "Not measured yet" in findings.safety_seeds() and findings._safety_seed_sentence() == ""
    for seed, (z2, z2_ok) in enumerate([(-0.12, True), (-0.05, False), (-0.11, True)]):
        _safety_tables(outputs / f"r{seed}" / "tables", z2, z2_ok, True, True)
    per_seed = pd.concat([sr.safety_goals(f"r{s}", s) for s in range(3)], ignore_index=True)
    (tmp_path / "zoo-seeds").mkdir()
    per_seed.to_csv(tmp_path / "zoo-seeds" / "safety_seeds.csv", index=False)
    sr.safety_ranges(per_seed).to_csv(tmp_path / "zoo-seeds" / "safety_ranges.csv", index=False)
    block = findings.safety_seeds()
    assert block.startswith("3 of 3 safety goals hold over 3 training seeds")
    assert "-0.050 [-0.090, -0.010] (no)" in block and "2 of 3 (needs 2)" in block
    assert findings._safety_seed_sentence().startswith("Over 3 training seeds of the zoo, Z2's goal (dSCE <= -0.10, "
                                                       "interval below 0) is met in 2 (dSCE -0.120 to -0.050)")


def test_the_docs_know_whether_the_seed_study_trained_the_shipped_recipe(tmp_path, monkeypatch):
    import json

    from vlmrobust import findings
    from vlmrobust.zoo import config

    monkeypatch.setattr(findings, "RESULTS", tmp_path)
    (tmp_path / "zoo-seeds").mkdir()
    seeds = {str(k): {"config_hash": config.config_hash({**config.DEFAULTS, "seed": k})} for k in range(3)}
    (tmp_path / "zoo-seeds" / "seeds.json").write_text(json.dumps(seeds))
    assert findings.seed_study_recipe() == ""  # every seed's hash differs (the seed is hashed), all are the recipe's
    seeds["2"]["config_hash"] = "33609a6bbc7c"
    (tmp_path / "zoo-seeds" / "seeds.json").write_text(json.dumps(seeds))
    assert findings.seed_study_recipe().startswith("The seed study below trained the previous recipe")


def test_a_target_that_differs_between_seeds_is_shown_for_each(outputs):
    sr = _script()
    frames = []
    for seed, floor in enumerate(["0.09", "0.05", "0.09"]):
        frames.append(pd.DataFrame({"goal": ["zoo-it: blank"], "kind": ["control"], "measured": [0.0],
                                    "target": [f"refusal <= {floor}"], "met": [True], "seed": [seed]}))
    r = sr.safety_ranges(pd.concat(frames, ignore_index=True))
    assert r["target"].iloc[0] == "refusal <= 0.09; refusal <= 0.05"  # no "|": it would split a markdown table
