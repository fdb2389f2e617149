"""Preflight: each failure a first GPU run could meet is reported, naming the model or dataset and what
to do, before any image or weight is downloaded."""

import shutil

import pytest

from tinymodels import make_tiny_gemma3
from vlmrobust import params, preflight


def _params(tmp_path, models_spec: dict, datasets=("synth-vqa",), sources=None, device="cpu"):
    p = params.load("params/smoke.yaml")
    p.update(run="pf", zoo=None, models=models_spec, reference=next(iter(models_spec)),
             pairs={"P": {"base": list(models_spec)[0], "aligned": list(models_spec)[-1], "method": "m"}})
    p["benchmark"].update(datasets=list(datasets), sources=sources or {})
    p["inference"]["device"] = device
    return params.validate(p, "test")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_gemma3(tmp_path_factory.mktemp("tiny") / "ckpt")


@pytest.fixture(autouse=True)
def outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("VLMROBUST_OUTPUTS", str(tmp_path / "outputs"))


def _local(path, **kw):
    return {"source": str(path), "family": "gemma3", "prompt_style": "chat", "dtype": "float32", **kw}


def _status(table, target):
    return table.set_index("target").loc[target]


def test_a_ready_run_passes_every_check(tmp_path, tiny):
    t = preflight.check(_params(tmp_path, {"a": _local(tiny), "b": _local(tiny, label="b", revision="x")}))
    assert (t["status"] != preflight.FAIL).all(), t
    assert {"model", "dataset", "disk"} <= set(t["check"])


def test_a_missing_converted_checkpoint_names_the_model_and_the_conversion(tmp_path, tiny):
    p = _params(tmp_path, {"ivl": _local(tmp_path / "checkpoints" / "InternVL2_5-2B-hf"), "b": _local(tiny)})
    row = _status(preflight.check(p), "ivl")
    assert row["status"] == "FAIL" and "no checkpoint at" in row["detail"] and "make convert-internvl" in row["detail"]


def test_a_gated_model_says_accept_the_licence(tmp_path, tiny, monkeypatch):
    from transformers import AutoProcessor

    def gated(*a, **k):
        raise OSError("You are trying to access a gated repo. Make sure to have access to it.")

    monkeypatch.setattr(AutoProcessor, "from_pretrained", gated)
    monkeypatch.setattr(preflight, "hub_reachable", lambda *a, **k: True)
    p = _params(tmp_path, {"b": _local(tiny), "g": {"source": "google/gemma-3-4b-it", "prompt_style": "chat"}})
    row = _status(preflight.check(p), "g")
    assert row["status"] == "FAIL" and "gated" in row["detail"] and "accept its licence" in row["detail"]


