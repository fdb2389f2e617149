"""params: every shipped file validates; every kind of mistake fails with file, key, value."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from vlmrobust import design, params, paths

PARAM_FILES = sorted(paths.PARAMS_DIR.glob("*.yaml"))


def test_the_five_params_files_exist():
    assert {f.stem for f in PARAM_FILES} >= {"demo", "paper", "paper-extended", "full", "smoke"}


@pytest.mark.parametrize("f", PARAM_FILES, ids=lambda f: f.stem)
def test_shipped_params_validate(f):
    p = params.load(f)
    assert p["run"] == f.stem
    assert p["reference"] in design.run_models(p)


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
    # a pair of one model with itself (by name, or by two names with the same checkpoint)
    (lambda p: p["pairs"]["Z0"].__setitem__("aligned", p["pairs"]["Z0"]["base"]), "pairs.Z0.aligned", "'zoo-it'"),
    (lambda p: p["models"]["zoo-po"].__setitem__("source", p["models"]["zoo-it"]["source"]), "pairs.Z0.aligned",
     "'zoo-po'"),
    (lambda p: p["models"]["zoo-it"].__setitem__("quantization", "nf5"), "models.zoo-it.quantization", "'nf5'"),
    (lambda p: p["models"]["zoo-it"].__setitem__("prompt_style", "dialog"), "models.zoo-it.prompt_style",
     "'dialog'"),
    (lambda p: p["inference"].__setitem__("shard", "3/2"), "inference.shard", "'3/2'"),
    (lambda p: p["zoo"]["steps"].__setitem__("objects", 400), "zoo.steps.objects", "400"),
    (lambda p: p["zoo"]["steps"].__setitem__("it", -1), "zoo.steps.it", "-1"),
    (lambda p: p["zoo"]["lr"].__setitem__("pt", "fast"), "zoo.lr.pt", "'fast'"),
    (lambda p: p["zoo"].__setitem__("safety_items", 801), "zoo.safety_items", "801"),  # twins come in pairs
    # the safety measurement (notebook 11)
    (lambda p: p["safety"].__setitem__("n", 7), "safety.n", "7"),
    (lambda p: p["safety"].__setitem__("datasets", ["mossbench"]), "safety.datasets[0]", "'mossbench'"),
    (lambda p: p["safety"].__setitem__("models", ["zoo-xx"]), "safety.models[0]", "'zoo-xx'"),
    (lambda p: p["safety"].__setitem__("severities", [6]), "safety.severities[0]", "6"),
    (lambda p: p["safety"].__setitem__("suite", ["fogg"]), "safety.suite[0]", "'fogg'"),
    (lambda p: p["safety"].__setitem__("judge", {"id": "x"}), "safety.judge.id", "'x'"),
    (lambda p: p["safety"].__setitem__("refusal", 1), "safety.refusal", "1"),
    # values, not only names, are checked: each of these used to pass and crash notebook 00 minutes later
    (lambda p: p["zoo"].__setitem__("image_tokens", 10), "zoo.image_tokens", "10"),
    (lambda p: p["zoo"].__setitem__("image_tokens", 9), "zoo.image_tokens", "9"),  # 3 does not divide 16
    (lambda p: p["zoo"].__setitem__("patch_size", 0), "zoo.patch_size", "0"),
    (lambda p: p["zoo"].__setitem__("patch_size", 15), "zoo.patch_size", "15"),  # does not divide 224
    (lambda p: p["zoo"].__setitem__("batch_size", 0), "zoo.batch_size", "0"),
    (lambda p: p["zoo"].__setitem__("text_hidden", 127), "zoo.text_hidden", "127"),  # 2 heads
    (lambda p: p["zoo"]["lr"].__setitem__("it", 0), "zoo.lr.it", "0"),
    (lambda p: p["zoo"].__setitem__("vocab_size", 50), "zoo.vocab_size", "50"),
    (lambda p: p["analysis"].__setitem__("bootstrap", 0), "analysis.bootstrap", "0"),
    (lambda p: p["analysis"].__setitem__("ci", 95), "analysis.ci", "95"),
    (lambda p: p["inference"].__setitem__("batch_size", 0), "inference.batch_size", "0"),
    (lambda p: p["models"]["zoo-it"].__setitem__("enabled", "yes"), "models.zoo-it.enabled", "'yes'"),
    (lambda p: p["inference"].__setitem__("text_variants", ["misled"]), "inference.text_variants[0]", "'misled'"),
    # a text severity the run does not generate (demo: 1, 3, 5) would silently plan nothing
    (lambda p: p["inference"].__setitem__("text_severities", [0, 4]), "inference.text_severities[1]", "4"),
    (lambda p: p["inference"].__setitem__("text_items", 0), "inference.text_items", "0"),
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
    assert "gemma-3-7b-pt" not in design.run_models(p)
    assert "gemma-3-12b-it" not in design.run_models(p)  # the alternative is opt-in


def test_missing_file_lists_available_ones():
    with pytest.raises(params.ParamsError, match="available: .*demo"):
        params.load("params/nope.yaml")


def test_cli_fails_fast_with_a_clear_message(tmp_path):
    text = (paths.PARAMS_DIR / "demo.yaml").read_text().replace("severities:", "severitys:")
    f = tmp_path / "typo.yaml"
    f.write_text(text)
    r = subprocess.run([sys.executable, "-m", "vlmrobust.params", "check", str(f)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "typo.yaml" in r.stderr and "corruptions.severitys" in r.stderr and "[1, 3, 5]" in r.stderr
    assert "did you mean 'severities'" in r.stderr




@pytest.mark.parametrize("key, value", [("image_tokens", 10), ("patch_size", 0)])
def test_check_params_rejects_bad_zoo_sizes(tmp_path, key, value):
    """`make check-params` runs this command; the bad value must fail before any kernel or torch
    (that params loads no torch is tests/test_structure.py's; its time is benchmarks/check_params.py's)."""
    text = (paths.PARAMS_DIR / "demo.yaml").read_text()
    f = tmp_path / "bad.yaml"
    f.write_text(text.replace("\nzoo:", f"\nzoo:\n  {key}: {value}  # a bad value", 1))
    r = subprocess.run([sys.executable, "-m", "vlmrobust.params", "check", str(f)], capture_output=True, text=True)
    assert r.returncode == 2 and f"'zoo.{key}' = {value}" in r.stderr and "bad.yaml" in r.stderr


def test_load_fills_every_optional_key_from_the_one_table(tmp_path):
    p = yaml.safe_load((paths.PARAMS_DIR / "demo.yaml").read_text())
    for section in ("corruptions", "inference", "analysis"):
        for key in params.DEFAULTS[section]:
            p[section].pop(key, None)
    for key in ("steps", "lr", "seed", "threads"):
        p["zoo"].pop(key, None)
    p["zoo"]["steps"] = {"it": 5}  # a partial mapping keeps the other stages' defaults
    p["models"]["zoo-it"] = {"source": "{run_dir}/zoo/it", "prompt_style": "chat"}
    del p["pairs"]["Z0"]["note"]
    full = params.load(_write(tmp_path, p))
    assert full["analysis"] == params.DEFAULTS["analysis"]
    assert full["inference"]["chunk_size"] == params.DEFAULTS["inference"]["chunk_size"]
    assert full["zoo"]["steps"] == {**params.DEFAULTS["zoo"]["steps"], "it": 5}
    assert full["zoo"]["lr"] == params.DEFAULTS["zoo"]["lr"]
    assert full["models"]["zoo-it"]["label"] == "zoo-it"  # a model's label defaults to its name
    assert full["models"]["zoo-it"]["enabled"] is True and full["models"]["zoo-it"]["quantization"] == "none"
    assert full["pairs"]["Z0"]["note"] == "" and full["pairs"]["Z0"]["enabled"] is True
    assert p["zoo"]["steps"] == {"it": 5}  # the caller's mapping is not modified


def test_every_shipped_file_fills_to_the_same_keys():
    keys = {f.stem: {s: set(params.load(f)[s]) for s in ("benchmark", "corruptions", "inference", "analysis")}
            for f in PARAM_FILES}
    assert all(k == keys["demo"] for k in keys.values())


def test_overrides_merge_into_the_file_and_are_validated():
    p = params.load("params/demo.yaml", {"benchmark": {"n": 7}, "zoo": {"steps": {"po": 3}}})
    assert p["benchmark"]["n"] == 7 and p["benchmark"]["datasets"] == _demo()["benchmark"]["datasets"]
    assert p["zoo"]["steps"] == {**_demo()["zoo"]["steps"], "po": 3}
    with pytest.raises(params.ParamsError, match=r"params/demo.yaml \+ overrides.*'benchmark.n' = 0"):
        params.load("params/demo.yaml", {"benchmark": {"n": 0}})
    with pytest.raises(params.ParamsError, match="'zoo.image_tokens' = 10"):
        params.load("params/demo.yaml", {"zoo": {"image_tokens": 10}})


def test_zoo_config_alone_fills_and_checks():
    z = params.zoo_config({"dir": "x", "seed": 3})
    assert z == {**params.DEFAULTS["zoo"], "dir": "x", "seed": 3}
    with pytest.raises(params.ParamsError, match="'zoo.patch_size' = 0"):
        params.zoo_config({"dir": "x", "patch_size": 0})


def test_po_aug_cannot_train_on_a_corruption_the_run_evaluates():
    """The planted effect must transfer: with po_aug_images heldout-imagenet-c, a suite that evaluates
    one of those corruptions is refused, naming the key and the corruption; `own` allows it."""
    with pytest.raises(params.ParamsError, match=r"'zoo.po_aug_images' = 'heldout-imagenet-c'.*fog"):
        params.load("params/demo.yaml", {"corruptions": {"suite": ["fog", "brightness"]}})
    with pytest.raises(params.ParamsError, match=r"'zoo.po_aug_images'.*contrast"):
        params.load("params/demo.yaml", {"corruptions": {"suite": "imagenet-c"}})
    assert params.load("params/demo.yaml", {"corruptions": {"suite": ["fog"]}, "zoo": {"po_aug_images": "own"}})
    with pytest.raises(params.ParamsError, match="'zoo.po_aug_images' = 'jitter'"):
        params.load("params/demo.yaml", {"zoo": {"po_aug_images": "jitter"}})


def test_the_safety_section_is_optional_and_filled():
    raw = yaml.safe_load(Path("params/demo.yaml").read_text())
    raw.pop("safety")
    assert params.validate(raw, "x")["safety"] is None  # left out: no refusal measurement
    p = params.load("params/demo.yaml", {"safety": {"n": 20}})
    assert p["safety"]["n"] == 20 and p["safety"]["judge"] is None and p["safety"]["sources"] == {}
    assert params.load("params/paper.yaml")["safety"]["n"] >= 300  # the paper's sets at n >= 300
