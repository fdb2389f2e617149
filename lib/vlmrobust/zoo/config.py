"""What identifies a trained zoo: its stages and the hash of the settings that determine the weights.

A leaf module (standard library only), so that anything may import it cheaply. The
zoo's settings themselves (keys, defaults, value checks) are the ``zoo`` section of the
params schema (``vlmrobust.params``): one table of defaults for the whole project.
"""

from __future__ import annotations

import hashlib
import json
import math

STAGES = ("pt", "it", "po")  # the saved checkpoints, in training order
NOT_HASHED = ("dir", "eval_items", "threads")  # do not change the weights (threads: same result on one machine)


def config_hash(cfg: dict) -> str:
    """Hash of everything that determines the weights (not where they are stored)."""
    key = {k: v for k, v in cfg.items() if k not in NOT_HASHED}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


def image_grid(cfg: dict) -> int:
    """Side of the image-token grid (``image_tokens`` is a square: 16 tokens -> 4 x 4)."""
    return math.isqrt(cfg["image_tokens"])
