"""Corruption pre-generation speed: ``generate`` (process pool) vs a plain sequential loop.

Measured side by side in one run on the same items and suite:
  - ``sequential_corrupt``: a loop over ``corrupt`` only (no encoding or writing);
  - ``sequential_full``: the same loop plus PNG encoding and writing, i.e. the same work
    ``generate`` does, in one process;
  - ``generate``: ``vlmrobust.corruptions.generate`` with ``--workers`` processes
    (including pool start-up).
Also milliseconds per corruption (median over items, severity 3). Goal:
generate >= 1.8x the sequential loop on 2 cores.

    python benchmarks/corruptions.py [--items 40] [--suite pilot] [--workers 2]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

from vlmrobust import corruptions as C  # noqa: E402
from vlmrobust import data  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--suite", default="pilot")
    ap.add_argument("--severities", default="1,3,5")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    sev = [int(s) for s in a.severities.split(",")]
    suite = C.resolve_suite(a.suite)
    per = max(1, a.items // 4)
    samples = data.load_samples({"seed": 0, "benchmark": {
        "datasets": ["synth-spatial", "synth-vqa", "synth-text", "synth-mcq"], "n": per,
        "image_size": 224, "resize": "center_crop"}})
    conds = C.conditions_for(suite, sev)
    n_images = len(samples) * len(conds)
    C._worker_init("glass_blur" in suite)  # pay imports and JIT before timing, as workers do

    t0 = time.perf_counter()
    for r in samples.itertuples():
        src = C.to_rgb_array(r.image)
        for c, s in conds:
            C.corrupt(src, c, s, C.derive_seed(0, r.dataset, r.sample_id, c, s))
    t_corrupt = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        C.generate(samples, Path(d) / "seq", suite, sev, run_seed=0, workers=1, progress=False)
        t_seq = time.perf_counter() - t0
        t0 = time.perf_counter()
        C.generate(samples, Path(d) / "par", suite, sev, run_seed=0, workers=a.workers, progress=False)
        t_par = time.perf_counter() - t0

    ms = {}
    src = C.to_rgb_array(samples["image"].iloc[0])
    for name in C.CORRUPTIONS:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            C.corrupt(src, name, 3, 1)
            times.append((time.perf_counter() - t0) * 1000)
        ms[name] = round(statistics.median(times), 2)

    write("corruptions", {
        "items": len(samples), "suite": a.suite, "severities": sev, "images": n_images,
        "workers": a.workers,
        "images_per_s": {"sequential_corrupt": round(n_images / t_corrupt, 1),
                         "sequential_full": round(n_images / t_seq, 1),
                         "generate": round(n_images / t_par, 1)},
        "speedup_generate_vs_sequential_full": round(t_seq / t_par, 2),
        "speedup_generate_vs_sequential_corrupt": round(t_corrupt / t_par, 2),
        "goal": "generate >= 1.8x the sequential loop on 2 cores",
        "ms_per_corruption_sev3_224px": ms,
    })


if __name__ == "__main__":
    main()
