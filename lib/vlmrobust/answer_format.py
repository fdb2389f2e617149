"""Is a response an answer of the form the question asks for (format compliance)?

Why its own module: the demo zoo's goal check (notebook 00) and the format-confound
analysis (notebook 05) ask the same question of a response, and must answer it with
one rule. On the synthetic benchmark the expected form is known per question type: a
colour for a colour question, a number for a count, a sign word for a sign, yes/no
for a yes/no relation. A sentence, a caption, or a word of another kind is not in
format (``pt`` often ends a caption-like continuation with a sign word, "hotel.",
whatever it was asked). MCQ: the response names exactly one option.
"""

from __future__ import annotations

from .data import synthetic
from .scoring import extract_choice, normalize_vqa, options_dict


def _with_synonyms(words) -> frozenset:
    return frozenset([*words, *(s for w in words for s in synthetic.SYNONYMS.get(w, []))])


_COLOURS, _SHAPES = _with_synonyms(synthetic.COLOURS), _with_synonyms(synthetic.SHAPES)
ANSWER_SPACE = {  # synthetic question type -> the answers of the expected form (VQA-normalised)
    "colour": _COLOURS, "relation_colour": _COLOURS, "shape": _SHAPES, "relation_shape": _SHAPES,
    "count": frozenset([*(str(i) for i in range(10)), *synthetic.NUMBER_WORDS.values()]),
    "relation_yesno": frozenset(["yes", "no"]), "ocr": frozenset(synthetic.WORDS),
}


def format_ok(dataset_scorer: str, question_type: str, response: str, options) -> bool:
    """True when the response is one answer of the kind the question type asks for
    (after VQA normalisation), or, for MCQ, names exactly one option."""
    if dataset_scorer == "mcq":
        return extract_choice(response, options_dict(options)) is not None
    return normalize_vqa(response) in ANSWER_SPACE[question_type]
