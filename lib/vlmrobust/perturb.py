"""Misleading (and truthful) text in the prompt: the second robustness axis.

The RL-CoT seed reports that a misleading caption or a wrong hint in the prompt cuts a
VLM's accuracy and confidence. The pipeline asks it as two prompt variants on top of the
concise prompt (``TEXT_VARIANTS``): ``mislead`` puts a line before the question that asserts
a *wrong* value of exactly what is asked; ``truthful`` asserts the right one (the control:
does any extra line move the model, or only a wrong one?). Everything here is the project's
operationalisation [P] of a seed that gives no formulas (``docs/methods.md`` section 8):

Synthetic benchmark (the scene is known), a ``Caption:`` line per question type:

=================  ===============================================  ========================
question type      caption                                          asserted value w
=================  ===============================================  ========================
colour             "The {shape} is {w}."                            another colour
shape              "The {colour} object is a {w}."                  another shape
count              "There are {w} {shape}s."                        k+1, else k-1, else the
                                                                    nearest other count
ocr                "The sign says '{w}'."                           another sign word
relation_yesno     "The {a} is {relation} the {b}."                 the flipped yes/no
relation_shape     "The shape {rel} the {b} is a {w}."              another shape
relation_colour    "The shape {rel} the {b} is {w}."                another colour
=================  ===============================================  ========================

Multiple choice (synthetic and MMBench): ``Hint: the answer is {option text}.`` naming a
distractor (``mislead``) or the answer (``truthful``); w is the option's letter.
Hub open-ended items: yes/no questions get the flipped answer, number answers the count one
off (``Hint: the answer is {w}.``); every other item has no claim that is surely wrong, so it
is skipped (``claim`` returns None) and the notebook counts the skips.

Choice of a wrong value: the candidates are every value of the asked kind that no annotator
gave (so the claim scores 0 under every scorer, and is never a synonym of the answer); one is
picked by SHA-256(seed | dataset | sample_id | variant), so the same item always gets the
same claim on every machine. Counts follow the spec's "k+1 if k < 5, else k-1" where no
annotator gave that count, else the nearest count no annotator gave.
"""

from __future__ import annotations

import hashlib
import re
from typing import Mapping, NamedTuple

from .data import synthetic
from .prompts import LETTERS, MISLEAD, TEXT_VARIANTS, TRUTHFUL  # noqa: F401 (re-exported)
from .scoring import normalize_vqa
MAX_COUNT = 5  # the synthetic scenes hold 1-5 objects


class Claim(NamedTuple):
    """One prompt line and the answer it asserts (``asserted``: a letter for MCQ)."""
    line: str
    asserted: str


def pick(candidates: list[str], seed: int, dataset: str, sample_id: str, variant: str) -> str:
    """A deterministic choice among ``candidates`` by SHA-256 (stable across machines)."""
    if not candidates:
        raise ValueError(f"no candidate claim for {dataset}|{sample_id}")
    key = f"{seed}|{dataset}|{sample_id}|{variant}".encode()
    return candidates[int.from_bytes(hashlib.sha256(key).digest()[:8], "little") % len(candidates)]


def _given(answers, answer) -> set[str]:
    """Every surface form an annotator gave, normalised, with the benchmark's synonyms."""
    forms = {normalize_vqa(a) for a in [*list(answers), answer]}
    return forms | {normalize_vqa(s) for f in list(forms) for s in synthetic.SYNONYMS.get(f, [])}


def _others(values, answers, answer) -> list[str]:
    given = _given(answers, answer)
    return [v for v in values if normalize_vqa(v) not in given]


def _count_claim(k: int, answers, answer) -> str:
    given = _given(answers, answer)
    first = k + 1 if k < MAX_COUNT else k - 1
    order = [first] + sorted((v for v in range(1, MAX_COUNT + 1) if v not in (k, first)), key=lambda v: abs(v - k))
    for v in order:
        if str(v) not in given:
            return str(v)
    raise ValueError(f"every count was given by an annotator (answer {answer})")


_QUESTION = {  # synthetic question type -> the template's subject (see data/synthetic.py)
    "colour": re.compile(r"What color is the (?P<shape>\w+)\?"),
    "shape": re.compile(r"What shape is the (?P<colour>\w+) object\?"),
    "count": re.compile(r"How many (?P<shape>\w+)s are there\?"),
    "ocr": re.compile(r"What word is written on the sign\?"),
    "relation_yesno": re.compile(r"Is the (?P<a>\w+ \w+) (?P<rel>.+) the (?P<b>\w+ \w+)\?"),
    "relation_shape": re.compile(r"What shape is (?P<rel>.+) the (?P<b>\w+ \w+)\?"),
    "relation_colour": re.compile(r"What color is the shape (?P<rel>.+) the (?P<b>\w+ \w+)\?"),
}
_OPPOSITE = {"to the left of": "to the right of", "to the right of": "to the left of", "above": "below",
             "below": "above"}


