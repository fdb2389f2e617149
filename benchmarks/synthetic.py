"""Synthetic benchmark rendering speed. Goal: 4 x 500 items in <= 30 s on a 2-core CPU.

    python benchmarks/synthetic.py [--n 500]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

from vlmrobust import data  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    a = ap.parse_args()
    per = {}
    t_all = time.perf_counter()
    for name in ("synth-spatial", "synth-vqa", "synth-text", "synth-mcq"):
        t0 = time.perf_counter()
        data.load_benchmark(name, a.n, seed=42)
        per[name] = round(time.perf_counter() - t0, 2)
    total = time.perf_counter() - t_all
    write("synthetic", {"items_per_dataset": a.n, "seconds_per_dataset": per,
                        "seconds_total": round(total, 2), "items_per_s": round(4 * a.n / total, 1),
                        "goal_seconds": 30, "meets_goal": total <= 30})


if __name__ == "__main__":
    main()
