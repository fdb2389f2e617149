"""``make bench`` on a fresh clone: a benchmark that needs the demo run's outputs says what to run first."""

import os
import subprocess
import sys

from vlmrobust import paths


def test_inference_speed_on_a_fresh_clone_says_to_run_the_demo_first(tmp_path):
    env = {**os.environ, "VLMROBUST_OUTPUTS": str(tmp_path / "outputs")}
    r = subprocess.run([sys.executable, "benchmarks/inference_speed.py"], cwd=paths.ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "SKIPPED inference_speed" in r.stdout and "run `make reproduce` first" in r.stdout
    assert "samples.parquet does not exist" in r.stdout


def test_gpu_smoke_runs_every_family_with_nf4_for_the_first(tmp_path, monkeypatch):
    """``make gpu-smoke TINY=1`` on the CPU: the tiny random checkpoints of the three families through the
    project's own path, the first also in NF4, each with throughput, memory and batch-1 agreement."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("gpu_smoke", paths.ROOT / "benchmarks" / "gpu_smoke.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    import _common

    monkeypatch.setattr(_common, "RESULTS", tmp_path)
    assert mod.main(["--tiny", "--items", "1", "--batch", "2", "--device", "cpu"]) == 0
    out = json.loads((tmp_path / "gpu_smoke.json").read_text())
    rows = out["models"]
    assert [r["quantization"] for r in rows].count("nf4") == 1 and len(rows) == 7
    assert {r["model"].split("-")[1] for r in rows} == {"qwen2_vl", "internvl", "gemma3"}
    assert all(r["items_per_s"] > 0 for r in rows)
    assert all(r["batch1_agreement"] == "2/2" for r in rows)  # left padding changes no answer
