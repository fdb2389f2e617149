"""Loaders for the paper's benchmarks: GQA, VQAv2, TextVQA, MMBench (paper mode).

Each loader reads the Hugging Face hub copy (its Parquet files, through ``huggingface_hub``) or a local copy,
and maps it to the samples schema (``vlmrobust.data.SAMPLE_COLUMNS``).

Hub ids, configs and columns (checked against lmms-eval's task files and dataset
cards; pin ``revision`` in params). lmms-eval's copies moved from ``lmms-lab`` to the
``lmms-lab-encoder`` organisation (the old ids redirect, but "should no longer be relied
on"), so the defaults name the new ones:

- GQA ``lmms-lab-encoder/GQA``: questions in config ``testdev_balanced_instructions``
  (``id``, ``imageId``, ``question``, ``answer``), images in
  ``testdev_balanced_images`` (``id``, ``image``), split ``testdev``; joined on
  ``imageId`` = ``id`` as lmms-eval's ``gqa_process_docs`` does.
- VQAv2 ``lmms-lab-encoder/VQAv2``, split ``validation``: ``question_id``, ``question``,
  ``answers`` (list of {answer, answer_confidence, answer_id}), ``image``,
  ``question_type``, ``answer_type``, ``multiple_choice_answer``.
- TextVQA ``lmms-lab-encoder/textvqa``, split ``validation``: ``question_id``,
  ``question``, ``answers`` (list of 10 strings), ``image``, ``image_classes``.
- MMBench ``lmms-lab-encoder/MMBench``, config ``en``, split ``dev``: ``index``,
  ``question``, ``hint``, ``answer`` (letter), ``A``-``D``, ``category``,
  ``L2-category``, ``image``. Also the VLMEvalKit TSV (``MMBench_DEV_EN.tsv``):
  base64 images, where an ``image`` field of at most 64 characters is the
  ``index`` of the row holding the image.

Local copies: ``benchmark.sources.<name>.path`` pointing at a directory of
Parquet files in the hub schema (for GQA: two sub-directories ``instructions/``
and ``images/``), or for MMBench a ``.tsv`` file.

Bounded reading (``splits``): a split is opened as its small columns only; the seeded sample is
drawn on the ids, and only the chosen rows' images are read (for Parquet: only the row groups
that hold them). From the hub only the split's own Parquet files are downloaded
(``huggingface_hub``), never the other splits and never the whole split into pandas: VQAv2's
validation split is 214,354 rows and about 34 GB with its images.

Undecodable images: the item is skipped and counted (a warning names the ids);
the sample is drawn from the seeded order until ``n`` decodable items are found,
so ``n`` and determinism are kept. Decision recorded in docs/decisions.md.
"""

from __future__ import annotations

import base64
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from .. import paths
from . import splits

DEFAULT_SOURCES: dict[str, dict[str, Any]] = {
    "gqa": {"id": "lmms-lab-encoder/GQA", "config": "testdev_balanced_instructions",
            "images_config": "testdev_balanced_images", "split": "testdev", "revision": None},
    "vqav2": {"id": "lmms-lab-encoder/VQAv2", "config": None, "split": "validation", "revision": None},
    "textvqa": {"id": "lmms-lab-encoder/textvqa", "config": None, "split": "validation", "revision": None},
    "mmbench": {"id": "lmms-lab-encoder/MMBench", "config": "en", "split": "dev", "revision": None},
}

REQUIRED_COLUMNS = {
    "gqa": ("id", "imageId", "question", "answer"),
    "vqav2": ("question_id", "question", "answers", "image"),
    "textvqa": ("question_id", "question", "answers", "image"),
    "mmbench": ("index", "question", "answer", "A", "B", "image"),
}
ID_COLUMN = {"gqa": "id", "vqav2": "question_id", "textvqa": "question_id", "mmbench": "index"}


class DataError(ValueError):
    """A benchmark cannot be loaded as configured; the message says what to do."""


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------

def _open_local(path: Path, name: str, keys) -> splits.ParquetSplit:
    files = splits.local_files(path)
    if not files:
        raise DataError(f"{name}: no Parquet files under {path}")
    try:
        return splits.ParquetSplit(files, name, keys)
    except splits.SplitError as e:
        raise DataError(str(e)) from None


def _hub(ds_id: str, config: str | None, split: str, revision: str | None, name: str, keys) -> splits.ParquetSplit:
    try:
        return splits.hub_split(ds_id, config, split, revision, name, keys)
    except Exception as e:  # noqa: BLE001 - offline, auth, missing config all land here
        raise DataError(
            f"{name}: cannot load '{ds_id}' (config {config!r}, split {split!r}) from the Hugging "
            f"Face hub: {type(e).__name__}: {str(e)[:200]}. Without network access, download it "
            f"elsewhere and set benchmark.sources.{name}.path in the params file to a local "
            f"directory of Parquet files in the hub schema") from None


