"""The paper's per-dataset scorers, applied to free-form model responses.

=========  ===============================================  ==========================
dataset    scorer (as the paper scores it)                  function
=========  ===============================================  ==========================
GQA        case-insensitive word-boundary containment       ``contains_answer``
VQAv2      official VQA accuracy (soft, 10 annotators)      ``vqa_accuracy``
TextVQA    normalised exact match against any GT answer     ``exact_match``
           (and, beside it, the standard VQA accuracy)      ``vqa_accuracy``
MMBench    letter extracted from the response               ``extract_choice``
=========  ===============================================  ==========================

Decisions where the official VQA evaluation code (``vqaEval.py``) has quirks:

- The official code normalises answers *only when the 10 annotators disagree*
  (``len(set(gtAnswers)) > 1``): with ten identical "2"s a prediction "two" scores
  0, with nine "2"s and one "3" it scores 1. We always normalise (as VLMEvalKit and
  lmms-eval do); ``vqa_accuracy(..., official_unanimous_quirk=True)`` reproduces the
  official behaviour.
- The official period regex ``(?!<=\\d)(\\.)(?!\\d)`` (a typo for a lookbehind)
  removes every period not followed by a digit, so "10." -> "10" and scores.
  We keep that behaviour (VLMEvalKit's "fixed" regex makes "10." score 0).
- With fewer than two ground-truth answers there is no leave-one-out; the score
  is normalised equality (used by the synthetic twins with one answer).

``extract_choice`` never guesses: a response naming no option, or naming two
(``"A or B"``), returns ``None`` and is counted as unparseable.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Sequence

from .prompts import LETTERS

# --- the official VQA normalisation (GT-Vision-Lab/VQA, vqaEval.py) -------------

_CONTRACTIONS = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
    "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't",
    "dont": "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't",
    "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's",
    "howd": "how'd", "howll": "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm",
    "Ive": "I've", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll",
    "let's": "let's", "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've",
    "mightn'tve": "mightn't've", "mightve": "might've", "mustnt": "mustn't", "mustve": "must've",
    "neednt": "needn't", "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't",
    "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't",
    "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's", "shouldve": "should've",
    "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've",
    "somebody'd": "somebodyd",  # sic: the official table maps this one backwards
    "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've", "somebodyll": "somebody'll",
    "somebodys": "somebody's", "someoned": "someone'd", "someoned've": "someone'd've",
    "someone'dve": "someone'd've", "someonell": "someone'll", "someones": "someone's",
    "somethingd": "something'd", "somethingd've": "something'd've", "something'dve": "something'd've",
    "somethingll": "something'll", "thats": "that's", "thered": "there'd", "thered've": "there'd've",
    "there'dve": "there'd've", "therere": "there're", "theres": "there's", "theyd": "they'd",
    "theyd've": "they'd've", "they'dve": "they'd've", "theyll": "they'll", "theyre": "they're",
    "theyve": "they've", "twas": "'twas", "wasnt": "wasn't", "wed've": "we'd've", "we'dve": "we'd've",
    "weve": "we've", "werent": "weren't", "whatll": "what'll", "whatre": "what're", "whats": "what's",
    "whatve": "what've", "whens": "when's", "whered": "where'd", "wheres": "where's", "whereve": "where've",
    "whod": "who'd", "whod've": "who'd've", "who'dve": "who'd've", "wholl": "who'll", "whos": "who's",
    "whove": "who've", "whyll": "why'll", "whyre": "why're", "whys": "why's", "wont": "won't",
    "wouldve": "would've", "wouldnt": "wouldn't", "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've",
    "yall": "y'all", "yall'll": "y'all'll", "y'allll": "y'all'll", "yall'd've": "y'all'd've",
    "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've", "youd": "you'd", "youd've": "you'd've",
    "you'dve": "you'd've", "youll": "you'll", "youre": "you're", "youve": "you've",
}
_NUMBER_WORDS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                 "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
_ARTICLES = {"a", "an", "the"}
_PUNCT = [";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",",
          "?", "!"]
_COMMA_STRIP = re.compile(r"(\d)(,)(\d)")
_PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")  # sic (official): removes "." not followed by a digit


def _process_punctuation(text: str) -> str:
    out = text
    for p in _PUNCT:
        if (p + " " in text or " " + p in text) or _COMMA_STRIP.search(text) is not None:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    return _PERIOD_STRIP.sub("", out)


def _process_digit_article(text: str) -> str:
    words = []
    for w in text.lower().split():
        w = _NUMBER_WORDS.get(w, w)
        if w not in _ARTICLES:
            words.append(w)
    return " ".join(_CONTRACTIONS.get(w, w) for w in words)


def normalize_vqa(text: str) -> str:
    """The official VQA answer normalisation (punctuation, then digits/articles/contractions)."""
    text = str(text).replace("\n", " ").replace("\t", " ").strip()
    return _process_digit_article(_process_punctuation(text))


def vqa_accuracy(prediction: str, answers: Sequence[str], official_unanimous_quirk: bool = False) -> float:
    """Official VQA accuracy: mean over leave-one-out subsets of min(#matches / 3, 1).

    With 10 answers and k of them equal to the prediction this is 0, 0.3, 0.6, 0.9
    or 1.0 for k = 0, 1, 2, 3, >= 4.
    """
    answers = [str(a) for a in answers]
    if not answers:
        raise ValueError("vqa_accuracy needs at least one ground-truth answer")
    pred = str(prediction).replace("\n", " ").replace("\t", " ").strip()
    gts = [a.replace("\n", " ").replace("\t", " ").strip() for a in answers]
    if not (official_unanimous_quirk and len(set(gts)) == 1):
        pred = normalize_vqa(pred)
        gts = [normalize_vqa(a) for a in gts]
    if len(gts) == 1:
        return float(pred == gts[0])
    accs = []
    for i in range(len(gts)):
        matches = sum(1 for j, g in enumerate(gts) if j != i and g == pred)
        accs.append(min(1.0, matches / 3.0))
    return sum(accs) / len(accs)


def contains_answer(prediction: str, answer: str) -> bool:
    """GQA as the paper scores it: the answer occurs in the response as a whole word
    or phrase, case-insensitively (so "Yes, it is." matches "yes", "notebook" does
    not match "no"). Whitespace is collapsed on both sides."""
    pred = " ".join(str(prediction).lower().split())
    ans = " ".join(str(answer).lower().split())
    if not ans:
        return False
    return re.search(r"(?<!\w)" + re.escape(ans) + r"(?!\w)", pred) is not None


def exact_match(prediction: str, answers: Iterable[str]) -> bool:
    """TextVQA as the paper scores it: the normalised response equals any normalised
    ground-truth answer (official VQA normalisation on both sides)."""
    pred = normalize_vqa(prediction)
    return any(pred == normalize_vqa(a) for a in answers)


# --- multiple choice ---------------------------------------------------------------

_NEGATION = r"(?:not|n't|never|except|no)"
_ARTICLE_A = re.compile(r"A\s+[a-z]")  # "A red car": the article, not option A


def _negated_or_joined(text: str, L: str, options: Mapping[str, str]) -> bool:
    """Does the response negate an option ("Not C.", "it is not a dog") or join two ("A or B")?"""
    texts = "|".join(re.escape(str(v)) for v in options.values() if str(v).strip())
    target = rf"(?:[\(\[]?[{L}][\)\]]?(?![\w'])" + (rf"|(?i:{texts})(?!\w))" if texts else ")")
    if re.search(rf"(?<!\w)(?i:{_NEGATION})\s+(?i:(?:an?|the|option|choice)\s+)?{target}", text):
        return True
    joined = re.search(rf"(?<!\w)[\(\[]?([{L}])[\)\]]?\s*(?:or|and|/)\s*[\(\[]?([{L}])(?![\w'])", text)
    return bool(joined and joined.group(1) != joined.group(2))


def extract_choice(response: str, options: Mapping[str, str]) -> str | None:
    """The option letter a free-form response names, or ``None`` (never a guess).

    Accepted shapes, tried in order: a bare letter ("B", "(B)", "B.", "b", "**B**", "`B`"); a
    leading letter ("B) dog", "B. dog", "B: dog"); an explicit phrase ("The answer is B",
    "Answer: (C)", "option D"); a parenthesised letter anywhere ("... (B) ..."); a letter alone
    among at most three words; the text of exactly one option. ``None`` for: two different
    letters or option texts; two options joined by "or" / "and" / "/" ("The answer is A or B");
    a negated option ("Not C.", "It is not a dog"); a short answer that starts with the article
    "A" and is no option ("A red car"); refusals and empty responses. Checked against a corpus
    of generated responses with their intended letters (``tests/mcq_corpus.py``): no wrong parse.
    """
    if response is None:
        return None
    letters = [str(k) for k in options]
    if not letters:
        raise ValueError("extract_choice needs at least one option")
    L = "".join(re.escape(x) for x in letters)
    text = str(response).strip()
    if not text:
        return None
    # 1. the whole response is a letter (Markdown emphasis and code quotes removed)
    m = re.fullmatch(rf"[\(\[]?\s*([{L}{L.lower()}])\s*[\)\]]?[.:]?", text.strip("*`_ "))
    if m:
        return m.group(1).upper()
    if _negated_or_joined(text, L, options):
        return None
    found: set[str] = set()
    # 2. a leading letter followed by punctuation: "B) dog", "B. dog", "(B) dog", "B: dog"
    m = re.match(rf"[\(\[]?([{L}])(?:[\)\]][.:]?|[.:])(?:\s|$)", text.lstrip("*`_ "))
    if m:
        found.add(m.group(1))
    # 3. explicit phrases
    for m in re.finditer(rf"(?i:answer|option|choice)\s*(?i:is|:)?\s*[\*`]*\s*[\(\[]?([{L}])(?![\w])", text):
        found.add(m.group(1))
    # 4. a parenthesised letter anywhere
    for m in re.finditer(rf"[\(\[]([{L}])[\)\]]", text):
        found.add(m.group(1))
    found &= set(letters)
    if len(found) == 1:
        return found.pop()
    if len(found) > 1:
        return None
    # 5. a letter standing alone among very few words: "B dog", "A and B" (-> None); a leading
    #    "A" followed by a lower-case word is the article ("A lamp"), left to the option texts
    tokens = re.sub(r"[.()\[\],:;!*#{}`]", " ", text).split()
    if len(tokens) <= 3:
        skip_first = bool(_ARTICLE_A.match(text))
        alone = {t for i, t in enumerate(tokens) if t in letters and not (i == 0 and skip_first)}
        if len(alone) == 1:
            return alone.pop()
        if len(alone) > 1:
            return None
    # 6. the text of exactly one option
    hits = [k for k, v in options.items() if str(v).strip() and contains_answer(text, str(v))]
    if len(hits) == 1:
        return str(hits[0])
    return None


def options_dict(options: Sequence[str]) -> dict[str, str]:
    """List of option texts (samples schema) -> {'A': text, 'B': text, ...}."""
    return {LETTERS[i]: str(o) for i, o in enumerate(options)}


# --- dispatch over the samples schema ----------------------------------------------

SCORERS = ("containment", "vqa", "exact", "mcq")


def score_response(scorer: str, response: str, answers: Sequence[str], answer: str,
                   options: Sequence[str] = ()) -> dict:
    """Score one response with the named scorer; returns parsed answer, parse_ok, score.

    For ``exact`` (TextVQA) the standard VQA accuracy is returned too, as
    ``score_vqa``; for ``vqa`` the exact match as ``score_exact``. An empty response never
    scores (VQA normalisation turns a ground truth "a" or "the" into "" as well).
    """
    if scorer not in SCORERS:
        raise ValueError(f"unknown scorer {scorer!r}; use containment, vqa, exact or mcq")
    response = "" if response is None else str(response)
    if not response.strip():  # never a match: a ground truth like "a" normalises to "" too
        empty = {"parsed": None, "parse_ok": False, "score": 0.0}
        side = {"vqa": "score_exact", "exact": "score_vqa"}.get(scorer)  # the companion score, 0 as well
        return {**empty, side: 0.0} if side else empty
    if scorer == "containment":
        hit = contains_answer(response, answer)
        return {"parsed": answer if hit else None, "parse_ok": bool(response.strip()), "score": float(hit)}
    if scorer == "vqa":
        return {"parsed": normalize_vqa(response), "parse_ok": bool(response.strip()),
                "score": vqa_accuracy(response, answers), "score_exact": float(exact_match(response, answers))}
    if scorer == "exact":
        return {"parsed": normalize_vqa(response), "parse_ok": bool(response.strip()),
                "score": float(exact_match(response, answers)), "score_vqa": vqa_accuracy(response, answers)}
    if scorer == "mcq":
        choice = extract_choice(response, options_dict(options))
        return {"parsed": choice, "parse_ok": choice is not None, "score": float(choice == answer)}
    raise ValueError(f"unknown scorer {scorer!r}; use containment, vqa, exact or mcq")


def score_predictions(predictions, samples):
    """Join predictions to their items and score each one -> the ``scores.parquet`` table.

    ``predictions`` needs ``dataset``, ``sample_id`` and ``response``; ``samples``
    is the samples table. Adds ``parsed``, ``parse_ok``, ``score`` (and
    ``score_vqa``/``score_exact`` where defined), the item's ``answer`` and its
    ``circular_group`` (MMBench rotations of one question; None elsewhere).
    """
    import pandas as pd

    from .data import DATASETS

    keys = ["dataset", "sample_id"]
    items = samples[keys + ["answers", "answer", "options", "circular_group"]].drop_duplicates(keys)
    df = predictions.merge(items, on=keys, how="left", validate="many_to_one")
    missing = df["answer"].isna()
    if missing.any():
        bad = df.loc[missing, keys].drop_duplicates().head(5).to_dict("records")
        raise ValueError(f"{int(missing.sum())} prediction(s) refer to items not in the samples table, e.g. {bad}")
    rows = [score_response(DATASETS[d]["scorer"], r, a, ans, o)
            for d, r, a, ans, o in zip(df["dataset"], df["response"], df["answers"], df["answer"], df["options"])]
    scored = pd.DataFrame(rows, index=df.index)
    return pd.concat([df.drop(columns=["answers", "options"]), scored], axis=1)


def circular_accuracy(scores, by: Sequence[str] = ("model", "dataset", "corruption", "severity", "prompt_variant")):
    """MMBench CircularEval: a question counts as correct only if every rotation of it
    (rows sharing ``circular_group``) is correct. Returns one row per group and ``by``."""
    by = [b for b in by if b in scores.columns]
    s = scores.dropna(subset=["circular_group"])
    g = s.groupby(list(by) + ["circular_group"])["score"].min().rename("score").reset_index()
    return g


def circular_eval(scores, by: Sequence[str] = ("model", "dataset", "corruption", "severity", "prompt_variant")):
    """Per-question accuracy (every rotation counted alone) beside CircularEval accuracy (a question
    is right only when all its rotations are), for the rows that carry a ``circular_group``; empty
    when the run has no rotations."""
    import pandas as pd

    by = [b for b in by if b in scores.columns]
    if "circular_group" not in scores.columns or scores["circular_group"].isna().all():
        return pd.DataFrame(columns=[*by, "questions", "rotations", "acc_per_question", "acc_circular"])
    s = scores.dropna(subset=["circular_group"])
    per = s.groupby(by)["score"].agg(rotations="size", acc_per_question="mean")
    circ = circular_accuracy(s, by).groupby(by)["score"].agg(questions="size", acc_circular="mean")
    return per.join(circ).reset_index()[[*by, "questions", "rotations", "acc_per_question", "acc_circular"]]
