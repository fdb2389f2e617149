"""Which augmentation makes the planted effect larger than the seed-to-seed noise?

``po-aug`` is ``po``'s recipe with the images of its preference pairs varied in their conditions.
This script keeps everything else of the recipe and of each seed's zoo (``pt``, ``it``, ``po``
as trained) and retrains ``po-aug`` alone with another augmentation, then runs notebook 00's goal
check on the same held-out items::

    python zoo-experiments/po_aug_variants.py --seeds 0 1 2 --variants own heldout-imagenet-c

Variants (``VARIANTS``, the values of ``zoo.po_aug_images``):

- ``heldout-imagenet-c`` (the demo's recipe): ImageNet-C corruptions that the run
  does not evaluate (``augment.HELDOUT_IMAGENET_C``, each at a random severity 1-5), the
  fallback when the zoo's own augmentations do not transfer. Refused if one of them is in the
  run's suite.
- ``own``: the zoo's own augmentations (``augment.AUGMENTATIONS``: PIL/numpy brightness,
  contrast, gamma, blur, noise, JPEG), the demo's recipe before.

The variant the params name (``zoo.po_aug_images``) is the trained zoo's own ``po-aug``, copied, not
retrained; the others are retrained.

Each seed's zoo must exist (seed 0: the run's zoo; others: ``make zoo-seeds``). Writes
``outputs/<run>/po-aug-variants/{planted.csv, controls.csv, goals.csv, accuracy_lost.csv}``
(rewritten after each variant and seed) and keeps each variant's checkpoints under
``<variant>/seed<k>/``. Not part of ``make test``: each retrained ``po-aug`` takes about 3.5 minutes
and each goal check 1-2.5 minutes on 2 CPU cores. The demo's recipe itself is ``zoo.po_aug_images`` in
the params file.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

import vlmrobust as vr
from vlmrobust.zoo import augment, training

VARIANTS = augment.PO_AUG_IMAGES


def seed_zoo(params_file: str, seed: int) -> Path:
    """The trained zoo of ``seed``: the run's own when it is that seed's, else the seed study's."""
    base = vr.params.load(params_file)
    own = vr.zoo.zoo_dir(base)
    if vr.zoo.is_trained(own, {**base["zoo"], "seed": seed}):
        return own.resolve()
    where = vr.paths.run_dir(base["run"]) / "zoo-seeds" / f"seed{seed}"
    if not vr.zoo.is_trained(where, {**base["zoo"], "seed": seed, "dir": str(where)}):
        raise SystemExit(f"{where}: no zoo trained with seed {seed} under the params' settings; "
                         f"run `make zoo-seeds SEEDS={seed}` first")
    return where.resolve()


def ops_of(variant: str, params: dict) -> dict:
    if variant not in VARIANTS:
        raise SystemExit(f"--variants: unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    try:
        return augment.po_aug_ops(variant, vr.corruptions.resolve_suite(params["corruptions"]["suite"]))
    except ValueError as e:
        raise SystemExit(f"--variants {variant}: {e}") from None


def retrain_po_aug(zoo: Path, cfg: dict, ops: dict, out: Path) -> str:
    """``po-aug`` from the saved ``it`` exactly as ``training.train`` makes it (the same pairs, in
    the same order, the same recipe and seed), with the images augmented by ``ops``; returns the
    weights hash. The reference's tower states are computed for the augmented images only."""
    import torch
    from transformers import Gemma3ForConditionalGeneration

    torch.set_num_threads(int(cfg["threads"]))
    processor = vr.zoo.build_processor(cfg)
    items = vr.zoo.training_items(cfg)
    rng = random.Random(cfg["seed"])
    model = Gemma3ForConditionalGeneration.from_pretrained(zoo / "it")
    vr.zoo.sft_examples(items, processor, rng)  # advance the shared rng exactly as training it did
    reference = copy.deepcopy(model).requires_grad_(False)
    examples = training.po_aug_pairs(training.preference_pairs(items, processor, rng, cfg), cfg, ops)
    states = vr.zoo.tower_states(reference, processor, list(dict.fromkeys(e.image for e in examples)), progress=False)
    policy, _ = training.train_preference_stage(reference, processor, examples,
                                                training.preference_recipe(cfg, augmented=True), states,
                                                "po-aug (variant)", True)
    policy.save_pretrained(out / "po-aug")
    processor.save_pretrained(out / "po-aug")
    return vr.zoo.weights_hash(policy)


def variant_params(params_file: str, seed: int, where: Path) -> dict:
    """The run's params with the zoo's models pointed at ``where`` (a variant's copy of the zoo)."""
    base = vr.params.load(params_file)
    old = base["zoo"]["dir"]
    models = {n: {"source": s["source"].replace(old, str(where))} for n, s in base["models"].items()
              if s["source"].startswith(old + "/")}
    return vr.params.load(params_file, {"zoo": {"seed": seed, "dir": str(where)}, "models": models})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default="params/demo.yaml")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    a = ap.parse_args(argv)
    vr.progress.configure_for(sys.stderr)
    p0 = vr.params.load(a.params)
    for v in a.variants:
        ops_of(v, p0)  # unknown or overlapping variants fail before any training
    out = vr.paths.run_dir(p0["run"]) / "po-aug-variants"
    tables = {k: [] for k in ("planted", "controls", "goals", "accuracy_lost")}
    for seed in a.seeds:
        zoo = seed_zoo(a.params, seed)
        base_ev = None
        for v in a.variants:
            where = out / v / f"seed{seed}"
            for stage in ("pt", "it", "po") + (("po-aug",) if v == p0["zoo"]["po_aug_images"] else ()):
                if not (where / stage / "config.json").exists():
                    shutil.copytree(zoo / stage, where / stage, dirs_exist_ok=True)
            t = time.perf_counter()
            if not (where / "po-aug" / "config.json").exists():
                h = retrain_po_aug(zoo, vr.params.zoo_config({**p0["zoo"], "seed": seed}), ops_of(v, p0), where)
                (where / "po-aug" / "retrained.json").write_text(json.dumps({"weights": h, "variant": v}))
            p = variant_params(a.params, seed, where)
            if base_ev is None:  # pt, it and po are the same checkpoints in every variant of a seed
                base_ev = vr.zoo.evaluate(p, stages=("pt", "it", "po"))
            ev = pd.concat([base_ev, vr.zoo.evaluate(p, stages=("po-aug",))], ignore_index=True)
            tag = {"variant": v, "seed": seed}
            tables["planted"].append(vr.zoo.planted_difference(ev, seed=p["seed"]).assign(**tag))
            tables["controls"].append(vr.zoo.controls(ev, p).assign(**tag))
            tables["goals"].append(vr.zoo.goals(ev, p).assign(**tag))
            tables["accuracy_lost"].append(vr.zoo.accuracy_lost(ev, seed=p["seed"]).assign(**tag))
            for name, rows in tables.items():
                vr.artifacts.write_text(out / f"{name}.csv", pd.concat(rows, ignore_index=True).to_csv(index=False))
            sev5 = tables["planted"][-1].iloc[-1]
            print(f"seed {seed} {v}: po-aug - po at severity {sev5['severity']}: {sev5['difference']:+.3f} "
                  f"[{sev5['ci_lo']:+.3f}, {sev5['ci_hi']:+.3f}] ({time.perf_counter() - t:.0f} s)", flush=True)
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