def _image_bytes(value: Any) -> bytes | None:
    """Hub image cells come as {'bytes': ..., 'path': ...}, raw bytes, or base64 text."""
    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("bytes") is not None:
            return bytes(value["bytes"])
        if value.get("path"):
            return Path(value["path"]).read_bytes()
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return base64.b64decode(value)
    raise DataError(f"unsupported image cell of type {type(value).__name__}")


def open_split(name: str, source: dict):
    """The dataset in its own schema (hub or local) as a split: ``meta`` holds the id column (for
    sampling), ``records(rows)`` reads every column, image included, of the chosen rows only."""
    src = {**DEFAULT_SOURCES[name], **(source or {})}
    local = src.get("path")
    keys = [ID_COLUMN[name]]
    if name == "gqa":
        keys = ["id", "imageId"]
        if local:
            root = paths.resolve(local)
            q, im = _open_local(root / "instructions", name, keys), _open_local(root / "images", name, ["id"])
        else:
            q = _hub(src["id"], src["config"], src["split"], src["revision"], name, keys)
            im = _hub(src["id"], src["images_config"], src["split"], src["revision"], name, ["id"])
        _require(q.columns, name, REQUIRED_COLUMNS["gqa"], "instructions")
        _require(im.columns, name, ("id", "image"), "images")
        return splits.JoinedSplit(q, im, "imageId", "id")
    if local:
        p = paths.resolve(local)
        if name == "mmbench" and p.suffix == ".tsv":
            split = splits.FrameSplit(read_vlmevalkit_tsv(p), keys)
        else:
            split = _open_local(p, name, keys)
    else:
        split = _hub(src["id"], src["config"], src["split"], src["revision"], name, keys)
    _require(split.columns, name, REQUIRED_COLUMNS[name])
    return split


def _require(columns, name: str, cols, what: str = "") -> None:
    missing = [c for c in cols if c not in columns]
    if missing:
        part = f" ({what})" if what else ""
        raise DataError(f"{name}{part}: column(s) {', '.join(missing)} missing; found: "
                        f"{', '.join(map(str, columns))}")


def read_vlmevalkit_tsv(path: Path) -> pd.DataFrame:
    """VLMEvalKit's MMBench TSV: base64 images; short image fields reference another row's index."""
    if not path.is_file():
        raise DataError(f"mmbench: no such file {path}")
    df = pd.read_csv(path, sep="\t", dtype={"index": "int64", "image": str}, keep_default_na=False)
    _require(df.columns, "mmbench", REQUIRED_COLUMNS["mmbench"])
    by_index = dict(zip(df["index"], df["image"]))
    resolved = []
    for idx, img in zip(df["index"], df["image"]):
        seen = set()
        while isinstance(img, str) and len(img) <= 64:  # a back-reference to another row
            if img in seen or not img.strip().lstrip("-").isdigit():
                raise DataError(f"mmbench TSV {path.name}: row index {idx} has an image field "
                                f"{img!r} that is neither base64 nor a valid row index")
            seen.add(img)
            ref = int(img)
            if ref not in by_index:
                raise DataError(f"mmbench TSV {path.name}: row index {idx} refers to image of "
                                f"row {ref}, which does not exist")
            img = by_index[ref]
        resolved.append(img)
    df = df.copy()
    df["image"] = resolved
    return df


# ---------------------------------------------------------------------------
# mapping to the samples schema
# ---------------------------------------------------------------------------

