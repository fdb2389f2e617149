"""Paper-mode loaders on fixtures the tests build in each real schema (no download)."""

import base64
import io
import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vlmrobust import data
from vlmrobust.data import hub


def png(colour, size=(300, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def rgba_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (64, 80), (10, 20, 30, 128)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def vqav2_dir(tmp_path):
    rows = []
    for i in range(12):
        rows.append({
            "question_type": "what color", "multiple_choice_answer": "red",
            "answers": [{"answer": "red" if k < 8 else "dark red", "answer_confidence": "yes",
                         "answer_id": k + 1} for k in range(10)],
            "image_id": 1000 + i, "answer_type": "other", "question_id": 5000 + i,
            "question": f"What colour is thing {i}?",
            "image": {"bytes": png((i * 20, 0, 0)), "path": None},
        })
    d = tmp_path / "vqav2"
    d.mkdir()
    df = pd.DataFrame(rows)
    df.iloc[:6].to_parquet(d / "validation-00000.parquet")
    df.iloc[6:].to_parquet(d / "validation-00001.parquet")
    return d


def test_vqav2_local_parquet_maps_to_samples_schema(vqav2_dir):
    df = data.load_benchmark("vqav2", 5, seed=42, source={"path": str(vqav2_dir)})
    assert list(df.columns[:len(data.SAMPLE_COLUMNS)]) == data.SAMPLE_COLUMNS
    assert len(df) == 5 and df["dataset"].eq("vqav2").all()
    r = df.iloc[0]
    assert len(r["answers"]) == 10 and r["answer"] == "red"
    img = Image.open(io.BytesIO(r["image"]))
    assert img.size == (224, 224) and img.mode == "RGB"  # centre-cropped to 224


def test_sampling_is_seeded_and_independent_of_row_order(vqav2_dir, tmp_path):
    a = data.load_benchmark("vqav2", 6, seed=42, source={"path": str(vqav2_dir)})
    b = data.load_benchmark("vqav2", 6, seed=42, source={"path": str(vqav2_dir)})
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    full = pd.concat([pd.read_parquet(f) for f in sorted(vqav2_dir.glob("*.parquet"))])
    full.sample(frac=1, random_state=1).to_parquet(shuffled / "x.parquet")
    c = data.load_benchmark("vqav2", 6, seed=42, source={"path": str(shuffled)})
    d = data.load_benchmark("vqav2", 6, seed=43, source={"path": str(vqav2_dir)})
    assert list(a["sample_id"]) == list(b["sample_id"]) == list(c["sample_id"])
    assert list(a["sample_id"]) != list(d["sample_id"])


def test_n_larger_than_split(vqav2_dir):
    with pytest.raises(data.DataError, match="n = 50 is larger than the split \\(12 rows\\)"):
        data.load_benchmark("vqav2", 50, seed=0, source={"path": str(vqav2_dir)})


def test_missing_column_is_named(tmp_path):
    d = tmp_path / "tv"
    d.mkdir()
    pd.DataFrame({"question_id": [1], "question": ["q"], "image": [{"bytes": png("red"), "path": None}]}
                 ).to_parquet(d / "x.parquet")
    with pytest.raises(data.DataError, match="textvqa: column\\(s\\) answers missing"):
        data.load_benchmark("textvqa", 1, seed=0, source={"path": str(d)})


def test_textvqa_and_undecodable_images_are_skipped_with_a_count(tmp_path):
    d = tmp_path / "tv"
    d.mkdir()
    rows = [{"question_id": i, "question": f"what does sign {i} say?", "answers": ["stop"] * 7 + ["STOP"] * 3,
             "image": {"bytes": (b"not an image" if i in (0, 1, 2) else png("white")), "path": None},
             "image_classes": ["sign"]} for i in range(8)]
    pd.DataFrame(rows).to_parquet(d / "x.parquet")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        df = data.load_benchmark("textvqa", 5, seed=0, source={"path": str(d)})
    assert len(df) == 5 and not set(df["sample_id"]) & {"0", "1", "2"}
    assert df["answer"].iloc[0] == "stop"
    assert any("skipped 3 item(s) with undecodable images" in str(x.message) for x in w)
    with pytest.raises(data.DataError, match="only 5 of the requested 6"):
        data.load_benchmark("textvqa", 6, seed=0, source={"path": str(d)})


def test_non_rgb_images_are_normalised(tmp_path):
    d = tmp_path / "tv"
    d.mkdir()
    pd.DataFrame([{"question_id": 1, "question": "q", "answers": ["a"] * 10,
                   "image": {"bytes": rgba_png(), "path": None}}]).to_parquet(d / "x.parquet")
    df = data.load_benchmark("textvqa", 1, seed=0, source={"path": str(d)}, resize="none")
    img = Image.open(io.BytesIO(df["image"].iloc[0]))
    assert img.mode == "RGB" and img.size == (64, 80)


def test_gqa_joins_instructions_and_images(tmp_path):
    root = tmp_path / "gqa"
    (root / "instructions").mkdir(parents=True)
    (root / "images").mkdir()
    pd.DataFrame({"id": [f"q{i}" for i in range(6)], "imageId": ["n1", "n2", "n1", "n3", "n2", "n3"],
                  "question": [f"Is it {i}?" for i in range(6)], "answer": ["yes", "no"] * 3,
                  "isBalanced": [True] * 6}).to_parquet(root / "instructions" / "testdev.parquet")
    pd.DataFrame({"id": ["n1", "n2", "n3"],
                  "image": [{"bytes": png(c), "path": None} for c in ("red", "green", "blue")]}
                 ).to_parquet(root / "images" / "testdev.parquet")
    df = data.load_benchmark("gqa", 6, seed=1, source={"path": str(root)})
    q3 = df[df["sample_id"] == "q3"].iloc[0]
    assert q3["answers"] == ["no"] or list(q3["answers"]) == ["no"]
    arr = np.asarray(Image.open(io.BytesIO(q3["image"])))
    assert tuple(arr[100, 100]) == (0, 0, 255)  # n3 is blue


def mmbench_rows():
    rows = []
    for q in range(3):
        for rot in range(2):
            idx = q + rot * 1_000_000
            rows.append({"index": idx, "question": f"Question {q}?", "hint": "a hint" if q == 0 else None,
                         "A": "cat", "B": "dog", "C": "bird" if q != 1 else None, "D": None if q != 2 else "fish",
                         "answer": "AB"[rot], "category": "attribute", "L2-category": "perception",
                         "image": {"bytes": png((q * 50, 100, 100)), "path": None}})
    return rows


def test_mmbench_parquet_options_hint_and_circular_groups(tmp_path):
    d = tmp_path / "mmb"
    d.mkdir()
    pd.DataFrame(mmbench_rows()).to_parquet(d / "dev.parquet")
    df = data.load_benchmark("mmbench", 2, seed=0, source={"path": str(d)})
    assert len(df) == 4  # 2 questions x 2 rotations, kept together
    assert df.groupby("circular_group").size().eq(2).all()
    by_id = df.set_index("sample_id")
    if "1" in by_id.index:
        assert list(by_id.loc["1", "options"]) == ["cat", "dog"]  # empty C and D dropped
    if "0" in by_id.index:
        assert by_id.loc["0", "hint"] == "a hint"
    assert set(df["circular_group"]) == {int(s) % 1_000_000 for s in df["sample_id"]}


def test_mmbench_vlmevalkit_tsv_with_back_references(tmp_path):
    rows = mmbench_rows()
    tsv_rows = []
    for r in rows:
        img = base64.b64encode(r["image"]["bytes"]).decode()
        if r["index"] >= 1_000_000:
            img = str(r["index"] % 1_000_000)  # rotations point at the first row's image
        tsv_rows.append({**{k: v for k, v in r.items() if k != "image"}, "image": img})
    f = tmp_path / "MMBench_DEV_EN.tsv"
    pd.DataFrame(tsv_rows).to_csv(f, sep="\t", index=False)
    raw = hub.read_vlmevalkit_tsv(f)
    assert raw.loc[raw["index"] == 1_000_002, "image"].iloc[0] == raw.loc[raw["index"] == 2, "image"].iloc[0]
    df = data.load_benchmark("mmbench", 3, seed=0, source={"path": str(f)})
    assert len(df) == 6
    a = df[df["sample_id"] == "2"]["image_sha256"].iloc[0]
    b = df[df["sample_id"] == "1000002"]["image_sha256"].iloc[0]
    assert a == b


def test_mmbench_tsv_dangling_reference(tmp_path):
    f = tmp_path / "bad.tsv"
    pd.DataFrame([{"index": 5, "question": "q", "A": "x", "B": "y", "answer": "A", "image": "77"}]
                 ).to_csv(f, sep="\t", index=False)
    with pytest.raises(data.DataError, match="row index 5 refers to image of row 77"):
        hub.read_vlmevalkit_tsv(f)


def test_unreachable_hub_says_how_to_use_a_local_copy(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(data.DataError) as e:
        data.load_benchmark("textvqa", 2, seed=0)
    msg = str(e.value)
    assert "lmms-lab-encoder/textvqa" in msg and "benchmark.sources.textvqa.path" in msg


# --- bounded loading: ids first, the chosen rows' images only ------------------------------------

from vlmrobust.data import splits  # noqa: E402


def test_split_files_pick_one_split_of_one_config():
    vqa = ["README.md", "data/test-00000-of-00099.parquet", "data/testdev-00000-of-00020.parquet",
           "data/validation-00000-of-00068.parquet", "data/validation-00001-of-00068.parquet"]
    assert splits.split_files(vqa, None, "validation") == vqa[3:]
    gqa = ["testdev_balanced_images/testdev-00000-of-00001.parquet",
           "testdev_balanced_instructions/testdev-00000-of-00001.parquet",
           "train_balanced_instructions/train-00000-of-00010.parquet"]
    assert splits.split_files(gqa, "testdev_balanced_instructions", "testdev") == [gqa[1]]
    assert splits.split_files(gqa, "testdev_balanced_images", "testdev") == [gqa[0]]
    mmb = ["cn/dev-00000-of-00001.parquet", "en/dev-00000-of-00001.parquet", "en/test-00000-of-00001.parquet"]
    assert splits.split_files(mmb, "en", "dev") == ["en/dev-00000-of-00001.parquet"]
    assert splits.split_files(mmb, "fr", "dev") == []


def test_only_the_chosen_rows_row_groups_are_read(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from hub_layout import write_vqav2_split

    root = write_vqav2_split(tmp_path / "vqav2", rows=6000, files=3, row_group=500)
    reads = []
    orig = pq.ParquetFile.read_row_group

    def spy(self, i, columns=None, **kw):
        reads.append((i, tuple(columns or ())))
        return orig(self, i, columns=columns, **kw)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", spy)
    df = data.load_benchmark("vqav2", 20, seed=3, source={"path": str(root)})
    assert len(df) == 20 and df["sample_id"].is_unique
    # whole records (image included) are read through the chosen rows' row groups only: at most one read
    # per chosen row (fewer when rows share a group), never all 12 groups x 3 files
    assert 0 < len(reads) <= 20 + 8
    # the sample is the same as when the whole split is in memory (seeded order on the ids)
    full = pd.concat([pd.read_parquet(f) for f in sorted((root / "data").glob("*.parquet"))], ignore_index=True)
    order = hub.seeded_order(full["question_id"], 3)
    assert list(df["sample_id"]) == [str(q) for q in full["question_id"].iloc[order[:20]]]


def test_hub_reads_are_bounded_in_bytes(tmp_path, monkeypatch):
    """Through a filesystem in the hub's layout that counts bytes: sampling 20 rows reads the footers,
    the id columns and the chosen rows' row groups, a small share of the split, and gives the very
    rows a local read gives."""
    from hub_layout import CountingFileSystem, hub_tree, split_bytes

    import pyarrow.parquet as pq

    root = hub_tree(tmp_path / "hub", rows=6000, files=2, row_group=25, side=32, noise=True)
    fs = CountingFileSystem(root)
    monkeypatch.setattr(splits, "hub_filesystem", lambda: fs)
    df = data.load_benchmark("vqav2", 20, seed=3, source={"id": "lmms-lab-encoder/VQAv2", "split": "validation"})
    total = split_bytes(root)
    assert len(df) == 20 and fs.opened == 2  # each file opened once: its footer read once
    # what a bounded read may cost: each file's footer and id column, and at most the n + 8 candidates'
    # row groups (the loader reads a few candidates ahead, in case an image does not decode)
    files = sorted(root.rglob("*.parquet"))
    meta = [pq.ParquetFile(f).metadata for f in files]
    footers = sum(m.serialized_size + 8 for m in meta)
    ids = sum(m.row_group(g).column(0).total_compressed_size for m in meta for g in range(m.num_row_groups))
    group = max(m.row_group(g).total_byte_size for m in meta for g in range(m.num_row_groups))
    assert fs.bytes_read <= 1.1 * (footers + ids + (20 + 8) * group), (fs.bytes_read, footers, ids, group)
    assert fs.bytes_read < 0.25 * total, f"read {fs.bytes_read} of {total} bytes"
    local = data.load_benchmark("vqav2", 20, seed=3,
                                source={"path": str(root / "datasets" / "lmms-lab-encoder" / "VQAv2")})
    assert list(df["sample_id"]) == list(local["sample_id"]) and list(df["image_sha256"]) == list(local["image_sha256"])


def test_the_hub_listing_gives_the_split_files_and_sizes(tmp_path):
    from hub_layout import CountingFileSystem, hub_tree

    root = hub_tree(tmp_path / "hub", rows=40, files=2, row_group=10)
    files, sizes = splits.hub_split_files("lmms-lab-encoder/VQAv2", None, "validation", None, "vqav2",
                                          CountingFileSystem(root))
    assert files == ["data/validation-00000-of-00002.parquet", "data/validation-00001-of-00002.parquet"]
    assert all(v > 0 for v in sizes.values())
    with pytest.raises(splits.SplitError, match="no Parquet files of config None, split 'test'"):
        splits.hub_split_files("lmms-lab-encoder/VQAv2", None, "test", None, "vqav2", CountingFileSystem(root))