def test_a_broken_torchvision_is_named_before_any_weights_load(tmp_path, tiny, monkeypatch):
    import importlib
    import importlib.util

    real_find, real_import = importlib.util.find_spec, importlib.import_module
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: object() if n == "torchvision" else real_find(n, *a))

    def broken(name, *a, **k):
        if name == "torchvision":
            raise RuntimeError("operator torchvision::nms does not exist")
        return real_import(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", broken)
    row = _status(preflight.check(_params(tmp_path, {"a": _local(tiny), "b": _local(tiny, revision="x")})), "a")
    assert row["status"] == "FAIL" and "torchvision is installed but cannot be imported" in row["detail"]


def test_cuda_asked_for_on_a_machine_without_it(tmp_path, tiny, monkeypatch):
    """No GPU, and a bitsandbytes that cannot run NF4 there (both simulated, so the test means the same
    on a GPU machine)."""
    import bitsandbytes.functional as F
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    def no_cuda(*a, **k):
        raise RuntimeError("Torch not compiled with CUDA enabled")

    monkeypatch.setattr(F, "quantize_4bit", no_cuda)
    t = preflight.check(_params(tmp_path, {"a": _local(tiny, quantization="nf4"), "b": _local(tiny, revision="x")},
                                device="cuda"))
    assert _status(t, "cuda")["status"] == "FAIL" and "sees no GPU" in _status(t, "cuda")["detail"]
    assert "cannot run 'nf4' on device 'cuda'" in _status(t, "a")["detail"]  # bitsandbytes without CUDA


def test_a_dataset_split_that_is_not_on_the_hub(tmp_path, tiny, monkeypatch):
    from hub_layout import CountingFileSystem, hub_tree

    from vlmrobust.data import splits

    root = hub_tree(tmp_path / "hub", rows=40, files=1, row_group=10)
    monkeypatch.setattr(splits, "hub_filesystem", lambda: CountingFileSystem(root))
    monkeypatch.setattr(preflight, "hub_reachable", lambda *a, **k: True)
    good = preflight.check(_params(tmp_path, {"a": _local(tiny), "b": _local(tiny, revision="x")}, ("vqav2",)))
    assert _status(good, "vqav2")["status"] == "ok" and "1 file(s)" in _status(good, "vqav2")["detail"]
    bad = preflight.check(_params(tmp_path, {"a": _local(tiny), "b": _local(tiny, revision="x")}, ("vqav2",),
                                  sources={"vqav2": {"split": "test"}}))
    row = _status(bad, "vqav2")
    assert row["status"] == "FAIL" and "no Parquet files of config None, split 'test'" in row["detail"]


def test_too_little_disk(tmp_path, tiny, monkeypatch):
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    t = preflight.check(_params(tmp_path, {"a": _local(tiny), "b": _local(tiny, revision="x")}))
    row = t[t["check"] == "disk"].iloc[0]
    assert row["status"] == "FAIL" and "free space first" in row["detail"]


def test_an_unreachable_hub_fails_fast_from_the_cache(tmp_path, tiny, monkeypatch):
    monkeypatch.setattr(preflight, "hub_reachable", lambda *a, **k: False)
    monkeypatch.setattr(preflight, "go_offline", lambda: None)  # the suite is offline already
    p = _params(tmp_path, {"b": _local(tiny), "h": {"source": "Qwen/Qwen2-VL-2B", "prompt_style": "completion"}})
    t = preflight.check(p)
    assert _status(t, "huggingface.co")["status"] == "FAIL"
    assert "not in the local Hugging Face cache" in _status(t, "h")["detail"]


def test_the_demo_checks_its_shipped_zoo(monkeypatch, tmp_path):
    from vlmrobust.zoo import shipped

    t = preflight.check(params.load("params/demo.yaml"))
    assert t.iloc[0]["check"] == "zoo" and t.iloc[0]["status"] == "ok" and "match their SHA-256" in t.iloc[0]["detail"]
    copy = tmp_path / "weights"
    shutil.copytree(shipped.ROOT, copy)
    bad = next(copy.glob("*/it/model.safetensors"))
    bad.write_bytes(bad.read_bytes()[:-1] + b"\0")
    monkeypatch.setattr(shipped, "ROOT", copy)
    row = preflight.check(params.load("params/demo.yaml")).iloc[0]
    assert row["status"] == "FAIL" and "model.safetensors" in row["detail"]


def test_the_safety_set_is_checked_before_the_run(tmp_path, tiny):
    """A local MM-SafetyBench copy in the repository's layout passes; a folder without it fails, naming the
    split and where to point safety.sources."""
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from test_safety_hub import REPO, SCENARIOS, write_repo

    root = write_repo(tmp_path / "hub") / "datasets" / REPO
    p = _params(tmp_path, {"a": _local(tiny), "b": _local(tiny, label="b", revision="x")})
    p["safety"] = {**p["safety"], "datasets": ["mm-safetybench"],
                   "sources": {"mm-safetybench": {"path": str(root), "scenarios": list(SCENARIOS)}}}
    row = _status(preflight.check(params.validate(p, "t")), "mm-safetybench")
    assert row["status"] == preflight.OK and "3 scenario file(s)" in row["detail"]
    p["safety"]["sources"]["mm-safetybench"]["path"] = str(tmp_path / "nowhere")
    row = _status(preflight.check(params.validate(p, "t")), "mm-safetybench")
    assert row["status"] == preflight.FAIL and "SD_TYPO" in row["detail"] and "safety.sources" in row["detail"]
