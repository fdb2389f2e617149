"""params: every shipped file validates; every kind of mistake fails with file, key, value."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from vlmrobust import params, paths

PARAM_FILES = sorted(paths.PARAMS_DIR.glob("*.yaml"))


def test_the_five_params_files_exist():
    assert {f.stem for f in PARAM_FILES} >= {"demo", "paper", "paper-extended", "full", "smoke"}


@pytest.mark.parametrize("f", PARAM_FILES, ids=lambda f: f.stem)
def test_shipped_params_validate(f):
    p = params.load(f)
    assert p["run"] == f.stem
    assert p["reference"] in params.run_models(p)


def _demo():
    return params.load("params/demo.yaml")


def _write(tmp_path, p, name="bad.yaml") -> Path:
    f = tmp_path / name
    f.write_text(yaml.safe_dump(p))
    return f


@pytest.mark.parametrize("mutate, key, value_repr", [
    (lambda p: p["corruptions"].__setitem__("severitys", p["corruptions"].pop("severities")),
     "corruptions.severitys", "[1, 3, 5]"),
    (lambda p: p.__setitem__("sed", 1), "sed", "1"),
    (lambda p: p["corruptions"].__setitem__("severities", [1, 3, 7]), "corruptions.severities[2]", "7"),
    (lambda p: p["corruptions"].__setitem__("severities", [0]), "corruptions.severities[0]", "0"),
    (lambda p: p["corruptions"].__setitem__("suite", ["gaussian_nois"]), "corruptions.suite[0]",
     "'gaussian_nois'"),
    (lambda p: p["corruptions"].__setitem__("suite", "pilots"), "corruptions.suite", "'pilots'"),
    (lambda p: p["benchmark"].__setitem__("n", 0), "benchmark.n", "0"),
    (lambda p: p["benchmark"].__setitem__("n", -3), "benchmark.n", "-3"),
    (lambda p: p["benchmark"].__setitem__("datasets", ["gqa", "okvqa"]), "benchmark.datasets[1]", "'okvqa'"),
    (lambda p: p.__setitem__("reference", "zoo-xx"), "reference", "'zoo-xx'"),
    (lambda p: p["pairs"]["Z0"].__setitem__("aligned", "nope"), "pairs.Z0.aligned", "'nope'"),
    (lambda p: p["models"]["zoo-it"].__setitem__("quantization", "nf5"), "models.zoo-it.quantization", "'nf5'"),
    (lambda p: p["models"]["zoo-it"].__setitem__("prompt_style", "dialog"), "models.zoo-it.prompt_style",
     "'dialog'"),
    (lambda p: p["inference"].__setitem__("shard", "3/2"), "inference.shard", "'3/2'"),
    (lambda p: p["zoo"]["steps"].__setitem__("objects", 400), "zoo.steps.objects", "400"),
    (lambda p: p["zoo"]["steps"].__setitem__("it", -1), "zoo.steps.it", "-1"),
    (lambda p: p["zoo"]["lr"].__setitem__("pt", "fast"), "zoo.lr.pt", "'fast'"),
])
def test_bad_values_name_file_key_and_value(tmp_path, mutate, key, value_repr):
    p = _demo()
    mutate(p)
    f = _write(tmp_path, p)
    with pytest.raises(params.ParamsError) as e:
        params.load(f)
    msg = str(e.value)
    assert str(f) in msg or "bad.yaml" in msg
    assert f"'{key}'" in msg
    assert value_repr in msg


def test_reference_must_be_enabled(tmp_path):
    p = _demo()
    p["models"]["zoo-po"]["enabled"] = False
    p["pairs"]["Z0"]["enabled"] = False
    p["reference"] = "zoo-po"
    with pytest.raises(params.ParamsError, match="'reference' = 'zoo-po'"):
        params.validate(p, "x.yaml")


def test_unresolved_model_cannot_be_enabled():
    p = params.load("params/paper.yaml")
    p["models"]["gemma-3-7b-it"]["enabled"] = True
    with pytest.raises(params.ParamsError, match="unresolved"):
        params.validate(p, "paper.yaml")


def test_paper_p3_is_marked_unresolved_not_substituted():
    p = params.load("params/paper.yaml")
    assert p["pairs"]["P3"]["enabled"] is False
    assert "unresolved" in p["models"]["gemma-3-7b-pt"]
    assert "gemma-3-7b-pt" not in params.run_models(p)
    assert "gemma-3-12b-it" not in params.run_models(p)  # the alternative is opt-in


def test_missing_file_lists_available_ones():
    with pytest.raises(params.ParamsError, match="available: .*demo"):
        params.load("params/nope.yaml")


def test_cli_fails_fast_with_a_clear_message(tmp_path):
    text = (paths.PARAMS_DIR / "demo.yaml").read_text().replace("severities:", "severitys:")
    f = tmp_path / "typo.yaml"
    f.write_text(text)
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "vlmrobust.params", "check", str(f)],
                       capture_output=True, text=True)
    assert time.monotonic() - t0 < 5
    assert r.returncode == 2
    assert "typo.yaml" in r.stderr and "corruptions.severitys" in r.stderr and "[1, 3, 5]" in r.stderr
    assert "did you mean 'severities'" in r.stderr


def test_from_notebook_rejects_typo_in_the_file_even_if_values_are_fine(tmp_path):
    text = (paths.PARAMS_DIR / "demo.yaml").read_text().replace("workers:", "wrokers:")
    f = tmp_path / "typo.yaml"
    f.write_text(text)
    ns = dict(_demo())
    with pytest.raises(params.ParamsError, match="corruptions.wrokers"):
        params.from_notebook(ns, str(f))
    assert params.from_notebook(ns, "params/demo.yaml")["run"] == "demo"
