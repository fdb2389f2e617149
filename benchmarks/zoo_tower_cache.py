"""Zoo training step with the frozen vision tower re-run vs its states cached, in one run.

Seconds per ``it`` step (batch 32, chat-format QA, forward + backward + AdamW) when each
batch carries pixels (the tower runs every step, as before the cache) and when it carries
the tower's cached last hidden states (``zoo.tower_states``; the projector still runs), on
the same model, examples and batches, plus the one-off cost of computing the cache. The
tower is frozen as in ``zoo.train`` after vision pretraining. An untrained model of the
demo zoo's architecture: the timing depends on shapes, not on weights.
Goal: the cached step at most 0.8x the uncached one.

    python benchmarks/zoo_tower_cache.py [--steps 20]
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

import torch  # noqa: E402

from vlmrobust import params, zoo  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--items", type=int, default=80, help="training items per task")
    a = ap.parse_args()
    torch.set_num_threads(2)
    cfg = params.load("params/demo.yaml", {"zoo": {"train_items": a.items}})["zoo"]
    proc = zoo.build_processor(cfg)
    model = zoo.build_model(cfg, proc)
    model.model.vision_tower.requires_grad_(False)
    items = zoo.training_items(cfg)
    examples = zoo.sft_examples(items, proc, random.Random(0))
    t0 = time.perf_counter()
    states = zoo.tower_states(model, proc, items["image"].tolist(), progress=False)
    cache_s = time.perf_counter() - t0

    def per_step(cache):
        zoo.train_sft(model, proc, examples, 2, cfg["batch_size"], 1e-4, 0, "warm-up", False, cache)
        t = time.perf_counter()
        zoo.train_sft(model, proc, examples, a.steps, cfg["batch_size"], 1e-4, 0, "timed", False, cache)
        return (time.perf_counter() - t) / a.steps

    pixels = per_step(None)
    cached = per_step(states)
    write("zoo_tower_cache", {
        "model_parameters": sum(p.numel() for p in model.parameters()), "batch_size": cfg["batch_size"],
        "steps_timed": a.steps, "images_cached": len(states),
        "seconds_per_step": {"tower_every_step": round(pixels, 4), "cached_states": round(cached, 4)},
        "ratio_cached_to_uncached": round(cached / pixels, 3),
        "cache_seconds_per_1000_images": round(1000 * cache_s / len(states), 2),
        "goal": "cached step <= 0.8x the uncached one"})


if __name__ == "__main__":
    main()
