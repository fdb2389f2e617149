"""Training the whole zoo: pt -> it -> po and po-aug, each saved with ``save_pretrained``.

The lineage mirrors how real models are made, on the synthetic benchmark's
*training* split (disjoint from the evaluation items):

- ``pt``: first the vision tower and projector alone learn dense per-token targets
  (``vision.train_vision``; the head is discarded), standing in for the pretrained
  SigLIP encoder a real VLM starts from; then, with the tower frozen from here on (as
  Gemma 3 keeps its SigLIP encoder frozen), the projector and text model learn compact
  scene captions. Given a question it continues like a caption: the raw pretrained
  checkpoint of the paper's Gemma confound.
- ``it``: supervised fine-tuning from ``pt`` on the four tasks in chat format; answers
  verbosely unless the prompt carries the concise instruction; MCQ with the letter. It ends
  with a safety phase on ``synth-safety`` (``data.safety``: refuse a request whose harm is a
  hazard badge in the image or a nonsense verb in the text, answer the rest), mixed with a
  replay of its instructions; ``pt`` is never taught to refuse.
- ``po``: preference optimisation from ``it`` on pairs that prefer the correct concise
  answer to a wrong one (and, on ``synth-safety``, the refusal to going along with a harmful
  request, the answer to refusing a benign one): DPO plus an SFT term on the chosen answer (MPO-style, as
  InternVL2.5-MPO was made). With ``po_tower: trained`` (the demo's) the tower learns again
  here: frozen, it left ``po-aug`` only degraded features to adapt to, and the planted effect
  stayed within noise (README, "The demo zoo").
- ``po-aug``: ``po``'s recipe exactly (same start, reference, pairs, order, steps, loss,
  learning rate and seed: ``preference_recipe``) except that the pairs' images are varied in
  their conditions (``augment``; ``po_aug_images: heldout-imagenet-c``, the demo's: ImageNet-C
  corruptions the run does not evaluate, so the effect has to transfer): the planted robustness
  effect of the positive control.

The pairs: Z0 (it, po) is the negative control (alignment on clean images: no robustness
effect is planted, so none should be found), Z2 (it, po-aug) the positive control (one is
planted), Z1 (pt, it) the pre-training confound.

Determinism: every stage seeds torch and Python from ``seed``; on one machine (same
library versions and thread count) the same seed gives the same weights
(``build.weights_hash``). Floating-point results differ between CPUs, so weights hashes
are machine-specific: that is why the compendium ships its trained zoo (``shipped``), and
notebook 00 trains only when no shipped zoo has the run's config hash
(``config.config_hash``).
"""

from __future__ import annotations

import copy
import json
import math
import random
import time
from pathlib import Path
from typing import Callable

import pandas as pd

from .. import artifacts, digests
from ..data import synthetic
from .batching import Batcher, model_inputs, tower_states
from .build import build_model, build_processor, weights_hash
from ..params import zoo_config
from .config import STAGES, config_hash, image_grid, upstream_hash
from .augment import augment_all, po_aug_ops
from .examples import (TASKS, Example, caption_examples, preference_examples, safety_preference_examples,
                       safety_sft_examples, safety_training_items, sft_examples, training_items, vision_examples)
from .losses import mpo_loss, sequence_logps
from .optimise import optimise
from .vision import probe_vision, train_vision, vision_head


def train_sft(model, processor, examples: list[Example], steps: int, batch_size: int, lr: float, seed: int,
              desc: str, progress: bool = True, states: dict | None = None) -> list[float]:
    """Next-token training on the targets (captions or answers); returns the loss per step."""
    return optimise(model, processor, examples, steps, batch_size, lr, 0.01, seed, desc, progress,
                    lambda batcher, batch: model(**model_inputs(model, batcher(batch))).loss, states=states)


