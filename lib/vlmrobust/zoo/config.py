"""The demo zoo's configuration, in one place: its recipe (every setting and its default), the names
its settings may take, its stages, and the hash of the settings that determine the weights.

A leaf module (standard library only): params validation reads the defaults and names from here
without importing torch (``vlmrobust.zoo`` imports its modules lazily). A params file's ``zoo``
section names only what a user would change (``params/demo.yaml``: where the zoo lives, its seed,
the goal check's items); everything else comes from ``DEFAULTS``.
"""

from __future__ import annotations

import hashlib
import json
import math

STAGES = ("pt", "it", "po", "po-aug")  # the saved checkpoints, in training order

# The recipe. The shipped zoo (``zoo-weights/<config hash>/``) was trained from exactly these
# settings; changing one changes the config hash, so notebook 00 trains instead of using it.
DEFAULTS = {
    "dir": "{run_dir}/zoo",      # where the run's zoo lives ({run_dir} = outputs/<run>)
    "seed": 0,
    "image_size": 224,           # vision input; the corrupted 224 x 224 images are seen at full size
    "patch_size": 14,            # 16 x 16 patches, average-pooled to image_tokens
    "image_tokens": 16,
    "text_hidden": 128,
    "text_layers": 3,
    "vision_hidden": 96,
    "vision_layers": 3,
    "heads": 2,
    "vocab_size": 600,           # byte-level BPE trained on the benchmark's vocabulary
    "train_items": 2000,         # per task, from the training split (disjoint from evaluation)
    "steps": {"vision": 2000, "pt": 600, "it": 1800, "safety": 300, "po": 300},  # vision: dense pretraining of
    # the tower; safety: it's closing phase on synth-safety (refusal), mixed with a replay of its instructions
    "batch_size": 32,
    "lr": {"vision": 3e-3, "pt": 1e-3, "it": 1e-3, "safety": 1e-3, "po": 3e-4},  # po: also po-aug's (the same recipe)
    "dpo_beta": 0.1,
    "sft_weight": 1.0,           # MPO-style: DPO + this weight x NLL of the chosen answer
    "po_tower": "trained",       # the vision tower in po and po-aug alike: frozen | trained
    "po_aug_images": "heldout-imagenet-c",  # po-aug's images: held-out ImageNet-C corruptions | own
    "safety_items": 800,         # synth-safety training rows (400 badge/no-badge twin pairs); 0: never taught to refuse
    "safety_replay": 800,        # it's own instruction examples mixed into its safety phase (keeps the four tasks)
    "threads": 2,
    "eval_items": 100,           # held-out items per task for notebook 00's goal check
}
TRAINING_STEPS = tuple(DEFAULTS["steps"])  # keys of zoo.steps / zoo.lr (vision: the tower's pretraining)

PO_TOWER = ("frozen", "trained")  # does the vision tower train in the preference stages (po and po-aug alike)
# The images of po-aug's preference pairs (``augment.po_aug_ops``): ImageNet-C corruptions the run does
# not evaluate (``HELDOUT_IMAGENET_C``, the demo's), or the zoo's own PIL/numpy augmentations.
PO_AUG_IMAGES = ("heldout-imagenet-c", "own")
HELDOUT_IMAGENET_C = ("contrast", "fog", "gaussian_blur", "impulse_noise", "pixelate", "saturate", "shot_noise",
                      "speckle_noise")
MIN_VOCAB = 300  # the byte-level alphabet (256) + the zoo's special tokens + room for merges

NOT_HASHED = ("dir", "eval_items", "threads")  # do not change the weights (threads: same result on one machine)
# The recipe's versions: bumped when the code that trains the zoo changes what it trains (not only
# its settings), so that a zoo cached under the old recipe is never reused. ``upstream``: vision, pt
# and it (2: six bold sign words read on the sign's centre cell; 3: the word loss weighed like the
# other heads; 4: it's closing safety phase); ``preference``: po and po-aug (2: po-aug added; 3: the
# synth-safety preference pairs in place of task pairs; 4: on top of them, with the steps to see them). A new setting (such as ``po_aug_images``, which changed the demo's
# po-aug) changes the hash by itself: no bump needed.
RECIPE_VERSION = {"upstream": 4, "preference": 4}
PREFERENCE_KEYS = ("dpo_beta", "sft_weight", "po_tower", "po_aug_images")  # plus steps.po and lr.po: settings of po and po-aug only


def evaluated_heldout(suite) -> list[str]:
    """The held-out corruptions of po-aug that ``suite`` (corruption names) evaluates: none allowed,
    since a planted effect has to transfer from corruptions the evaluation does not use."""
    return sorted(set(HELDOUT_IMAGENET_C) & set(suite))


def config_hash(cfg: dict) -> str:
    """Hash of everything that determines the weights (not where they are stored)."""
    key = {k: v for k, v in cfg.items() if k not in NOT_HASHED}
    key["recipe_version"] = RECIPE_VERSION
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


def recipe_hash(seed: int | None = None) -> str:
    """The shipped recipe's config hash (``DEFAULTS``), trained with another seed where given: what a
    published study must have trained to be the shipped recipe's."""
    return config_hash(DEFAULTS if seed is None else {**DEFAULTS, "seed": seed})


def upstream_hash(cfg: dict) -> str:
    """Hash of what determines the stages before the preference ones (vision, pt, it): a change of
    the preference recipe alone retrains po and po-aug from the saved ``it`` (``training.train``)."""
    key = {k: v for k, v in cfg.items() if k not in NOT_HASHED + PREFERENCE_KEYS}
    key["steps"] = {k: v for k, v in cfg["steps"].items() if k != "po"}
    key["lr"] = {k: v for k, v in cfg["lr"].items() if k != "po"}
    key["recipe_version"] = RECIPE_VERSION["upstream"]
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


def image_grid(cfg: dict) -> int:
    """Side of the image-token grid (``image_tokens`` is a square: 16 tokens -> 4 x 4)."""
    return math.isqrt(cfg["image_tokens"])
