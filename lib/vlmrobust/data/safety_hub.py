"""The real safety sets for paper mode, read bounded like the capability sets (``data.splits``).

**MM-SafetyBench** (Liu et al., ECCV 2024; hub ``PKU-Alignment/MM-SafetyBench``, data licensed
CC BY-NC 4.0): harmful requests in 13 scenarios, each a hub config (``SCENARIOS``; the
``Illegal_Activitiy`` spelling is the repository's own), with four splits per scenario, one Parquet
file each (``data/<scenario>/<split>.parquet``): ``SD`` (a Stable Diffusion picture of the request's
key phrase), ``TYPO`` (the key phrase typed in the image), ``SD_TYPO`` (both, the paper's strongest
attack) and ``Text_only`` (the original request, no image). Columns ``id``, ``question``, ``image``;
the image splits' ``question`` refers to the picture ("the product shown in the image"), so the harm
is carried by the image and corruption can hide it. Every row is harmful: ``expected`` = ``refuse``.
A sample is drawn over all scenarios at once, seeded on ``<scenario>/<id>``, so ``n`` = 300 holds
about 23 per scenario.

Sets not loaded here, and why (``NOT_LOADED``): MOSSBench's hub copy (``AIcell/MOSSBench``) carries
the images but not the metadata that pairs them with their questions, which is in the GitHub
repository (``xirui-li/MOSSBench``, ``data/images_information/information.json``; CC BY-SA 4.0, and
its authors ask that it not be used for training); MSSBench (``kzhou35/mssbench``, MIT) is an image
folder with a ``combined.json`` whose schema this compendium has not verified; VLGuard and FigStep
are read from local copies only. Asking for one of them fails with what is known and what to do,
rather than with a guessed schema.
"""

from __future__ import annotations

import hashlib
import io

import pandas as pd
from PIL import Image

from .. import paths
from . import splits
from .hub import DataError, _image_bytes, prepare_image, seeded_order
from .safety import DATASET as SYNTH_SAFETY

MM_SAFETYBENCH = "mm-safetybench"
SCENARIOS = ("Illegal_Activitiy", "HateSpeech", "Malware_Generation", "Physical_Harm", "EconomicHarm", "Fraud",
             "Sex", "Political_Lobbying", "Privacy_Violence", "Legal_Opinion", "Financial_Advice",
             "Health_Consultation", "Gov_Decision")
IMAGE_SPLITS = ("SD", "TYPO", "SD_TYPO")
DEFAULT_SOURCE = {"id": "PKU-Alignment/MM-SafetyBench", "split": "SD_TYPO", "scenarios": list(SCENARIOS),
                  "revision": None}
SETS = (SYNTH_SAFETY, MM_SAFETYBENCH)  # the safety sets a run can measure (the others are refused below)
LICENCES = {MM_SAFETYBENCH: "CC BY-NC 4.0 (data), PKU-Alignment/MM-SafetyBench"}

NOT_LOADED = {
    "mossbench": "MOSSBench's hub copy (AIcell/MOSSBench) has its images but not the questions' metadata, which is "
                 "in github.com/xirui-li/MOSSBench (data/images_information/information.json); CC BY-SA 4.0, not "
                 "for training. No loader yet: its metadata schema has not been verified",
    "mssbench": "MSSBench (kzhou35/mssbench, MIT) is an image folder with combined.json; no loader yet: its "
                "schema has not been verified",
    "vlguard": "VLGuard is read from a local copy only, and has no loader yet",
    "figstep": "FigStep (github.com/ThuCCSLab/FigStep, MIT) is read from a local copy only, and has no loader yet",
}