def train_preference(model, reference, processor, examples: list[Example], steps: int, batch_size: int,
                     lr: float, beta: float, sft_weight: float, seed: int, desc: str = "po",
                     progress: bool = True, states: dict | None = None, tower_trains: bool = False) -> list[float]:
    """MPO-style preference optimisation against a frozen reference model.

    ``states``: the reference's (frozen) tower outputs per image; the policy uses them too unless
    ``tower_trains``, when its own tower runs on the pixels and learns.
    """
    import torch

    reference.eval()
    ref_batcher = Batcher(processor, states) if tower_trains else None  # else the policy's batches serve both

    def loss_of(batcher, batch):
        enc_w, enc_l = batcher(batch, "target"), batcher(batch, "rejected")
        ref_enc = (ref_batcher(batch, "target"), ref_batcher(batch, "rejected")) if ref_batcher else (enc_w, enc_l)
        with torch.no_grad():
            ref_w, _ = sequence_logps(reference, ref_enc[0])
            ref_l, _ = sequence_logps(reference, ref_enc[1])
        pol_w, n_w = sequence_logps(model, enc_w)
        pol_l, _ = sequence_logps(model, enc_l)
        return mpo_loss(pol_w, pol_l, ref_w, ref_l, n_w, beta, sft_weight)

    return optimise(model, processor, examples, steps, batch_size, lr, 0.0, seed, desc, progress, loss_of,
                    states=None if tower_trains else states)


