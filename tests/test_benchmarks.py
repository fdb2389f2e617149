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
