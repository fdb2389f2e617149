"""A corpus of free-form MCQ responses with the letter each one means (None: no single choice).

Why: ``scoring.extract_choice`` must never turn a response that does not name exactly one option into
a letter (a wrong guess inflates or deflates MMBench accuracy silently), and must keep parsing what it
parses today. The corpus crosses every response shape VLMs produce with random option sets, so a rule
that fixes one shape and breaks another shows up as a count. Deterministic (seeded); ~4,000 rows.

Shapes with a letter: bare letters (upper and lower case, bracketed, with punctuation), a leading letter
with its text, "Answer: X", "the answer is X", "option X", Markdown emphasis, repetitions, the option's
text alone, in a sentence, or after an article. Shapes without one: two options (letters or texts)
joined by "or" / "and" / "/", negations ("Not C.", "It is not B", "not a dog"), a short answer starting
with the article "A" that is no option ("A red car"), refusals, empty and whitespace-only responses.
"""

from __future__ import annotations

import random

WORDS = ["cat", "dog", "bird", "fish", "horse", "car", "bus", "train", "apple", "banana", "chair", "table",
         "red", "green", "blue", "yellow", "circle", "square", "lamp", "boat", "kite", "tree", "house", "cup"]
NOT_OPTIONS = ["red car", "lamp post", "small boat", "wooden chair", "man", "woman", "building", "street"]
REFUSALS = ["I cannot determine the answer from the image.", "Sorry, I can't help with that.",
            "None of the options is correct.", "The image is too blurry to tell.", "I don't know.", "Unclear.",
            "There is not enough information.", "", "   ", "\n"]


def _options(rng: random.Random, k: int) -> dict[str, str]:
    return dict(zip("ABCD"[:k], rng.sample(WORDS, k)))


def positive(X: str, t: str) -> list[str]:
    """Responses that name option X (text t) and nothing else."""
    return [X, f"{X}.", f"({X})", f"[{X}]", f"{X})", f"{X}:", X.lower(), f"({X.lower()})",
            f"{X}. {t}", f"{X}) {t}", f"({X}) {t}", f"{X}: {t}", f"{X}. {t.capitalize()}.",
            f"Answer: {X}", f"Answer: ({X})", f"answer: {X}", f"The answer is {X}.", f"The answer is ({X}).",
            f"The correct answer is {X}.", f"The answer is {X}. {t}", f"Option {X}", f"option {X} is correct",
            f"I choose option {X}.", f"**{X}**", f"**{X}. {t}**", f"`{X}`", f"**Answer:** {X}",
            f"{X} {X} {X}", f"{X}. {X}.", f"{t}", f"{t}.", f"{t.capitalize()}", f"It is a {t}.",
            f"The image shows a {t}.", f"I think it is {t}.", f"{t} {t}", f"The answer is {t}."]


def negative(X: str, Y: str, tx: str, ty: str) -> list[str]:
    """Responses that name no single option (X, Y two different options)."""
    return [f"{X} or {Y}", f"{X} or {Y}.", f"The answer is {X} or {Y}.", f"Either {X} or {Y}.", f"{X}/{Y}",
            f"{X} and {Y}", f"{tx} or {ty}", f"It could be {tx} or {ty}.", f"Both {tx} and {ty}.",
            f"Not {X}.", f"not {X}", f"It is not {X}.", f"The answer is not {X}.", f"Definitely not {tx}.",
            f"It is not a {tx}."]


def corpus(seed: int = 0, rounds: int = 8) -> list[tuple[str, dict[str, str], str | None]]:
    """(response, options, intended letter or None) rows."""
    rng = random.Random(seed)
    rows = []
    for _ in range(rounds):
        for k in (2, 3, 4):
            opts = _options(rng, k)
            letters = list(opts)
            for X in letters:
                rows += [(r, opts, X) for r in positive(X, opts[X])]
                Y = rng.choice([L for L in letters if L != X])
                rows += [(r, opts, None) for r in negative(X, Y, opts[X], opts[Y])]
            # the article "A" before something that is no option; and before an option's text
            other = rng.choice([w for w in NOT_OPTIONS if not set(w.split()) & set(opts.values())])
            rows.append((f"A {other}", opts, None))
            rows.append((f"A {other}.", opts, None))
            L = rng.choice(letters)
            rows.append((f"A {opts[L]}", opts, L))
            rows += [(r, opts, None) for r in REFUSALS]
    return rows
