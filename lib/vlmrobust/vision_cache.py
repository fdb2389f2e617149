"""A memory cache of vision-tower outputs, shared by the models of a run.

Why: in the demo the vision tower is most of a prediction's compute (about 5.7 ms of an image's
13 ms for the zoo's ``it`` on 2 cores), and the same image is encoded many times: once per prompt
variant (concise, plain, mislead, truthful), and once per model, although models can share one
frozen tower (Gemma 3 keeps its SigLIP encoder frozen; so do the zoo's pt and it). A prediction
needs the tower's output, not the tower: the cache keys each image by the bytes of its pixel tensor
and the tower by a digest of its weights, so an identical input to an identical tower is computed
once. Models whose towers differ (every hub pair) simply never hit.

How: ``attach(model, cache)`` wraps the instance's ``vision_tower.forward`` (the module tree, its
weights and every other call stay untouched). The wrapper serves the calls the projector makes
(``pixel_values`` of shape (images, channels, height, width) -> ``last_hidden_state``); any call asking
for more (hidden states of every layer, attentions) goes to the tower uncached. Families whose tower
takes flattened patches (Qwen2-VL's ``visual``) have no ``vision_tower`` and are left alone.

Bounded: least recently used entries are dropped beyond ``max_mb``. Off (``inference.vision_cache_mb:
0``) in the paper's params: a 2B model's tower output is MBs per image and no two towers match.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict


class VisionCache:
    """(tower digest, pixel digest) -> last_hidden_state of one image, LRU-bounded in MB."""

    def __init__(self, max_mb: float):
        self.max_bytes = int(max_mb * 2 ** 20)
        self.entries: OrderedDict[tuple[str, str], object] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, key):
        out = self.entries.get(key)
        if out is not None:
            self.entries.move_to_end(key)
            self.hits += 1
        return out

    def put(self, key, value) -> None:
        size = value.numel() * value.element_size()
        if size > self.max_bytes:
            return
        self.entries[key] = value
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, old = self.entries.popitem(last=False)
            self.bytes -= old.numel() * old.element_size()

    def stats(self) -> dict:
        return {"hits": self.hits, "misses": self.misses, "entries": len(self.entries),
                "mb": round(self.bytes / 2 ** 20, 1)}


def tower_digest(tower) -> str:
    """A digest of the tower's weights: equal digests, equal towers."""
    import torch

    h = hashlib.blake2b(digest_size=16)
    for name, t in sorted(tower.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def pixel_digest(row) -> str:
    return hashlib.sha256(row.detach().cpu().contiguous().numpy().tobytes()).hexdigest()  # SHA-NI: 0.4 ms per 224 px image


def find_tower(model):
    """The module the projector reads images from, or None (a family without ``vision_tower``)."""
    inner = getattr(model, "model", model)
    return getattr(inner, "vision_tower", None)


def attach(model, cache: VisionCache) -> bool:
    """Serve ``model``'s vision tower from ``cache``; False when the family has no ``vision_tower``."""
    import torch
    from transformers.modeling_outputs import BaseModelOutputWithPooling

    tower = find_tower(model)
    if tower is None:
        return False
    # the tower's own forward, also when a cache was attached before (attaching again replaces it)
    inner_forward = getattr(tower, "_vlmrobust_inner_forward", tower.forward)
    digest = tower_digest(tower)

    def forward(pixel_values=None, *args, **kwargs):
        wants_more = args or kwargs.get("output_hidden_states") or kwargs.get("output_attentions") \
            or pixel_values is None or pixel_values.dim() != 4
        if wants_more:
            return inner_forward(pixel_values, *args, **kwargs)
        keys = [(digest, pixel_digest(row)) for row in pixel_values]
        found = [cache.get(k) for k in keys]
        first = {}  # each missing image once, even when a batch holds it twice
        for i, f in enumerate(found):
            if f is None:
                first.setdefault(keys[i], i)
        if first:
            cache.misses += len(first)
            fresh = inner_forward(pixel_values=pixel_values[list(first.values())], **kwargs).last_hidden_state
            for key, state in zip(first, fresh):
                cache.put(key, state)
                first[key] = state
            found = [f if f is not None else first[k] for f, k in zip(found, keys)]
        return BaseModelOutputWithPooling(last_hidden_state=torch.stack(found))

    tower.forward = forward
    tower._vlmrobust_inner_forward = inner_forward
    return True
