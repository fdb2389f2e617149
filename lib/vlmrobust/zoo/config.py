"""What identifies a trained zoo: its stages and the hash of the settings that determine the weights.

A leaf module (standard library only), so that anything may import it cheaply. The
zoo's settings themselves (keys, defaults, value checks) are the ``zoo`` section of the
params schema (``vlmrobust.params``): one table of defaults for the whole project.
"""

from __future__ import annotations

import hashlib
import json
import math

STAGES = ("pt", "it", "po", "po-aug")  # the saved checkpoints, in training order
NOT_HASHED = ("dir", "eval_items", "threads")  # do not change the weights (threads: same result on one machine)
# The recipe's versions: bumped when the code that trains the zoo changes what it trains (not only
# its settings), so that a zoo cached under the old recipe is never reused. ``upstream``: vision, pt
# and it (2: six bold sign words read on the sign's centre cell; 3: the word loss weighed like the
# other heads); ``preference``: po and po-aug (2: po-aug added). A new setting (such as
# ``po_aug_images``, which changed the demo's po-aug) changes the hash by itself: no bump needed.
RECIPE_VERSION = {"upstream": 3, "preference": 2}
PREFERENCE_KEYS = ("dpo_beta", "sft_weight", "po_tower", "po_aug_images")  # plus steps.po and lr.po: settings of po and po-aug only


def config_hash(cfg: dict) -> str:
    """Hash of everything that determines the weights (not where they are stored)."""
    key = {k: v for k, v in cfg.items() if k not in NOT_HASHED}
    key["recipe_version"] = RECIPE_VERSION
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


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
