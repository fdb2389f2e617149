"""A procedurally generated four-task VQA benchmark, rendered with PIL only.

Why: GQA, VQAv2, TextVQA and MMBench cannot be downloaded on the offline machines
this compendium is built and tested on, yet the whole pipeline (corruptions,
inference, scoring, statistics) must run end to end. Each synthetic task mirrors
one of the paper's benchmarks and is scored by that benchmark's scorer:

===============  ==========  ===================================================
dataset          mirrors     question                                   scorer
===============  ==========  ===================================================
synth-spatial    GQA         relations (left/right/above/below)        containment
synth-vqa        VQAv2       colour / count / shape, 10 annotators     VQA soft score
synth-text       TextVQA     the word written on a sign                exact match
synth-mcq        MMBench     four options A-D                          letter
===============  ==========  ===================================================

Scenes are 224x224: 1-5 shapes (circle, square, triangle, diamond) in 6 colours
and three sizes on a plain, gradient or textured background, under day / dusk /
night lighting (the ``lighting`` subgroup used by the disaggregation analysis),
plus, for text questions, a sign carrying a word from a closed vocabulary, in
Pillow's bundled scalable font (nothing is downloaded).

Determinism: every item is rendered from its own ``random.Random`` seeded by
SHA-256 of (split, dataset, index, seed); no global RNG is touched. With the
pinned Pillow the same seed gives byte-identical PNGs (``image_sha256``).

Ground truth: each row's ``scene`` column is JSON with every object's shape, colour, size
class, centre ``x``/``y`` and radius ``r`` in pixels, and the sign's word and ``sign_box``
(x0, y0, x1, y1): the demo zoo's captions and its vision pretraining targets come from it.

Splits: ``split='train'`` items (the demo zoo's training data) and ``'eval'``
items draw from different seed streams and carry different ``sample_id``
prefixes; the tests check that no image of one split appears in the other.
"""

from __future__ import annotations

import hashlib
import io
import json
import random

import pandas as pd

from ..prompts import LETTERS
from .scenes import (COLOURS, LIGHTING, NUMBER_WORDS, OBJECT_SIZES, RELATIONS, SHAPES, SIZE, STYLES,  # noqa: F401
                     SYNONYMS, WORDS, Obj, font, layout, render, stroke)  # (re-exported: the benchmark's vocabulary)

TASKS = {"synth-spatial": "spatial", "synth-vqa": "vqa", "synth-text": "text", "synth-mcq": "mcq"}


def item_seed(split: str, dataset: str, index: int, seed: int) -> int:
    key = f"synthetic|{split}|{dataset}|{index}|{seed}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little")


# ---------------------------------------------------------------------------
# questions
# ---------------------------------------------------------------------------

def _annotators(rng: random.Random, answer: str, wrong: list[str]) -> list[str]:
    """10 simulated VQAv2 annotators: mostly the answer, some synonyms, some disagreement."""
    forms = [answer] + SYNONYMS.get(answer, [])
    if answer.isdigit():
        forms.append(NUMBER_WORDS[int(answer)])
    out = []
    n_wrong = rng.choice((0, 0, 1, 1, 2, 3)) if wrong else 0
    for i in range(10):
        if i < n_wrong:
            out.append(rng.choice(wrong))
        elif len(forms) > 1 and rng.random() < 0.3:
            out.append(rng.choice(forms[1:]))
        else:
            out.append(answer)
    rng.shuffle(out)
    return out


def _relation_pair(rng: random.Random, objs: list[Obj]):
    """(target, relation, anchor) such that the target is the only object in that relation."""
    order = list(range(len(objs)))
    rng.shuffle(order)
    rels = list(RELATIONS)
    rng.shuffle(rels)
    for bi in order:
        b = objs[bi]
        for rel in rels:
            dx, dy = RELATIONS[rel]

            def holds(o, margin):
                return (dx and (o.cx - b.cx) * dx > margin) or (dy and (o.cy - b.cy) * dy > margin)
            strong = [o for o in objs if o is not b and holds(o, 25)]
            weak = [o for o in objs if o is not b and holds(o, 0)]
            if len(strong) == 1 and len(weak) == 1:
                return strong[0], rel, b
    return None


def _q_spatial(rng: random.Random):
    objs, _ = layout(rng, rng.randint(2, 4), None, distinct="both")
    found = _relation_pair(rng, objs)
    if not found:
        return None
    a, rel, b = found
    kind = rng.choice(("relation_yesno", "relation_shape", "relation_colour"))
    if kind == "relation_yesno":
        if rng.random() < 0.5:
            q, ans = f"Is the {a.name} {rel} the {b.name}?", "yes"
        else:
            opposite = {"to the left of": "to the right of", "to the right of": "to the left of",
                        "above": "below", "below": "above"}[rel]
            q, ans = f"Is the {a.name} {opposite} the {b.name}?", "no"
    elif kind == "relation_shape":
        q, ans = f"What shape is {rel} the {b.name}?", a.shape
    else:
        q, ans = f"What color is the shape {rel} the {b.name}?", a.colour
    return objs, None, q, ans, [ans], kind, a


MAX_COUNT = 4  # counting questions ask for 1 to MAX_COUNT objects of one shape


