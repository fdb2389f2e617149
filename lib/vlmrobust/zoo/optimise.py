"""The one optimisation loop every zoo stage shares (vision, captions, QA, preferences)."""

from __future__ import annotations

import math
import random

import numpy as np

from ..progress import bar as progress_bar
from .batching import Batcher
from .examples import Example


def _seed_all(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _lr_at(step: int, total: int, peak: float) -> float:
    warm = max(1, total // 20)
    if step < warm:
        return peak * (step + 1) / warm
    return peak * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def optimise(model, processor, examples: list[Example], steps: int, batch_size: int, lr: float,
              weight_decay: float, seed: int, desc: str, progress: bool, loss_of, extra_params=(),
              states: dict | None = None) -> list[float]:
    """The shared loop: seeded shuffled batches, AdamW with warm-up + cosine, clipping.

    ``loss_of(batcher, batch)`` returns the scalar loss of one batch; ``extra_params``
    (e.g. a temporary head) are optimised along with the model's; ``states``: cached
    tower outputs for the batcher (see ``tower_states``).
    """
    import torch

    _seed_all(seed)
    model.train()
    params = [p for p in (*model.parameters(), *extra_params) if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    batcher = Batcher(processor, states)
    rng = random.Random(seed)
    order = list(range(len(examples)))
    losses, pos = [], len(order)
    for step in progress_bar(range(steps), desc=desc, disable=not progress):
        if pos + batch_size > len(order):  # a new epoch: reshuffle
            rng.shuffle(order)
            pos = 0
        batch = [examples[i] for i in order[pos:pos + batch_size]]
        pos += batch_size
        for g in opt.param_groups:
            g["lr"] = _lr_at(step, steps, lr)
        loss = loss_of(batcher, batch)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses

