"""How long `make check-params` takes to refuse a bad params file: the check must fail in about a
second, before any kernel, torch or data. Goal: <= 5 s on a 2-core CPU (median of 5 runs).

    python benchmarks/check_params.py
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

from vlmrobust import paths  # noqa: E402


def main() -> None:
    text = (paths.PARAMS_DIR / "demo.yaml").read_text().replace("severities:", "severitys:")
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / "typo.yaml"
        bad.write_text(text)
        for name, f in (("valid", paths.PARAMS_DIR / "demo.yaml"), ("refused", bad)):
            seconds = []
            for _ in range(5):
                t0 = time.perf_counter()
                r = subprocess.run([sys.executable, "-m", "vlmrobust.params", "check", str(f)], capture_output=True)
                seconds.append(time.perf_counter() - t0)
                assert r.returncode == (0 if name == "valid" else 2), r.stderr
            runs[name] = round(statistics.median(seconds), 2)
    write("check_params", {"median_seconds": runs, "goal_seconds": 5, "meets_goal": max(runs.values()) <= 5})


if __name__ == "__main__":
    main()
