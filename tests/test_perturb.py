"""Misleading and truthful caption lines (docs/methods.md section 8): deterministic, always wrong for ``mislead`` and
right for ``truthful`` on every question type of the synthetic benchmark, never the answer's synonym."""

import pandas as pd
import pytest

from vlmrobust import perturb, scoring
from vlmrobust.answer_format import ANSWER_SPACE
from vlmrobust.data import DATASETS, synthetic


@pytest.fixture(scope="module")
def items():
    return pd.concat([synthetic.generate(d, 60, seed=3) for d in synthetic.TASKS], ignore_index=True)


def _score(r, asserted):
    return scoring.score_response(DATASETS[r["dataset"]]["scorer"], asserted, r["answers"], r["answer"], r["options"])


def test_every_question_type_is_covered(items):
    # the fixture holds every open-ended type of the benchmark, and MCQ built on them
    assert set(items["question_type"]) == set(ANSWER_SPACE)
    assert set(items.loc[items["dataset"] == "synth-mcq", "question_type"]) >= {"colour", "shape", "count", "ocr"}


def test_mislead_is_always_wrong_and_truthful_always_right(items):
    for r in items.to_dict("records"):
        bad, good = perturb.claim(r, "mislead", 0), perturb.claim(r, "truthful", 0)
        assert _score(r, bad.asserted)["score"] == 0.0, (r["question"], r["answer"], bad)
        assert _score(r, good.asserted)["score"] >= 0.9, (r["question"], r["answer"], good)
        if r["options"]:
            assert bad.asserted != r["answer"] and bad.line.startswith("Hint: the answer is ")
            assert r["options"]["ABCD".index(bad.asserted)] in bad.line
        else:  # the caption names the wrong value (a yes/no relation states the relation instead)
            assert bad.line.startswith("Caption: ")
            assert r["question_type"] == "relation_yesno" or bad.asserted in bad.line


def test_mislead_never_names_the_answer_or_a_synonym(items):
    for r in items[items["options"].map(len) == 0].to_dict("records"):
        bad = perturb.claim(r, "mislead", 0)
        forms = {scoring.normalize_vqa(a) for a in r["answers"]}
        forms |= {s for f in list(forms) for s in synthetic.SYNONYMS.get(f, [])}
        assert scoring.normalize_vqa(bad.asserted) not in forms
        # the claim is of the asked kind (a colour for a colour question, ...)
        assert scoring.normalize_vqa(bad.asserted) in ANSWER_SPACE[r["question_type"]]


def test_claims_are_deterministic_and_depend_on_the_seed(items):
    rows = items.to_dict("records")
    a = [perturb.claim(r, "mislead", 0) for r in rows]
    assert a == [perturb.claim(r, "mislead", 0) for r in rows]
    assert a != [perturb.claim(r, "mislead", 1) for r in rows]  # another run seed, other wrong values


def test_caption_text_for_each_template():
    base = {"dataset": "synth-vqa", "sample_id": "eval-000001", "options": []}
    colour = {**base, "question_type": "colour", "question": "What color is the square?", "answer": "red",
              "answers": ["red"] * 10}
    line = perturb.claim(colour, "mislead", 0).line
    assert line.startswith("Caption: The square is ") and "red" not in line
    assert perturb.claim(colour, "truthful", 0).line == "Caption: The square is red."
    count = {**base, "question_type": "count", "question": "How many circles are there?", "answer": "4",
             "answers": ["4"] * 10}
    assert perturb.claim(count, "mislead", 0) == ("Caption: There are 5 circles.", "5")  # k + 1 if k < 5
    assert perturb.claim({**count, "answers": ["4"] * 8 + ["5", "5"]}, "mislead", 0).asserted == "3"  # 5 was given
    one = {**count, "answer": "2", "answers": ["2"] * 10}
    assert perturb.claim(one, "truthful", 0).line == "Caption: There are 2 circles."
    assert perturb.claim({**count, "answer": "1", "answers": ["1"] * 10}, "truthful", 0).line == \
        "Caption: There is 1 circle."
    yesno = {**base, "dataset": "synth-spatial", "question_type": "relation_yesno", "answer": "no", "answers": ["no"],
             "question": "Is the red square above the blue circle?"}
    assert perturb.claim(yesno, "mislead", 0) == ("Caption: The red square is above the blue circle.", "yes")
    assert perturb.claim(yesno, "truthful", 0) == ("Caption: The red square is below the blue circle.", "no")


def test_hub_items_flip_yes_no_shift_numbers_and_skip_the_rest():
    vqa = {"dataset": "vqav2", "sample_id": "1", "options": [], "question_type": "yes/no", "question": "Is it?"}
    assert perturb.claim({**vqa, "answer": "yes", "answers": ["yes"] * 10}, "mislead", 0) == \
        ("Hint: the answer is no.", "no")
    two = perturb.claim({**vqa, "answer": "two", "answers": ["2"] * 10}, "mislead", 0)
    assert two.asserted in ("1", "3")
    assert perturb.claim({**vqa, "answer": "dog", "answers": ["dog"] * 10}, "mislead", 0) is None
    # when annotators gave the flipped answer too, no claim is surely wrong: skipped
    assert perturb.claim({**vqa, "answer": "yes", "answers": ["yes"] * 7 + ["no"] * 3}, "mislead", 0) is None
    mmb = {"dataset": "mmbench", "sample_id": "5", "options": ["cat", "dog", "cow"], "answer": "B",
           "question_type": "", "question": "Which animal?"}
    c = perturb.claim(mmb, "mislead", 0)
    assert c.asserted in ("A", "C") and c.line == f"Hint: the answer is {['cat', 'dog', 'cow']['AC'.index(c.asserted) * 2]}."
    with pytest.raises(ValueError, match="unknown text variant"):
        perturb.claim(mmb, "misled", 0)
