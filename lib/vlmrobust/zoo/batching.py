"""Turning examples into model inputs fast: cached tokenisation and pixels, cached tower states."""

from __future__ import annotations

import numpy as np

from ..progress import bar as progress_bar
from .examples import Example


class Batcher:
    """Fast collation for training: tokenisation and decoded pixels are cached per example.

    Produces exactly what ``processor(text=..., images=...)`` produces (input_ids with the
    image placeholder expanded, attention_mask, token_type_ids marking image tokens,
    pixel_values normalised to [-1, 1]); ``tests/test_zoo.py`` checks the equality.
    Labels mask everything but the target and the end-of-sequence token.

    ``tower_states`` (image bytes -> the frozen vision tower's output, from
    ``tower_states``): batches then carry those states instead of pixels, and
    ``model_inputs`` feeds them through the projector.
    """

    def __init__(self, processor, tower_states: dict | None = None):
        self.processor = processor
        self.tower_states = tower_states
        self.tok = processor.tokenizer
        self.size = processor.image_processor.size["height"]
        self._ids: dict[tuple[str, str], tuple[list[int], int]] = {}
        self._pix: dict[bytes, "np.ndarray"] = {}  # keyed by the PNG bytes (CPython caches their hash)

    def _encode(self, prompt: str, target: str) -> tuple[list[int], int]:
        key = (prompt, target)
        if key not in self._ids:
            text = prompt.replace(self.processor.boi_token, self.processor.full_image_sequence)
            ids = self.tok.encode(text + target + self.tok.eos_token, add_special_tokens=False)
            tgt = self.tok.encode(target + self.tok.eos_token, add_special_tokens=False)
            if ids[len(ids) - len(tgt):] != tgt:  # the prompt/target boundary must not merge tokens
                raise ValueError(f"target tokens do not align for prompt ending {prompt[-20:]!r}")
            self._ids[key] = (ids, len(tgt))
        return self._ids[key]

    def _pixels(self, image: bytes) -> "np.ndarray":
        import io

        from PIL import Image

        k = image
        if k not in self._pix:
            im = Image.open(io.BytesIO(image)).convert("RGB")
            if im.size != (self.size, self.size):
                im = im.resize((self.size, self.size), Image.BILINEAR)
            self._pix[k] = np.asarray(im, dtype=np.uint8)
        return self._pix[k]

    def pixels(self, images: list[bytes]):
        """PNG images as the processor's ``pixel_values`` (normalised to [-1, 1])."""
        import torch

        pix = np.stack([self._pixels(image) for image in images])
        return (torch.from_numpy(pix).permute(0, 3, 1, 2).float() / 255.0 - 0.5) / 0.5

    def __call__(self, batch: list[Example], target_attr: str = "target"):
        import torch

        encs = [self._encode(ex.prompt, getattr(ex, target_attr)) for ex in batch]
        width = max(len(ids) for ids, _ in encs)
        pad = self.tok.pad_token_id
        input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        for i, (ids, n_tgt) in enumerate(encs):
            input_ids[i, :len(ids)] = torch.tensor(ids)
            attention[i, :len(ids)] = 1
            labels[i, len(ids) - n_tgt:len(ids)] = torch.tensor(ids[len(ids) - n_tgt:])
        token_type = (input_ids == self.tok.image_token_id).long()
        enc = {"input_ids": input_ids, "attention_mask": attention, "token_type_ids": token_type, "labels": labels}
        if self.tower_states is None:
            enc["pixel_values"] = self.pixels([ex.image for ex in batch])
        else:
            enc["tower_states"] = torch.stack([self.tower_states[ex.image] for ex in batch])
        return enc


def tower_states(model, processor, images, batch_size: int = 64, progress: bool = True) -> dict:
    """The (frozen) vision tower's last hidden states of each distinct image, computed once.

    Why: after vision pretraining the tower is frozen, yet every pt/it/po step would run
    it again on the same training images (a third of an ``it`` step, two thirds of a
    ``po`` step with its four forward passes). The projector stays trainable: it runs on
    these states in every step (``model_inputs``).
    """
    import torch

    distinct = list(dict.fromkeys(images))
    batcher, out = Batcher(processor), {}
    with torch.no_grad():
        for k in progress_bar(range(0, len(distinct), batch_size), desc="tower states", disable=not progress):
            chunk = distinct[k:k + batch_size]
            out.update(zip(chunk, model.model.vision_tower(pixel_values=batcher.pixels(chunk)).last_hidden_state))
    return out


def model_inputs(model, enc: dict) -> dict:
    """Keyword arguments for ``model(...)`` from a batch: cached tower states pass through the
    projector and enter as ``mm_encoder_outputs``, transformers' input for precomputed encoder
    outputs (identical to what ``pixel_values`` would give with the tower frozen)."""
    if "tower_states" not in enc:
        return enc
    from transformers.modeling_outputs import BaseModelOutputWithPooling

    enc = dict(enc)
    image = model.model.multi_modal_projector(enc.pop("tower_states"))
    return {**enc, "mm_encoder_outputs": {"image": BaseModelOutputWithPooling(pooler_output=image)}}