def prepare_image(data: bytes, size: int, policy: str) -> bytes:
    """Decode, convert to RGB, apply the resize policy, re-encode losslessly as PNG."""
    img = Image.open(io.BytesIO(data))
    img = img.convert("RGB")
    if policy == "center_crop":  # shorter side to `size`, then centre crop (ImageNet-C style)
        w, h = img.size
        scale = size / min(w, h)
        img = img.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BICUBIC)
        w, h = img.size
        left, top = (w - size) // 2, (h - size) // 2
        img = img.crop((left, top, left + size, top + size))
    elif policy == "resize":
        img = img.resize((size, size), Image.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _row(name: str, r: dict) -> dict:
    """One raw row -> samples-schema fields (without image handling)."""
    base = {"hint": "", "options": [], "category": name, "question_type": "", "circular_group": None}
    if name == "gqa":
        return {**base, "sample_id": str(r["id"]), "question": r["question"], "answers": [str(r["answer"])],
                "answer": str(r["answer"]), "question_type": str(r.get("types", "") or "")}
    if name == "vqav2":
        answers = [a["answer"] if isinstance(a, dict) else str(a) for a in r["answers"]]
        return {**base, "sample_id": str(r["question_id"]), "question": r["question"], "answers": answers,
                "answer": str(r.get("multiple_choice_answer") or answers[0]),
                "question_type": str(r.get("answer_type", "") or ""),
                "category": str(r.get("question_type", "") or "")}
    if name == "textvqa":
        answers = [str(a) for a in r["answers"]]
        return {**base, "sample_id": str(r["question_id"]), "question": r["question"], "answers": answers,
                "answer": max(set(answers), key=answers.count)}
    if name == "mmbench":
        opts = []
        for letter in "ABCDEFGH":
            v = r.get(letter)
            if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() in ("", "nan"):
                break  # options are contiguous; an empty one ends the list
            opts.append(str(v))
        index = int(r["index"])
        hint = r.get("hint")
        hint = "" if hint is None or (isinstance(hint, float) and np.isnan(hint)) or str(hint) == "nan" else str(hint)
        return {**base, "sample_id": str(index), "question": r["question"], "answers": [str(r["answer"])],
                "answer": str(r["answer"]).strip(), "options": opts, "hint": hint,
                "category": str(r.get("category", "") or ""),
                "question_type": str(r.get("L2-category", r.get("l2-category", "")) or ""),
                "circular_group": index % 1_000_000}
    raise KeyError(name)


def seeded_order(ids: pd.Series, seed: int) -> np.ndarray:
    """Row positions in a seed-determined order, stable across machines.

    Rows are first sorted by id (hub row order is not guaranteed), then permuted
    with numpy's PCG64 generator seeded with ``seed``.
    """
    order = np.argsort(ids.astype(str).to_numpy(), kind="stable")
    return order[np.random.default_rng(seed).permutation(len(order))]


def load(name: str, n: int, seed: int, source: dict | None = None, image_size: int = 224,
         resize: str = "center_crop") -> pd.DataFrame:
    """``n`` items of a real benchmark in the samples schema (see module docstring)."""
    import hashlib

    split = open_split(name, source or {})
    raw = split.meta
    if name == "mmbench":
        # sample whole circular groups (one question's rotations stay together)
        raw = raw.assign(_group=raw["index"].astype(int) % 1_000_000)
        groups = raw.drop_duplicates("_group")
        if n > len(groups):
            raise DataError(f"mmbench: n = {n} is larger than the split ({len(groups)} questions)")
        order = seeded_order(groups["_group"], seed)
        candidates = [groups.index[i] for i in order]
    else:
        if n > len(raw):
            raise DataError(f"{name}: n = {n} is larger than the split ({len(raw)} rows)")
        order = seeded_order(raw[ID_COLUMN[name]], seed)
        candidates = list(raw.index[order])
    group_rows = raw.groupby("_group").groups if name == "mmbench" else None
    rows, skipped = [], []
    cells: dict = {}  # records read so far, in chunks of candidates (only the chosen rows are read)
    for pos, idx in enumerate(candidates):
        if len(rows) >= n:
            break
        targets = [idx] if group_rows is None else list(group_rows[raw.loc[idx, "_group"]])
        if any(t not in cells for t in targets):
            chunk = candidates[pos:pos + max(n - len(rows), 1) + 8]
            want = [t for c in chunk for t in ([c] if group_rows is None else group_rows[raw.loc[c, "_group"]])]
            cells.update(zip(want, split.records(want)))
        batch = []
        for t in targets:
            r = cells[t]
            fields = _row(name, r)
            try:
                data = _image_bytes(r.get("image"))
                if data is None:
                    raise ValueError("no image")
                img = prepare_image(data, image_size, resize)
            except Exception:  # noqa: BLE001 - undecodable: skip and count
                skipped.append(fields["sample_id"])
                batch = None
                break
            w, h = Image.open(io.BytesIO(img)).size
            batch.append({"dataset": name, **fields, "split": (source or {}).get("split") or
                          DEFAULT_SOURCES[name]["split"], "image": img,
                          "image_sha256": hashlib.sha256(img).hexdigest(), "width": w, "height": h})
        if batch:
            rows.append(batch)
    if len(rows) < n:
        raise DataError(f"{name}: only {len(rows)} of the requested {n} items have decodable images "
                        f"({len(skipped)} skipped)")
    if skipped:
        warnings.warn(f"{name}: skipped {len(skipped)} item(s) with undecodable images: "
                      f"{', '.join(skipped[:10])}{' ...' if len(skipped) > 10 else ''}", stacklevel=2)
    flat = [r for group in rows for r in group]
    df = pd.DataFrame(flat)
    df.attrs["skipped_undecodable"] = skipped
    return df
