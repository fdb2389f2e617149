"""The synthetic benchmark: schema, determinism (in and across processes), disjoint splits."""

import io
import subprocess
import sys

import pandas as pd
import pytest
from PIL import Image

from vlmrobust import data
from vlmrobust.data import synthetic

SYNTH = [d for d, spec in data.DATASETS.items() if spec["kind"] == "synthetic"]


@pytest.mark.parametrize("name", SYNTH)
def test_schema_and_content(name):
    df = data.load_benchmark(name, 12, seed=3)
    assert list(df.columns[:len(data.SAMPLE_COLUMNS)]) == data.SAMPLE_COLUMNS
    assert set(data.SYNTHETIC_META) <= set(df.columns)
    assert df["sample_id"].is_unique and len(df) == 12
    for _, r in df.iterrows():
        img = Image.open(io.BytesIO(r["image"]))
        assert img.size == (224, 224) and img.mode == "RGB"
        assert r["lighting"] in synthetic.LIGHTING and r["style"] in synthetic.STYLES
        assert 0.0 <= r["difficulty"] <= 1.0
        if name == "synth-mcq":
            assert len(r["options"]) == 4 and len(set(r["options"])) == 4
            assert r["answer"] in "ABCD" and r["answers"] == [r["answer"]]
        else:
            assert r["options"] == [] or len(r["options"]) == 0
        if name == "synth-vqa":
            assert len(r["answers"]) == 10
            # the canonical answer or one of its synonyms is given by at least 7 of 10 annotators
            same = {r["answer"], *synthetic.SYNONYMS.get(r["answer"], [])}
            if r["answer"].isdigit():
                same.add(synthetic.NUMBER_WORDS[int(r["answer"])])
            assert sum(a in same for a in r["answers"]) >= 7


def test_vqa_annotators_include_synonyms_and_disagreement():
    df = data.load_benchmark("synth-vqa", 200, seed=0)
    flat = [a for ans in df["answers"] for a in ans]
    assert {"two", "grey"} & set(flat), "number words / spelling variants are simulated"
    disagree = sum(len(set(a) - {r} - set(synthetic.SYNONYMS.get(r, [])) -
                       {synthetic.NUMBER_WORDS.get(int(r), "") if r.isdigit() else ""}) > 0
                   for a, r in zip(df["answers"], df["answer"]))
    assert 0.2 < disagree / len(df) < 0.9


def test_subgroups_are_balanced_enough_to_compare():
    df = pd.concat([data.load_benchmark(n, 150, seed=1) for n in SYNTH])
    counts = df["lighting"].value_counts()
    assert set(counts.index) == {"day", "dusk", "night"} and counts.min() >= 150
    text = df[df["dataset"] == "synth-text"]["object_size"].value_counts()
    assert set(text.index) == {"small", "medium", "large"}


def test_same_seed_same_bytes_different_seed_different_bytes():
    a = data.load_benchmark("synth-text", 5, seed=7)
    b = data.load_benchmark("synth-text", 5, seed=7)
    c = data.load_benchmark("synth-text", 5, seed=8)
    assert list(a["image_sha256"]) == list(b["image_sha256"])
    assert set(a["image_sha256"]).isdisjoint(c["image_sha256"])


GOLDEN = {  # sha256 of item 0's PNG under the pinned Pillow (pyproject.toml)
    ("synth-spatial", 0): "656747cbab4d5fe9bcb976dacac5c6946d03cfe17c9fd22a232b0fe84c106957",
    # synth-text v2 (demo zoo v2): six bold sign words
    ("synth-text", 0): "c47f3908d938ed62cbaf0a646a02106bac52ce89c7a29920e7b8605b8f04c1c7",
    ("synth-text", 1): "6a85dc5f3e20827f151c3dba769dc5c61cb662f825d09f4d777198e2badfe98a",
}


@pytest.mark.parametrize("name, index", sorted(GOLDEN))
def test_golden_image_hashes_under_pinned_pillow(name, index):
    """Version-dependent by design: valid only under the pinned Pillow (and its bundled FreeType)."""
    assert synthetic.make_item(name, index, seed=0)["image_sha256"] == GOLDEN[(name, index)], (
        "the rendered image changed: is Pillow at another version than pyproject.toml pins?")


def test_rendering_is_identical_in_another_process():
    code = ("from vlmrobust.data import synthetic as s;"
            "print(s.make_item('synth-mcq', 4, seed=11)['image_sha256'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == synthetic.make_item("synth-mcq", 4, seed=11)["image_sha256"]


def test_train_and_eval_splits_are_disjoint():
    for name in SYNTH:
        tr = synthetic.generate(name, 300, seed=42, split="train")
        ev = synthetic.generate(name, 300, seed=42, split="eval")
        assert set(tr["sample_id"]).isdisjoint(ev["sample_id"])
        assert set(tr["image_sha256"]).isdisjoint(ev["image_sha256"])


@pytest.mark.parametrize("bad_n", [0, -1, 2.5, True])
def test_bad_n_is_rejected(bad_n):
    with pytest.raises(data.DataError, match="n must be a positive integer"):
        data.load_benchmark("synth-vqa", bad_n, seed=0)


def test_unknown_dataset():
    with pytest.raises(data.DataError, match="unknown dataset 'okvqa'"):
        data.load_benchmark("okvqa", 3, seed=0)
