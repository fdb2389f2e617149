"""zoo-experiments/zoo_seeds.py: the goal check over several training seeds, on the smoke run's micro-zoo."""

import importlib.util
import json

import pandas as pd

import vlmrobust as vr
from vlmrobust import paths


def _script():
    spec = importlib.util.spec_from_file_location("zoo_seeds", paths.ROOT / "zoo-experiments" / "zoo_seeds.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_each_seed_trains_its_own_zoo_and_every_goal_gets_a_range(tmp_path, monkeypatch):
    monkeypatch.setenv("VLMROBUST_OUTPUTS", str(tmp_path))
    zs = _script()
    p1, d1 = zs.seed_params("params/smoke.yaml", 1)
    assert d1.endswith("zoo-seeds/seed1") and p1["zoo"]["seed"] == 1
    assert p1["models"]["zoo-po-aug"]["source"].endswith("zoo-seeds/seed1/po-aug")  # the models follow the zoo

    assert zs.main(["--params", "params/smoke.yaml", "--seeds", "0", "1"]) == 0
    out = tmp_path / "smoke" / "zoo-seeds"
    facts = json.loads((out / "seeds.json").read_text())
    assert set(facts) == {"0", "1"} and facts["0"]["weights"]["it"] != facts["1"]["weights"]["it"]
    goals, ranges = pd.read_csv(out / "goals.csv"), pd.read_csv(out / "ranges.csv")
    assert len(goals) == 2 * (len(ranges) + 1) == 2 * 14  # 13 goals and the descriptive Rel. mCE row per seed
    ep = pd.read_csv(out / "endpoint.csv")
    assert set(ep["seed"]) == {0, 1} and set(ep["control"]) == {"negative", "positive"}
    det = pd.read_csv(out / "detection.csv")
    assert set(det["control"]) == {"negative", "positive"} and (det["seeds"] == 2).all() and len(det) == 4
    assert set(det.loc[det["control"] == "positive", "reads_as"]) == {"power (detection rate)"}
    assert det["rule"].str.contains("the goal").sum() == 2 and (det["rate"] == det["detected_in"] / 2).all()
    assert (ranges["min"] <= ranges["max"]).all() and (ranges["seeds"] == 2).all()
    assert (ranges["holds_for_all"] == (ranges["met_by"] == 2)).all()
    assert set(pd.read_csv(out / "controls.csv")["seed"]) == {0, 1}
    lost = pd.read_csv(out / "accuracy_lost.csv")
    assert set(lost["seed"]) == {0, 1} and set(lost["model"]) == {"it", "po", "po-aug", "po-aug - po"}
    assert (lost.groupby(["seed", "model"]).size() == 2).all()  # the smoke run's severities 1 and 5
    assert (out / "accuracy_lost.png").stat().st_size > 10_000

    assert facts["1"]["reused"] is False
    p1, d1 = zs.seed_params("params/smoke.yaml", 1)
    assert vr.zoo.is_trained(vr.zoo.zoo_dir(p1), p1["zoo"])  # a second call re-evaluates, does not retrain
