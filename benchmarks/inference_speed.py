"""Inference throughput of today's settings against the new ones, side by side, on the demo's real work.

Both settings run the project's own ``inference.run_model`` (image loading, prompt building, batched
greedy generation, Parquet writing) on the demo's trained zoo models over the demo's real mix of
prompts: every condition and prompt variant (concise, plain, mislead, truthful) of the first
``--items`` items of each dataset's sample, the three models in the run's order, as ``make
reproduce`` runs them. The settings differ only in what is measured:

* ``before``: batch size 16, no vision cache (the demo's settings before this benchmark);
* ``after``: batch size ``--batch`` (128, the demo's), ``vision_cache_mb`` 1024 (``vlmrobust.vision_cache``: each
  image's tower output computed once and shared across prompt variants and the zoo's three models,
  which have one frozen tower).

Runs alternate (before, after, after, before, ...) so that drift of the machine's speed hits both.
Every prediction of the two settings is compared: responses must be identical and option
probabilities within 1e-5. Needs the demo's outputs (``make reproduce`` or at least 00-01); on a
fresh clone it says so and exits without failing ``make bench``.

    python benchmarks/inference_speed.py [--items 25] [--batch 128] [--repeats 2]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from vlmrobust import artifacts, inference, params  # noqa: E402
from vlmrobust.design import run_models  # noqa: E402


def run_setting(p, work, batch, cache_mb, store_root):
    """All models once through ``inference.run_all``; returns ({model: seconds}, predictions, cache use)."""
    q = {**p, "inference": {**p["inference"], "batch_size": batch, "vision_cache_mb": cache_mb}}
    stats = inference.run_all(q, work, run_models(p), store_root, progress=False)
    seconds = dict(zip(stats["model"], stats["seconds"]))
    preds = {n: inference.PredictionStore(store_root, n).read() for n in seconds}
    hits = int(stats["vision_cache_hits"].sum()) if "vision_cache_hits" in stats else None
    misses = int(stats["vision_cache_misses"].sum()) if "vision_cache_misses" in stats else None
    return seconds, preds, ({"hits": hits, "misses": misses} if cache_mb else None)


def compare(a, b) -> dict:
    key = inference.ITEM_KEY
    m = a.merge(b, on=key, suffixes=("_a", "_b"), validate="one_to_one")
    probs = [float(np.max(np.abs(np.asarray(x) - np.asarray(y))))
             for x, y in zip(m["option_probs_a"], m["option_probs_b"]) if x is not None]
    return {"predictions": len(m), "responses_identical": int((m["response_raw_a"] == m["response_raw_b"]).sum()),
            "max_option_prob_diff": max(probs) if probs else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=25, help="first items of each dataset's sample")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--cache-mb", type=float, default=1024)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(2)
    p = params.load("params/demo.yaml")
    missing = artifacts.missing_inputs("demo", "02_inference", has_zoo=True)
    if missing:  # a fresh clone: say what to run first, and let `make bench` go on with the others
        print("SKIPPED inference_speed: it measures the demo's real work and needs the demo run's outputs; "
              "run `make reproduce` first.\n  " + "\n  ".join(missing))
        return
    samples = artifacts.read("demo", artifacts.SAMPLES)
    manifest = artifacts.read("demo", artifacts.MANIFEST)
    chosen = samples.groupby("dataset", sort=False).head(a.items)
    inf = p["inference"]
    work = inference.plan(chosen, manifest, inf["prompt_variants"], inf["concise_datasets"], "0/1",
                          inference.text_settings(p))
    settings = {"before": (16, 0), "after": (a.batch, a.cache_mb)}
    times = {s: [] for s in settings}
    checks, stats = [], None
    order = []
    for r in range(a.repeats):
        order += ["before", "after"] if r % 2 == 0 else ["after", "before"]
    with tempfile.TemporaryDirectory() as tmp:
        last = {}
        for i, s in enumerate(order):
            t0 = time.perf_counter()
            seconds, preds, st = run_setting(p, work, *settings[s], Path(tmp) / f"{i}-{s}")
            times[s].append({"models": seconds, "wall": time.perf_counter() - t0})
            stats = st or stats
            last[s] = preds
            if len(last) == 2:
                checks.append({m: compare(last["before"][m], last["after"][m]) for m in seconds})
    per_model = {s: {m: statistics.median(t["models"][m] for t in times[s]) for m in times[s][0]["models"]}
                 for s in settings}
    n = len(work)
    total = {s: sum(per_model[s].values()) for s in settings}
    write("inference_speed", {
        "work": {"items_per_dataset": a.items, "predictions_per_model": n,
                 "by_variant": work["prompt_variant"].value_counts().to_dict()},
        "settings": {"before": {"batch_size": 16, "vision_cache_mb": 0},
                     "after": {"batch_size": a.batch, "vision_cache_mb": a.cache_mb}},
        "repeats": a.repeats, "order": order,
        "items_per_s": {s: {m: round(n / v, 1) for m, v in per_model[s].items()} for s in settings},
        "seconds_all_models": {s: round(total[s], 1) for s in settings},
        "speedup_all_models": round(total["before"] / total["after"], 2),
        "speedup_per_model": {m: round(per_model["before"][m] / per_model["after"][m], 2) for m in per_model["after"]},
        "every_run_seconds": {s: [round(t["wall"], 1) for t in times[s]] for s in settings},
        "vision_cache": stats, "identical": checks,
        "goal": "after >= 2x the items per second of before; responses identical, option probabilities within 1e-5"})


if __name__ == "__main__":
    main()
