"""Vision pretraining: the tower and projector learn dense per-token targets before any text.

Stands in for the pretrained SigLIP encoder a real VLM starts from; the temporary
linear head is discarded, so the checkpoints keep the unchanged Gemma-3 architecture.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import synthetic
from .batching import Batcher
from .examples import TARGET_HEADS, Example, scene_targets
from .optimise import optimise


def vision_head(cfg: dict):
    """The temporary linear head of vision pretraining: image token -> per-cell classes."""
    import torch

    torch.manual_seed(cfg["seed"] + 5)
    return torch.nn.Linear(cfg["text_hidden"], sum(TARGET_HEADS.values()))


def vision_logits(model, head, pixel_values) -> dict:
    """Per-head logits [batch, image_tokens, classes] from the projected image tokens."""
    feats = model.model.get_image_features(pixel_values).pooler_output
    return dict(zip(TARGET_HEADS, head(feats).split(list(TARGET_HEADS.values()), dim=-1)))


def train_vision(model, head, processor, examples: list[Example], steps: int, batch_size: int, lr: float,
                 seed: int, desc: str = "vision", progress: bool = True) -> list[float]:
    """Dense supervised pretraining of the vision tower and projector (the text model is untouched).

    Why: real VLMs start from a pretrained image encoder (Gemma 3 from SigLIP). Trained only
    through captions, the tiny tower learned too slowly for the 15-minute budget; a direct
    per-image-token target (which object is centred in this cell, its size, the sign's
    word) gives every token its own gradient. The head is discarded afterwards; the
    checkpoints keep the unchanged Gemma-3 architecture.
    """
    import torch
    import torch.nn.functional as F

    def loss_of(batcher, batch):
        logits = vision_logits(model, head, batcher.pixels([ex.image for ex in batch]))
        y = torch.from_numpy(np.stack([ex.cells for ex in batch]))
        # The word head learns on the sign's cell only (``ignore_index=0``): with the empty
        # class counted, one sign cell among 16 taught it to answer "no word" everywhere and
        # the held-out word probe stayed below chance. Its loss is summed over the sign cells and
        # divided by *all* cells, as the other heads' means are: divided by the sign cells only
        # (zoo v2's first run), the hard reading loss weighed ~16x more, dominated the small
        # tower's gradient and the shape probe fell from 0.85 to 0.30 (word 0.32, chance 0.17).
        total = 0.0
        for i, (h, n) in enumerate(TARGET_HEADS.items()):
            target = y[..., i].reshape(-1)
            if h == "word":
                total = total + F.cross_entropy(logits[h].reshape(-1, n), target, ignore_index=0,
                                                reduction="sum") / target.numel()
            else:
                total = total + F.cross_entropy(logits[h].reshape(-1, n), target)
        return total

    return optimise(model, processor, examples, steps, batch_size, lr, 0.01, seed, desc, progress, loss_of,
                     extra_params=list(head.parameters()))


def probe_vision(model, head, processor, items: pd.DataFrame, grid: int) -> dict:
    """Held-out per-cell accuracy of the vision head: colour and shape of the cells holding an object,
    empty cells called empty, and the sign's word (chance: 1/6, 1/4, -, 1/24)."""
    import torch

    images, batcher = items["image"].tolist(), Batcher(processor)
    with torch.no_grad():
        out = [vision_logits(model, head, batcher.pixels(images[k:k + 64])) for k in range(0, len(images), 64)]
    pred = {h: torch.cat([o[h] for o in out]).argmax(-1).numpy() for h in TARGET_HEADS}
    word_pred = torch.cat([o["word"] for o in out])[..., 1:].argmax(-1).numpy() + 1  # which word, on the sign's cell
    y = np.stack([scene_targets(s, grid) for s in items["scene"]])
    obj, word = y[..., 0] > 0, y[..., 2] > 0
    po, yo, k = pred["object"][obj] - 1, y[..., 0][obj] - 1, len(synthetic.SHAPES)
    seen = po >= 0
    return {"colour": float(np.mean(seen & (po // k == yo // k))), "shape": float(np.mean(seen & (po % k == yo % k))),
            "empty": float(np.mean(pred["object"][~obj] == 0)),
            "word": float(np.mean(word_pred[word] == y[..., 2][word])) if word.any() else float("nan")}

