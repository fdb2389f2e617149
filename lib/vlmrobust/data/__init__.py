"""Benchmarks behind one entry point: ``load_benchmark(name, n, seed, source=None)``.

Two kinds of dataset share the samples schema (``SAMPLE_COLUMNS``):

- the synthetic four-task benchmark (``synth-*``), rendered offline
  (``vlmrobust.data.synthetic``), the default of the demo run;
- the paper's GQA, VQAv2, TextVQA and MMBench, from the Hugging Face hub or a
  local copy (``vlmrobust.data.hub``), for paper mode, read bounded (``vlmrobust.data.splits``:
  ids first, the chosen rows' images only).

``DATASETS`` maps each name to the scorer the paper uses for it (and for its
synthetic twin): containment (GQA), vqa (VQAv2 soft score), exact (TextVQA),
mcq (MMBench letter extraction).
"""

from __future__ import annotations

import pandas as pd

from .hub import DataError

DATASETS: dict[str, dict] = {
    "synth-spatial": {"kind": "synthetic", "scorer": "containment", "twin": "gqa", "open_ended": True},
    "synth-vqa": {"kind": "synthetic", "scorer": "vqa", "twin": "vqav2", "open_ended": True},
    "synth-text": {"kind": "synthetic", "scorer": "exact", "twin": "textvqa", "open_ended": True},
    "synth-mcq": {"kind": "synthetic", "scorer": "mcq", "twin": "mmbench", "open_ended": False},
    "gqa": {"kind": "hub", "scorer": "containment", "twin": "gqa", "open_ended": True},
    "vqav2": {"kind": "hub", "scorer": "vqa", "twin": "vqav2", "open_ended": True},
    "textvqa": {"kind": "hub", "scorer": "exact", "twin": "textvqa", "open_ended": True},
    "mmbench": {"kind": "hub", "scorer": "mcq", "twin": "mmbench", "open_ended": False},
}

# display names in the order of the paper's tables
PAPER_NAMES = {"gqa": "GQA", "vqav2": "VQAv2", "textvqa": "TextVQA", "mmbench": "MMBench"}

SAMPLE_COLUMNS = [
    "dataset", "sample_id", "split", "question", "answers", "answer", "options", "hint",
    "category", "question_type", "circular_group", "image", "image_sha256", "width", "height",
]
# extra metadata carried by the synthetic benchmark (for subgroup analyses)
SYNTHETIC_META = ["lighting", "style", "object_size", "n_objects", "difficulty", "scene", "source"]


def load_benchmark(name: str, n: int, seed: int, source: dict | None = None, *, image_size: int = 224,
                   resize: str = "center_crop", split: str = "eval") -> pd.DataFrame:
    """``n`` items of benchmark ``name`` in the samples schema, deterministically from ``seed``.

    ``source`` overrides the hub id/config/split/revision or gives a local ``path``
    (paper mode); it is ignored by the synthetic datasets, which take ``split``
    (``eval`` or ``train``, disjoint streams) instead.
    """
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DataError(f"{name}: n must be a positive integer, got {n!r}")
    if DATASETS[name]["kind"] == "synthetic":
        from . import synthetic

        df = synthetic.generate(name, n, seed=seed, split=split)
        if image_size != synthetic.SIZE and resize != "none":
            from .hub import prepare_image
            import hashlib

            df["image"] = [prepare_image(b, image_size, resize) for b in df["image"]]
            df["image_sha256"] = [hashlib.sha256(b).hexdigest() for b in df["image"]]
            df["width"] = df["height"] = image_size
    else:
        from . import hub

        df = hub.load(name, n, seed, source, image_size=image_size, resize=resize)
    cols = SAMPLE_COLUMNS + [c for c in df.columns if c not in SAMPLE_COLUMNS]
    return df[cols]


def load_samples(params: dict) -> pd.DataFrame:
    """All datasets of a run's params, concatenated (the content of ``samples.parquet``)."""
    b = params["benchmark"]
    frames = [load_benchmark(name, b["n"], params["seed"], (b.get("sources") or {}).get(name),
                             image_size=b["image_size"], resize=b["resize"]) for name in b["datasets"]]
    return pd.concat(frames, ignore_index=True)


__all__ = ["DATASETS", "PAPER_NAMES", "SAMPLE_COLUMNS", "DataError", "load_benchmark", "load_samples"]