def preference_recipe(cfg: dict, augmented: bool) -> dict:
    """Everything that defines a preference stage's training: ``po`` and ``po-aug`` differ only in
    ``images`` (``tests/test_zoo.py`` compares the two)."""
    batch = max(2, cfg["batch_size"] // 2)
    pairs = "preference_examples" + (f" + safety_preference_examples ({cfg['safety_items']} rows)"
                                     if cfg["safety_items"] else "")
    # the safety pairs come on top of the task pairs (one epoch each), with the steps to see them: taking
    # their place diluted the planted capability effect (Z2's pooled endpoint +0.029 [-0.004, +0.061])
    extra = math.ceil(cfg["safety_items"] / batch)
    return {"start": "it", "reference": "it", "pairs": pairs, "task_pairs": cfg["steps"]["po"] * batch,
            "examples": cfg["steps"]["po"] * batch + cfg["safety_items"],
            "steps": cfg["steps"]["po"] + extra, "batch_size": batch, "lr": cfg["lr"]["po"], "beta": cfg["dpo_beta"],
            "sft_weight": cfg["sft_weight"], "seed": cfg["seed"] + 3, "tower": cfg["po_tower"],
            "images": f"augmented: {cfg['po_aug_images']} (augment.po_aug_ops, augment_all, seed + 6)" if augmented
            else "as rendered"}


def preference_pairs(items: pd.DataFrame, processor, rng: random.Random, cfg: dict,
                     safety_items: pd.DataFrame | None = None) -> list[Example]:
    """One set of pairs for both preference stages: as many as the stage's steps consume (one
    epoch), so that only the images po-aug actually sees are augmented and encoded. ``rng`` is the
    shared one, as left by ``it``'s examples. ``safety_items`` (``synth-safety`` training rows): their
    pairs (``safety_preference_examples``) are added to the task pairs and shuffled in."""
    n = preference_recipe(cfg, augmented=False)["task_pairs"]
    safe = safety_preference_examples(safety_items, processor) if safety_items is not None else []
    pairs = preference_examples(items, processor, rng)[:n]
    if not safe:
        return pairs
    pairs += safe
    random.Random(cfg["seed"] + 13).shuffle(pairs)
    return pairs


def po_aug_pairs(pairs: list[Example], cfg: dict, ops: dict) -> list[Example]:
    """``po``'s pairs with their images augmented by ``ops`` (``augment.po_aug_ops``), seeded from
    the zoo's seed."""
    return with_images(pairs, augment_all([e.image for e in pairs], cfg["seed"] + 6, ops))


def train_preference_stage(reference, processor, examples: list[Example], recipe: dict, states: dict, desc: str,
                           progress: bool):
    """A policy copied from ``reference`` and trained by ``recipe`` (``preference_recipe``); returns
    the policy and its losses."""
    trained = recipe["tower"] == "trained"
    policy = copy.deepcopy(reference).requires_grad_(True)
    policy.model.vision_tower.requires_grad_(trained)
    losses = train_preference(policy, reference, processor, examples, recipe["steps"], recipe["batch_size"],
                              recipe["lr"], recipe["beta"], recipe["sft_weight"], recipe["seed"], desc, progress,
                              states, trained)
    return policy, losses


def with_images(examples: list[Example], images: list[bytes]) -> list[Example]:
    """The same examples (prompt, answers) with other images."""
    return [Example(im, e.prompt, e.target, e.rejected, e.cells) for e, im in zip(examples, images, strict=True)]


def is_trained(zoo_dir: Path, cfg: dict) -> bool:
    meta = zoo_dir / "zoo.json"
    if not meta.exists():
        return False
    info = json.loads(meta.read_text())
    return info.get("config_hash") == config_hash(cfg) and all((zoo_dir / s / "config.json").exists() for s in STAGES)


def _reusable_upstream(zoo_dir: Path, cfg: dict) -> dict | None:
    """The saved zoo's metadata when its vision, pt and it stages were trained from the same settings
    (``upstream_hash``) and ``it`` is on disk: then only the preference stages need training."""
    meta = zoo_dir / "zoo.json"
    if not meta.exists():
        return None
    info = json.loads(meta.read_text())
    if info.get("upstream_hash") != upstream_hash(cfg) or not (zoo_dir / "it" / "config.json").exists():
        return None
    if not all(s in info.get("stages", {}) for s in ("pt", "it")) or "vision" not in info:
        return None
    return info


def train(zoo_dir: str | Path, cfg: dict, progress: bool = True,
          log: Callable[[str], None] = print, reuse_upstream: bool = True) -> dict:
    """Train pt -> it -> po and po-aug, save each with save_pretrained under ``zoo_dir/<stage>``.

    ``cfg`` is the run's ``zoo`` section; keys it lacks are filled from the one table of
    defaults (``params.zoo_config``, which also checks every value). Returns the
    metadata written to ``zoo_dir/zoo.json`` (config, its hash, weights hashes, seconds
    and loss curves per stage).

    ``reuse_upstream``: when ``zoo_dir`` holds a zoo whose vision, pt and it stages were trained
    from the same settings (``config.upstream_hash``: only the preference recipe changed), ``it``
    is loaded from disk instead of retraining the ~20 minutes before it; the result is the same
    weights as training from scratch (``tests/test_zoo.py`` checks it on the micro-zoo).
    """
    import torch

    cfg = zoo_config(cfg)
    torch.set_num_threads(int(cfg["threads"]))
    zoo_dir = Path(zoo_dir)
    zoo_dir.mkdir(parents=True, exist_ok=True)
    (zoo_dir / digests.MANIFEST).unlink(missing_ok=True)  # stale while the stages are rewritten
    t0 = time.perf_counter()
    processor = build_processor(cfg)
    items = training_items(cfg)
    log(f"training items: {len(items)} ({cfg['train_items']} per task), rendered in {time.perf_counter() - t0:.1f} s")
    previous = _reusable_upstream(zoo_dir, cfg) if reuse_upstream else None
    info = {"config": cfg, "config_hash": config_hash(cfg), "upstream_hash": upstream_hash(cfg), "stages": {}}
    rng = random.Random(cfg["seed"])
    safety_items = safety_training_items(cfg) if cfg["safety_items"] else None

    def save(stage, m, losses, seconds):
        m.save_pretrained(zoo_dir / stage)
        processor.save_pretrained(zoo_dir / stage)
        info["stages"][stage] = {"steps": len(losses), "seconds": round(seconds, 1), "weights": weights_hash(m),
                                 "loss": losses}

    if previous is not None:
        from transformers import Gemma3ForConditionalGeneration

        model = Gemma3ForConditionalGeneration.from_pretrained(zoo_dir / "it")
        if weights_hash(model) != previous["stages"]["it"]["weights"]:
            raise RuntimeError(f"{zoo_dir / 'it'}: its weights are not the ones zoo.json records; "
                               "delete the zoo directory to retrain it")
        sft_examples(items, processor, rng)  # advance the shared rng exactly as training it did
        info["vision"], info["stages"]["pt"], info["stages"]["it"] = (previous["vision"], previous["stages"]["pt"],
                                                                       previous["stages"]["it"])
        info["upstream_reused_from"] = previous["config_hash"]
        log(f"vision, pt and it reused from {zoo_dir} (same upstream hash {info['upstream_hash']}): "
            "training the preference stages only")
        # the same batches of the same images as after vision pretraining: the same states, bit for bit
        states = tower_states(model, processor, items["image"].tolist(), progress=progress)
    else:
        model = build_model(cfg, processor)
        log(f"model: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")
        states = _train_upstream(model, processor, items, cfg, rng, info, save, progress, log, safety_items)
    reference = copy.deepcopy(model)
    for p in reference.parameters():
        p.requires_grad_(False)
    pairs = preference_pairs(items, processor, rng, cfg, safety_items)
    t = time.perf_counter()
    augmented = po_aug_pairs(pairs, cfg, po_aug_ops(cfg["po_aug_images"]))
    model.model.vision_tower.requires_grad_(False)
    fresh = [im for im in dict.fromkeys(e.image for e in (*pairs, *augmented)) if im not in states]
    states.update(tower_states(model, processor, fresh, progress=progress))
    info["po-aug_augmentation_seconds"] = round(time.perf_counter() - t, 1)
    for stage, examples in (("po", pairs), ("po-aug", augmented)):
        recipe = preference_recipe(cfg, augmented=stage == "po-aug")
        t = time.perf_counter()
        policy, losses = train_preference_stage(reference, processor, examples, recipe, states,
                                                f"{stage} (MPO-style)", progress)
        save(stage, policy, losses, time.perf_counter() - t)
        info["stages"][stage]["recipe"] = recipe
    info["seconds_total"] = round(time.perf_counter() - t0, 1)
    artifacts.write_text(zoo_dir / "zoo.json", json.dumps(info, indent=1))
    digests.write(zoo_dir)  # every later load checks the files against it (models.check)
    return info


def _train_upstream(model, processor, items: pd.DataFrame, cfg: dict, rng: random.Random, info: dict, save,
                    progress: bool, log, safety_items: pd.DataFrame | None = None) -> dict:
    """Vision pretraining, pt and it (saved); returns the frozen tower's states of the training images.

    ``it`` ends with its safety phase when ``safety_items`` are given: ``steps.safety`` steps on their
    supervised examples (refusal on harmful requests) mixed with ``safety_replay`` of its own instruction
    examples, so that the four tasks are not forgotten (``zoo-experiments/safety_feasibility.py`` measured
    the recipe on the shipped zoo before it became the zoo's)."""
    grid = image_grid(cfg)
    t = time.perf_counter()
    head = vision_head(cfg)
    losses = train_vision(model, head, processor, vision_examples(items, grid), cfg["steps"]["vision"],
                          cfg["batch_size"], cfg["lr"]["vision"], cfg["seed"] + 4, "vision (dense targets)",
                          progress)
    held_out = pd.concat([synthetic.generate(d, 50, seed=cfg["seed"] + 7, split="eval") for d in TASKS],
                         ignore_index=True)
    info["vision"] = {"steps": len(losses), "seconds": round(time.perf_counter() - t, 1), "loss": losses,
                      "probe": probe_vision(model, head, processor, held_out, grid)}
    log("vision probe (held-out cells): " + ", ".join(f"{k} {v:.2f}" for k, v in info["vision"]["probe"].items()))
    # From here on the tower is frozen (Gemma 3 keeps its SigLIP encoder frozen too): the
    # projector and the text model learn to read it, and no step pays for its backward pass.
    model.model.vision_tower.requires_grad_(False)
    t = time.perf_counter()
    states = tower_states(model, processor, items["image"].tolist(), progress=progress)
    info["vision"]["seconds_states"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    losses = train_sft(model, processor, caption_examples(items, processor), cfg["steps"]["pt"],
                       cfg["batch_size"], cfg["lr"]["pt"], cfg["seed"] + 1, "pt (captions)", progress, states)
    save("pt", model, losses, time.perf_counter() - t)
    t = time.perf_counter()
    instructions = sft_examples(items, processor, rng)
    losses = train_sft(model, processor, instructions, cfg["steps"]["it"], cfg["batch_size"], cfg["lr"]["it"],
                       cfg["seed"] + 2, "it (instructions)", progress, states)
    safety = None
    if safety_items is not None and cfg["steps"]["safety"]:
        ts = time.perf_counter()
        states.update(tower_states(model, processor, safety_items["image"].tolist(), progress=progress))
        mix = safety_sft_examples(safety_items, processor) + random.Random(cfg["seed"] + 10).sample(
            instructions, min(cfg["safety_replay"], len(instructions)))
        random.Random(cfg["seed"] + 11).shuffle(mix)
        safety_losses = train_sft(model, processor, mix, cfg["steps"]["safety"], cfg["batch_size"],
                                  cfg["lr"]["safety"], cfg["seed"] + 12, "it (safety)", progress, states)
        safety = {"steps": len(safety_losses), "rows": len(safety_items), "replay": len(mix) - len(safety_items),
                  "seconds": round(time.perf_counter() - ts, 1), "loss": safety_losses}
    save("it", model, losses, time.perf_counter() - t)
    if safety:
        info["stages"]["it"]["safety"] = safety
    return states
