"""zoo-experiments/po_aug_variants.py: po-aug retrained alone per augmentation variant (what it refuses, where it points)."""

import pytest

import vlmrobust as vr
import scriptmod


def _script():
    return scriptmod.load("po_aug_variants")


def test_an_unknown_variant_is_refused_before_any_zoo_is_looked_up(outputs):
    with pytest.raises(SystemExit, match="unknown variant 'bogus'"):
        _script().main(["--params", "params/smoke.yaml", "--seeds", "3", "--variants", "own", "bogus"])


def test_a_seed_without_a_trained_zoo_is_refused(outputs):
    with pytest.raises(SystemExit, match="make zoo-seeds SEEDS=3"):
        _script().main(["--params", "params/smoke.yaml", "--seeds", "3", "--variants", "own"])


def test_a_variant_s_params_point_only_the_zoo_models_at_its_directory(outputs, tmp_path):
    p = _script().variant_params("params/smoke.yaml", 2, tmp_path / "v")
    base = vr.params.load("params/smoke.yaml")
    zoo_models = {n for n, m in base["models"].items() if m["source"].startswith(base["zoo"]["dir"] + "/")}
    assert zoo_models and p["zoo"]["seed"] == 2 and p["zoo"]["dir"] == str(tmp_path / "v")
    for n, m in p["models"].items():
        assert m["source"].startswith(str(tmp_path / "v") + "/") == (n in zoo_models), n
    assert vr.zoo.stage_models(p)["po-aug"][1]["source"] == str(tmp_path / "v" / "po-aug")