def _q_vqa(rng: random.Random):
    kind = rng.choice(("colour", "count", "shape"))
    if kind == "count":
        shape = rng.choice(SHAPES)
        k = rng.randint(1, MAX_COUNT)
        others = rng.randint(0, 5 - k)
        objs, _ = layout(rng, k + others, None)
        for i, o in enumerate(objs):
            if i < k:
                o.shape = shape
            elif o.shape == shape:
                o.shape = rng.choice([s for s in SHAPES if s != shape])
        ans = str(k)
        wrong = [str(v) for v in (k - 1, k + 1) if v >= 1]
        q = f"How many {shape}s are there?"
        target = objs[0]
    elif kind == "colour":
        objs, _ = layout(rng, rng.randint(1, 4), None, distinct="shape")
        target = rng.choice(objs)
        ans = target.colour
        q = f"What color is the {target.shape}?"
        wrong = [c for c in COLOURS if c != ans][:2]
    else:
        objs, _ = layout(rng, rng.randint(1, 4), None, distinct="colour")
        target = rng.choice(objs)
        ans = target.shape
        q = f"What shape is the {target.colour} object?"
        wrong = [s for s in SHAPES if s != ans][:1]
    return objs, None, q, ans, _annotators(rng, ans, wrong), kind, target


TEXT_SIZES = {"small": (14, 18), "medium": (22, 28), "large": (32, 40)}  # font pixel sizes


def _q_text(rng: random.Random):
    word = rng.choice(WORDS)
    size = rng.choice(list(TEXT_SIZES))
    font_size = rng.randint(*TEXT_SIZES[size])
    l, t, r, b = font(font_size).getbbox(word.upper(), stroke_width=stroke(font_size))
    pad = max(6, font_size // 3)
    objs, box = layout(rng, rng.randint(0, 2), (r - l + 2 * pad, b - t + 2 * pad))
    dark = rng.random() < 0.5
    colours = ((30, 60, 40), (245, 245, 245)) if dark else ((245, 240, 225), (20, 20, 20))
    sign = (word, box, font_size, colours)
    q = "What word is written on the sign?"
    return objs, sign, q, word, [word] * 10, "ocr", size


def _q_mcq(rng: random.Random):
    source = rng.choice(("spatial", "vqa", "text"))
    made = {"spatial": _q_spatial, "vqa": _q_vqa, "text": _q_text}[source](rng)
    if made is None:
        return None
    objs, sign, q, ans, _, kind, target = made
    if kind == "ocr":
        pool = [w for w in WORDS if w != ans]
    elif kind in ("relation_yesno",):
        return None  # two-way questions make poor four-option items
    elif kind in ("colour", "relation_colour"):
        pool = [c for c in COLOURS if c != ans]
    elif kind in ("shape", "relation_shape"):
        pool = [s for s in SHAPES if s != ans]
    else:  # count
        pool = [str(v) for v in range(1, 6) if str(v) != ans]
    options = rng.sample(pool, 3) + [ans]
    rng.shuffle(options)
    letter = LETTERS[options.index(ans)]  # the prompts' option letters
    category = {"ocr": "ocr", "count": "count", "colour": "attribute", "shape": "attribute"}.get(kind, "spatial")
    return objs, sign, q, letter, [letter], kind, target, options, category


# ---------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------

def _difficulty(size: str, n_objects: int, lighting: str, kind: str) -> float:
    """A 0-1 difficulty proxy: small targets, clutter, darkness, counting are harder."""
    s = {"small": 0.4, "medium": 0.2, "large": 0.0}[size]
    s += 0.08 * max(0, n_objects - 1)
    s += {"day": 0.0, "dusk": 0.1, "night": 0.2}[lighting]
    s += 0.1 if kind in ("count", "ocr") else 0.0
    return round(min(1.0, s), 3)


def make_item(dataset: str, index: int, seed: int = 0, split: str = "eval") -> dict:
    """Render one item of ``dataset`` (a row of the samples schema)."""
    if dataset not in TASKS:
        raise KeyError(f"unknown synthetic dataset {dataset!r}; choose from {', '.join(TASKS)}")
    task = TASKS[dataset]
    rng = random.Random(item_seed(split, dataset, index, seed))
    maker = {"spatial": _q_spatial, "vqa": _q_vqa, "text": _q_text, "mcq": _q_mcq}[task]
    made = None
    for _ in range(200):
        try:
            made = maker(rng)
        except RuntimeError:  # placement failed; draw again from the same stream
            made = None
        if made is not None:
            break
    if made is None:  # pragma: no cover - the makers succeed in a few draws
        raise RuntimeError(f"could not generate {dataset} item {index}")
    options, category = [], task
    if task == "mcq":
        objs, sign, q, ans, answers, kind, target, options, category = made
    else:
        objs, sign, q, ans, answers, kind, target = made
    img, style, lighting = render(rng, objs, sign)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    data = buf.getvalue()
    size = target if isinstance(target, str) else target.size
    scene = {"objects": [{"shape": o.shape, "colour": o.colour, "size": o.size, "x": o.cx, "y": o.cy, "r": o.r}
                         for o in sorted(objs, key=lambda o: o.cx)],
             "sign": sign[0] if sign else None,
             "sign_box": list(sign[1]) if sign else None}
    return {
        "dataset": dataset,
        "sample_id": f"{split}-{index:06d}",
        "split": split,
        "question": q,
        "answers": list(answers),
        "answer": ans,
        "options": list(options),
        "hint": "",
        "category": category,
        "question_type": kind,
        "image": data,
        "image_sha256": hashlib.sha256(data).hexdigest(),
        "width": SIZE,
        "height": SIZE,
        "lighting": lighting,
        "style": style,
        "object_size": size,
        "n_objects": len(objs),
        "difficulty": _difficulty(size, len(objs), lighting, kind),
        "circular_group": None,
        "scene": json.dumps(scene),
        "source": f"synthetic(seed={seed})",
    }


def generate(dataset: str, n: int, seed: int = 0, split: str = "eval", start: int = 0) -> pd.DataFrame:
    """``n`` items of ``dataset`` with indices ``start..start+n-1``."""
    return pd.DataFrame([make_item(dataset, i, seed, split) for i in range(start, start + n)])

