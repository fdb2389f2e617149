"""Training examples of each stage, built from the synthetic benchmark's training split.

``vision``: per-image-token class targets (``scene_targets``); ``pt``: captions;
``it``: chat-format QA (concise and verbose); ``po``: preference pairs (a correct
concise answer preferred to a wrong one).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import prompts
from ..data import synthetic
from .text import caption, verbose_answer, wrong_answer

TASKS = tuple(synthetic.TASKS)  # the four synthetic tasks, in the benchmark's order


@dataclass
class Example:
    image: bytes
    prompt: str
    target: str
    rejected: str | None = None
    cells: "np.ndarray | None" = None  # vision pretraining: per-cell class targets (scene_targets)


def training_items(cfg: dict) -> pd.DataFrame:
    """The zoo's training split: ``train_items`` per task (disjoint from evaluation items)."""
    return pd.concat([synthetic.generate(d, cfg["train_items"], seed=cfg["seed"], split="train") for d in TASKS],
                     ignore_index=True)


OBJECT_CLASSES = [(c, sh) for c in synthetic.COLOURS for sh in synthetic.SHAPES]  # 24; class 0 = nothing
SIZE_CLASSES = list(synthetic.OBJECT_SIZES)  # 3; class 0 = nothing
TARGET_HEADS = {"object": 1 + len(OBJECT_CLASSES), "size": 1 + len(SIZE_CLASSES), "word": 1 + len(synthetic.WORDS)}


def scene_targets(scene: dict | str, grid: int, image_size: int = synthetic.SIZE) -> np.ndarray:
    """Per-cell class targets for vision pretraining, on the ``grid`` x ``grid`` image-token grid.

    Columns: the object whose centre lies in the cell (colour x shape, 0 = none; the
    largest when two share a cell), its size (0 = none), and the sign's word on every
    cell the sign overlaps (0 = none). Row order is the projector's (row-major), so
    target k belongs to image token k.
    """
    s = json.loads(scene) if isinstance(scene, str) else scene
    out = np.zeros((grid * grid, 3), dtype=np.int64)
    cell = image_size / grid
    best = {}
    for o in s["objects"]:
        k = int(o["y"] // cell) * grid + int(o["x"] // cell)
        if k not in best or o.get("r", 0) > best[k].get("r", 0):
            best[k] = o
    for k, o in best.items():
        out[k, 0] = 1 + OBJECT_CLASSES.index((o["colour"], o["shape"]))
        out[k, 1] = 1 + SIZE_CLASSES.index(o["size"])
    if s.get("sign") and s.get("sign_box"):
        x0, y0, x1, y1 = s["sign_box"]
        k = int(((y0 + y1) / 2) // cell) * grid + int(((x0 + x1) / 2) // cell)
        out[k, 2] = 1 + synthetic.WORDS.index(s["sign"])
    return out


def vision_examples(items: pd.DataFrame, grid: int) -> list[Example]:
    return [Example(r["image"], "", "", cells=scene_targets(r["scene"], grid)) for _, r in items.iterrows()]


def caption_examples(items: pd.DataFrame, processor) -> list[Example]:
    ph = processor.image_token
    return [Example(r["image"], ph, " " + caption(r["scene"])) for _, r in items.iterrows()]


def sft_examples(items: pd.DataFrame, processor, rng: random.Random) -> list[Example]:
    """Chat-format QA: with the concise instruction -> short answer; without -> a sentence.

    Multiple choice appears twice, in the item's option order and in a shuffled one
    (the letter moves with the answer), so that no letter is tied to a position in the
    training data: trained on one order only, the model answered a near-constant letter
    whatever the image (synth-mcq 0.37, the same under every corruption). Measured: the
    two orders did not lift synth-mcq (0.33 in the demo zoo); the indirection from answer
    to letter is still beyond the tiny model.
    """
    out = []
    for _, r in items.iterrows():
        opts = list(r["options"])
        if opts:
            right = opts[prompts.LETTERS.index(str(r["answer"]))]
            for order in (opts, rng.sample(opts, len(opts))):
                p = prompts.build(processor, "chat", "gemma3", r["question"], order, concise=True)
                out.append(Example(r["image"], p, prompts.LETTERS[order.index(right)]))
            continue
        for concise in (True, False):
            p = prompts.build(processor, "chat", "gemma3", r["question"], concise=concise)
            out.append(Example(r["image"], p, str(r["answer"]) if concise else verbose_answer(r)))
    rng.shuffle(out)
    return out


def preference_examples(items: pd.DataFrame, processor, rng: random.Random) -> list[Example]:
    """Pairs preferring the correct concise answer to a wrong one, under both prompt variants."""
    out = []
    for _, r in items.iterrows():
        opts = list(r["options"])
        concise = True if opts else rng.random() < 0.5
        p = prompts.build(processor, "chat", "gemma3", r["question"], opts, concise=concise)
        out.append(Example(r["image"], p, str(r["answer"]), wrong_answer(r, rng)))
    rng.shuffle(out)
    return out



# --- safety (synth-safety: a hazard badge and nonsense verbs stand in for harm) -------------------


def safety_training_items(cfg: dict) -> pd.DataFrame:
    """``safety_items`` rows of ``synth-safety``'s training split (badge/no-badge twins; disjoint from
    the evaluation split notebook 11 measures)."""
    from ..data import safety

    return safety.generate(cfg["safety_items"], seed=cfg["seed"], split="train")


def _safety_prompt(processor, question: str) -> str:
    return prompts.build(processor, "chat", "gemma3", question, concise=True)


def safety_sft_examples(items: pd.DataFrame, processor) -> list[Example]:
    """What ``it`` is taught: the refusal on harmful requests, the answer on the others (probes: yes/no)."""
    return [Example(r["image"], _safety_prompt(processor, r["question"]), str(r["answer"]))
            for _, r in items.iterrows()]


def complying_answer(row) -> str:
    """A response that goes along with a request: the largest object's name, as an answer to "how to
    make what is in this picture" or to a harmful verb would begin. The rejected side of a refusal pair."""
    objs = json.loads(row["scene"])["objects"]
    o = max(objs, key=lambda o: (o["r"], -o["x"]))
    return f"{o['colour']} {o['shape']}"


def safety_preference_examples(items: pd.DataFrame, processor) -> list[Example]:
    """Pairs for ``po`` and ``po-aug``: refusal preferred to going along on harmful requests; the answer
    preferred to a refusal on benign ones (over-refusal penalised); the right probe answer to the wrong."""
    from ..data import safety

    out = []
    for _, r in items.iterrows():
        if r["expected"] == "refuse":
            rejected = complying_answer(r)
        elif r["question_type"] == "probe":
            rejected = "no" if r["answer"] == "yes" else "yes"
        else:
            rejected = safety.REFUSAL
        out.append(Example(r["image"], _safety_prompt(processor, r["question"]), str(r["answer"]), rejected))
    return out
