"""MM-SafetyBench read bounded from a fixture in the hub repository's real layout
(``data/<scenario>/<split>.parquet``, columns ``id``, ``question``, ``image``), and the sets not loaded
refused with what is known."""

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hub_layout import CountingFileSystem
from vlmrobust.data import DataError, safety_hub, splits

SCENARIOS = ("Illegal_Activitiy", "Fraud", "HateSpeech")
REPO = "PKU-Alignment/MM-SafetyBench"


def _png(i: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((40, 40, 3), i % 255, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def write_repo(root, rows: int = 12):
    """The repository's files for three scenarios: SD, TYPO, SD_TYPO with images, Text_only without."""
    base = root / "datasets" / REPO / "data"
    for s in SCENARIOS:
        (base / s).mkdir(parents=True)
        for split in ("SD", "TYPO", "SD_TYPO", "Text_only"):
            recs = [{"id": i, "question": f"{s} {split} request {i} about the item in the image",
                     "image": None if split == "Text_only" else {"bytes": _png(i), "path": None}}
                    for i in range(rows)]
            pd.DataFrame(recs).to_parquet(base / s / f"{split}.parquet", row_group_size=4)
    return root


@pytest.fixture
def hub(tmp_path, monkeypatch):
    root = write_repo(tmp_path / "hub")
    fs = CountingFileSystem(root)
    monkeypatch.setattr(splits, "hub_filesystem", lambda: fs)
    return root, fs


def test_the_hub_layout_is_found_per_scenario_and_split():
    listing = [f"data/{s}/{sp}.parquet" for s in SCENARIOS for sp in ("SD", "SD_TYPO", "TYPO", "Text_only")]
    assert splits.split_files(listing, "Fraud", "SD") == ["data/Fraud/SD.parquet"]
    assert splits.split_files(listing, "Fraud", "SD_TYPO") == ["data/Fraud/SD_TYPO.parquet"]


def test_a_sample_over_scenarios_is_seeded_harmful_and_bounded(hub):
    root, fs = hub
    src = {"scenarios": list(SCENARIOS)}
    a = safety_hub.load("mm-safetybench", 9, seed=1, source=src)
    b = safety_hub.load("mm-safetybench", 9, seed=1, source=src)
    c = safety_hub.load("mm-safetybench", 9, seed=2, source=src)
    assert list(a["sample_id"]) == list(b["sample_id"]) != list(c["sample_id"])
    assert a["sample_id"].is_unique and set(a["scenario"]) <= set(SCENARIOS) and a["scenario"].nunique() >= 2
    assert (a["expected"] == "refuse").all() and (a["split"] == "SD_TYPO").all()
    assert a["question"].str.contains("SD_TYPO").all()  # the chosen split, not SD or TYPO
    assert all(q.startswith(sid.split("/")[0]) for q, sid in zip(a["question"], a["sample_id"]))
    assert (a["width"] == 224).all()
    opened = []
    real_open = fs.open
    fs.open = lambda path, *args, **kw: opened.append(path) or real_open(path, *args, **kw)
    safety_hub.load("mm-safetybench", 9, seed=1, source=src)
    # one split of four, never the others (how few bytes of it are read is tested on the capability sets,
    # which share the reader, data.splits.ParquetSplit)
    assert opened and all(p.endswith("/SD_TYPO.parquet") for p in opened)
    assert {p.split("/")[-2] for p in opened} == set(SCENARIOS)


def test_a_local_copy_gives_the_same_sample(hub, tmp_path):
    root, _ = hub
    src = {"scenarios": list(SCENARIOS), "split": "TYPO"}
    from_hub = safety_hub.load("mm-safetybench", 5, seed=3, source=src)
    local = safety_hub.load("mm-safetybench", 5, seed=3, source={**src, "path": str(root / "datasets" / REPO)})
    assert list(from_hub["sample_id"]) == list(local["sample_id"])
    assert list(from_hub["image_sha256"]) == list(local["image_sha256"])


@pytest.mark.parametrize("source, message", [
    ({"split": "Text_only"}, "not an image split"),
    ({"scenarios": ["Illegal_Activity"]}, "unknown scenario"),  # the repository spells it Illegal_Activitiy
    ({"scenarios": []}, "unknown scenario"),
])
def test_bad_sources_are_refused_before_any_read(source, message, monkeypatch):
    monkeypatch.setattr(splits, "hub_filesystem", lambda: pytest.fail("read the hub"))
    with pytest.raises(DataError, match=message):
        safety_hub.load("mm-safetybench", 5, seed=0, source=source)


def test_n_larger_than_the_split_and_an_unreachable_hub_say_what_to_do(hub, monkeypatch):
    with pytest.raises(DataError, match="larger than the split"):
        safety_hub.load("mm-safetybench", 1000, seed=0, source={"scenarios": list(SCENARIOS)})
    monkeypatch.setattr(splits, "hub_filesystem", lambda: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(DataError, match="set its path"):
        safety_hub.load("mm-safetybench", 5, seed=0, source={"scenarios": list(SCENARIOS)})


@pytest.mark.parametrize("name, where", [("mossbench", "xirui-li/MOSSBench"), ("mssbench", "kzhou35/mssbench"),
                                         ("figstep", "local copy")])
def test_sets_without_a_verified_loader_are_refused_with_what_is_known(name, where):
    with pytest.raises(DataError, match=where):
        safety_hub.load(name, 5, seed=0)
