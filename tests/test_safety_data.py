"""``synth-safety``: twins identical but for the badge, balanced item types, the expected behaviour
per type, taught answers the refusal scorer reads as intended, golden hashes."""

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from vlmrobust import refusal
from vlmrobust.data import safety, synthetic


@pytest.fixture(scope="module")
def items():
    return safety.generate(24, seed=0)


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_twins_differ_only_at_the_badge(items):
    for k in range(0, len(items), 2):
        with_badge, without = items.iloc[k], items.iloc[k + 1]
        assert with_badge["badge"] and not without["badge"]
        assert with_badge["twin_id"] == without["sample_id"] and without["twin_id"] == with_badge["sample_id"]
        assert with_badge["question"] == without["question"] and with_badge["pair_id"] == without["pair_id"]
        diff = np.abs(_pixels(with_badge["image"]) - _pixels(without["image"])).max(axis=2) > 0
        x0, y0, x1, y1 = safety.json.loads(with_badge["scene"])["badge_box"]
        inside = np.zeros_like(diff)
        inside[max(0, y0 - 3):y1 + 3, max(0, x0 - 3):x1 + 3] = True  # the scene's softness spreads an edge
        assert diff[inside].mean() > 0.5, f"pair {k // 2}: the badge is barely visible"
        assert not diff[~inside].any(), f"pair {k // 2}: twins differ outside the badge"


def test_item_types_are_balanced_and_say_what_the_model_should_do(items):
    assert items["question_type"].value_counts().to_dict() == {t: 6 for t in safety.ITEM_TYPES}
    by = items.set_index(["question_type", "badge"])
    assert set(by.loc[("harm_image", True), "expected"]) == {"refuse"}
    assert set(by.loc[("harm_image", False), "expected"]) == {"comply"}  # the same request, nothing harmful shown
    assert set(items.loc[items["question_type"] == "harm_text", "expected"]) == {"refuse"}  # whatever the image
    assert set(items.loc[items["question_type"].isin(["benign", "probe"]), "expected"]) == {"comply"}
    probes = items[items["question_type"] == "probe"]
    assert (probes["answer"] == np.where(probes["badge"], "yes", "no")).all()
    assert set(items.loc[items["expected"] == "refuse", "harm"]) == {"image", "text"}
    assert set(items.loc[items["expected"] == "comply", "harm"]) == {"none"}
    assert items["badge_size"].nunique() == len(safety.BADGE_SIZES)


def test_the_taught_answers_read_as_intended_by_the_refusal_scorer(items):
    labels = refusal.score_all(items["answer"])
    expected = items["expected"].map({"refuse": refusal.REFUSE, "comply": refusal.COMPLY})
    assert list(labels) == list(expected)


def test_harmful_verbs_are_in_no_request_but_harm_in_text(items):
    has_verb = items["question"].str.contains("|".join(safety.HARMFUL_VERBS))
    assert (has_verb == (items["harm"] == "text")).all()


def test_deterministic_and_seeded():
    a, b, c = (safety.make_item(5, seed=s) for s in (0, 0, 1))
    assert a["image_sha256"] == b["image_sha256"] != c["image_sha256"]
    tr = safety.generate(8, seed=0, split="train")
    assert set(tr["image_sha256"]).isdisjoint(safety.generate(8, seed=0)["image_sha256"])


GOLDEN = {  # sha256 of the first pair's PNGs under the pinned Pillow (pyproject.toml)
    0: "f6a6ae3fbebb3021fe33b115136d5474b91acfd29f7458e05d19d125a030810d",
    1: "412bef66c4388f68dd019b72ef1000f0a698718e208b175a60f26d059f2989af",
}


@pytest.mark.parametrize("index", sorted(GOLDEN))
def test_golden_image_hashes_under_pinned_pillow(index):
    assert safety.make_item(index, seed=0)["image_sha256"] == GOLDEN[index], (
        "synth-safety's rendering changed: if on purpose, update GOLDEN and re-publish the demo")


def test_rendering_is_identical_in_another_process():
    code = "from vlmrobust.data import safety; print(safety.make_item(7, seed=3)['image_sha256'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == safety.make_item(7, seed=3)["image_sha256"]


def test_the_overlay_hook_leaves_the_four_tasks_untouched():
    """The badge reaches the renderer through an optional hook that draws nothing from the random
    stream: the four-task benchmark renders exactly as before (its own golden hashes pin that too)."""
    import random

    objs, _ = synthetic.layout(random.Random(1), 2, None)
    plain = synthetic.render(random.Random(2), objs)[0]
    hooked = synthetic.render(random.Random(2), objs, overlay=lambda im: None)[0]
    assert plain.tobytes() == hooked.tobytes()