def _synthetic_caption(item: Mapping, variant: str, seed: int) -> Claim:
    qtype, question, answer = item["question_type"], item["question"], str(item["answer"])
    pattern = _QUESTION.get(qtype)
    m = pattern.fullmatch(question) if pattern else None
    if m is None:
        raise ValueError(f"{item['dataset']}|{item['sample_id']}: question {question!r} of type {qtype!r} "
                         f"does not match the synthetic template")
    answers, sid, ds = list(item["answers"]), str(item["sample_id"]), item["dataset"]

    def wrong(values):
        return pick(_others(values, answers, answer), seed, ds, sid, variant)

    truthful = variant == TRUTHFUL
    if qtype == "relation_yesno":
        asked, holds = m["rel"], answer == "yes"
        true_rel = asked if holds else _OPPOSITE[asked]
        rel = true_rel if truthful else _OPPOSITE[true_rel]
        w = answer if truthful else ("no" if holds else "yes")
        return Claim(f"Caption: The {m['a']} is {rel} the {m['b']}.", w)
    if qtype in ("colour", "relation_colour"):
        w = answer if truthful else wrong(list(synthetic.COLOURS))
    elif qtype in ("shape", "relation_shape"):
        w = answer if truthful else wrong(list(synthetic.SHAPES))
    elif qtype == "ocr":
        w = answer if truthful else wrong(list(synthetic.WORDS))
    else:  # count
        w = answer if truthful else _count_claim(int(answer), answers, answer)
    text = {
        "colour": lambda: f"The {m['shape']} is {w}.",
        "shape": lambda: f"The {m['colour']} object is a {w}.",
        "count": lambda: f"There {'is' if w == '1' else 'are'} {w} {m['shape']}{'' if w == '1' else 's'}.",
        "ocr": lambda: f"The sign says '{w}'.",
        "relation_shape": lambda: f"The shape {m['rel']} the {m['b']} is a {w}.",
        "relation_colour": lambda: f"The shape {m['rel']} the {m['b']} is {w}.",
    }[qtype]()
    return Claim(f"Caption: {text}", w)


def _hint(text: str) -> str:
    return f"Hint: the answer is {text}."


def _mcq_hint(item: Mapping, variant: str, seed: int) -> Claim:
    options = list(item["options"])
    answer = str(item["answer"]).strip().upper()
    letters = list(LETTERS[:len(options)])
    if answer not in letters:
        raise ValueError(f"{item['dataset']}|{item['sample_id']}: answer {answer!r} is not an option letter")
    if variant == TRUTHFUL:
        letter = answer
    else:
        letter = pick([L for L in letters if L != answer], seed, item["dataset"], str(item["sample_id"]), variant)
    return Claim(_hint(str(options[letters.index(letter)])), letter)


def _hub_open_claim(item: Mapping, variant: str, seed: int) -> Claim | None:
    answer = normalize_vqa(str(item["answer"]))
    if variant == TRUTHFUL:
        return Claim(_hint(answer), answer) if (answer in ("yes", "no") or answer.isdigit()) else None
    if answer in ("yes", "no"):
        w = "no" if answer == "yes" else "yes"
        return None if w in _given(item["answers"], answer) else Claim(_hint(w), w)
    if answer.isdigit():
        k = int(answer)
        given = _given(item["answers"], answer)
        cands = [str(v) for v in (k + 1, k - 1) if v >= 0 and str(v) not in given]
        if not cands:
            return None
        w = pick(cands, seed, item["dataset"], str(item["sample_id"]), variant)
        return Claim(_hint(w), w)
    return None


def claim(item: Mapping, variant: str, seed: int) -> Claim | None:
    """The line ``variant`` adds before the question of ``item`` (a samples row), or None
    when the item has no claim of that kind (a hub open-ended item that is neither yes/no
    nor a number). ``seed`` is the run's seed."""
    if variant not in TEXT_VARIANTS:
        raise ValueError(f"unknown text variant {variant!r}; use one of {', '.join(TEXT_VARIANTS)}")
    if len(item["options"]) if item["options"] is not None else 0:
        return _mcq_hint(item, variant, seed)
    if item["dataset"] in synthetic.TASKS:
        return _synthetic_caption(item, variant, seed)
    return _hub_open_claim(item, variant, seed)