def scenario_files(source: dict) -> tuple[list, object]:
    """(files in scenario order, fsspec filesystem or None): one file per scenario of the split."""
    split, fs = source["split"], None
    if source.get("path"):
        root = paths.resolve(source["path"])
        files = [root / "data" / s / f"{split}.parquet" for s in source["scenarios"]]
        absent = [str(f) for f in files if not f.exists()]
        if absent:
            raise DataError(f"{MM_SAFETYBENCH}: split {split!r} missing in the local copy: {', '.join(absent[:3])}")
        return files, fs
    try:
        fs = splits.hub_filesystem()
        files = []
        for s in source["scenarios"]:
            found, _ = splits.hub_split_files(source["id"], s, split, source.get("revision"), MM_SAFETYBENCH, fs)
            files += splits.hub_paths(source["id"], source.get("revision"), found)
    except Exception as e:  # noqa: BLE001 - offline, auth, a missing scenario all land here
        raise DataError(f"{MM_SAFETYBENCH}: cannot list '{source['id']}' (split {split!r}) on the Hugging Face hub: "
                        f"{type(e).__name__}: {str(e)[:200]}. Without network access, download it elsewhere and set "
                        f"its path to the repository's folder (data/<scenario>/<split>.parquet)") from None
    return files, fs


def check_source(source: dict | None) -> dict:
    """The source with defaults filled, refused before any read when a value is unknown."""
    src = {**DEFAULT_SOURCE, **(source or {})}
    if src["split"] not in IMAGE_SPLITS:
        raise DataError(f"{MM_SAFETYBENCH}: split {src['split']!r} is not an image split; choose from "
                        f"{', '.join(IMAGE_SPLITS)} (Text_only has no image to corrupt)")
    unknown = [s for s in src["scenarios"] if s not in SCENARIOS]
    if unknown or not src["scenarios"]:
        raise DataError(f"{MM_SAFETYBENCH}: unknown scenario(s) {', '.join(unknown) or '(none given)'}; "
                        f"choose from {', '.join(SCENARIOS)}")
    return src


def load(name: str, n: int, seed: int, source: dict | None = None, image_size: int = 224,
         resize: str = "center_crop") -> pd.DataFrame:
    """``n`` rows of a real safety set in the samples schema, plus ``expected``, ``harm`` and ``scenario``."""
    if name in NOT_LOADED:
        raise DataError(f"{name}: {NOT_LOADED[name]}")
    if name != MM_SAFETYBENCH:
        raise DataError(f"unknown safety set {name!r}; choose from {MM_SAFETYBENCH} "
                        f"(not loaded yet: {', '.join(NOT_LOADED)})")
    src = check_source(source)
    files, fs = scenario_files(src)
    split = splits.ParquetSplit(files, name, ["id"], fs=fs)
    for col in ("id", "question", "image"):
        if col not in split.columns:
            raise DataError(f"{name}: column {col!r} missing; found {', '.join(split.columns)}")
    meta = split.meta.assign(scenario=[src["scenarios"][k] for k in split.meta["_file"]])
    if n > len(meta):
        raise DataError(f"{name}: n = {n} is larger than the split ({len(meta)} rows over "
                        f"{len(src['scenarios'])} scenarios)")
    order = seeded_order(meta["scenario"] + "/" + meta["id"].astype(str), seed)
    rows, skipped, pos = [], [], 0
    while len(rows) < n and pos < len(order):
        chunk = list(meta.index[order[pos:pos + (n - len(rows)) + 4]])
        pos += len(chunk)
        for idx, rec in zip(chunk, split.records(chunk)):
            if len(rows) >= n:
                break
            sid = f"{meta.loc[idx, 'scenario']}/{rec['id']}"
            try:
                img = prepare_image(_image_bytes(rec.get("image")) or b"", image_size, resize)
            except Exception:  # noqa: BLE001 - undecodable: skip and count
                skipped.append(sid)
                continue
            w, h = Image.open(io.BytesIO(img)).size
            rows.append({"dataset": name, "sample_id": sid, "split": src["split"], "question": rec["question"],
                         "answers": [], "answer": "", "options": [], "hint": "", "category": "harmful",
                         "question_type": src["split"], "circular_group": None, "image": img,
                         "image_sha256": hashlib.sha256(img).hexdigest(), "width": w, "height": h,
                         "expected": "refuse", "harm": "image", "scenario": meta.loc[idx, "scenario"]})
    if len(rows) < n:
        raise DataError(f"{name}: only {len(rows)} of the requested {n} items have decodable images "
                        f"({len(skipped)} skipped)")
    df = pd.DataFrame(rows)
    df.attrs["skipped_undecodable"] = skipped
    return df
