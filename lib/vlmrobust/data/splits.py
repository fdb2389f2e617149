"""A benchmark split read in two steps: every row's small columns first, images only for the chosen rows.

Why: VQAv2's validation split is 214,354 rows and about 34 GB with its images. Converting it to
pandas (or letting ``datasets.load_dataset`` prepare every split) cannot work on a normal machine,
yet a run samples 50-500 items. So a split is a ``meta`` frame of its key columns (the ids the
sample is drawn on) plus ``records(rows)``, which reads every column, image included, of just those
rows: for Parquet, only the row groups that hold them. From the hub the files are read in place by
ranged requests (``huggingface_hub.HfFileSystem``): the footers, the key columns and the chosen rows'
row groups; no file of the split, let alone of another split, is downloaded whole.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

IMAGE = "image"


class SplitError(ValueError):
    """A split's files cannot be found or read; the message says which and where."""


BLOCK = 1 << 20  # bytes per ranged read from a remote filesystem (each a separate request)


class ParquetSplit:
    """Parquet files of one split: ``meta`` (the key columns only) in memory; whole records, image
    included, read for chosen rows from the row groups that hold them.

    ``fs``: an fsspec filesystem the files are paths of (``huggingface_hub.HfFileSystem`` for the hub);
    a file is then never downloaded whole: pyarrow reads its footer, the key columns' chunks and the
    chosen row groups by ranged reads of ``BLOCK`` bytes. Without ``fs``, local files."""

    def __init__(self, files: Sequence, name: str, keys: Sequence[str], fs=None):
        self.fs = fs
        self._opened: dict = {}  # one ParquetFile per file: its footer is read once
        self.files = list(files) if fs is not None else [Path(f) for f in files]
        if not self.files:
            raise SplitError(f"{name}: no Parquet files")
        self.columns = list(self._open(0).schema_arrow.names)
        missing = [k for k in keys if k not in self.columns]
        if missing:
            raise SplitError(f"{name}: column(s) {', '.join(missing)} missing; found: {', '.join(self.columns)}")
        parts = []
        self._groups = []  # per file: the first row of each row group
        for k in range(len(self.files)):
            pf = self._open(k)
            t = pf.read(columns=list(keys)).to_pandas()
            t["_file"], t["_row"] = k, np.arange(len(t))
            parts.append(t)
            sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
            self._groups.append(np.concatenate([[0], np.cumsum(sizes)]))
        self.meta = pd.concat(parts, ignore_index=True)

    def _open(self, k: int):
        import pyarrow.parquet as pq

        if k not in self._opened:
            self._opened[k] = (pq.ParquetFile(self.files[k]) if self.fs is None else
                               pq.ParquetFile(self.fs.open(self.files[k], "rb", block_size=BLOCK, cache_type="readahead")))
        return self._opened[k]

    def records(self, rows: Sequence[int]) -> list[dict]:
        """Every column of ``meta`` rows ``rows`` (in that order), reading only their row groups."""
        sel = self.meta.loc[list(rows), ["_file", "_row"]]
        out: dict[int, dict] = {}
        for k, g in sel.groupby("_file"):
            pf = self._open(int(k))
            bounds = self._groups[k]
            group_of = np.searchsorted(bounds, g["_row"].to_numpy(), side="right") - 1
            for gi in np.unique(group_of):
                mine = g[group_of == gi]
                t = pf.read_row_group(int(gi)).take((mine["_row"].to_numpy() - bounds[gi]).tolist())
                out.update(zip(mine.index, t.to_pylist()))
        return [out[r] for r in rows]


class FrameSplit:
    """A split already in memory (VLMEvalKit's MMBench TSV): the same interface."""

    def __init__(self, df: pd.DataFrame, keys: Sequence[str]):
        self._df, self.columns = df, list(df.columns)
        self.meta = df[list(keys)]

    def records(self, rows: Sequence[int]) -> list[dict]:
        return [self._df.loc[r].to_dict() for r in rows]


class JoinedSplit:
    """GQA: questions in one split, images in another, joined on ``key`` (imageId) = ``image_key`` (id)."""

    def __init__(self, questions, images, key: str, image_key: str):
        self.meta, self.columns, self._q, self._img, self._key = questions.meta, questions.columns, questions, images, key
        self._row_of = dict(zip(images.meta[image_key].astype(str), images.meta.index))

    def records(self, rows: Sequence[int]) -> list[dict]:
        recs = self._q.records(rows)
        found = [self._row_of.get(str(r[self._key])) for r in recs]
        images = iter(self._img.records([f for f in found if f is not None]))
        return [{**r, IMAGE: next(images)[IMAGE] if f is not None else None} for r, f in zip(recs, found)]


def local_files(path: Path) -> list[Path]:
    return sorted(path.rglob("*.parquet")) if path.is_dir() else [path]


def split_files(listing: Sequence[str], config: str | None, split: str) -> list[str]:
    """The Parquet files of one split in a hub dataset repository's file listing.

    The hub's layouts: ``<config>/<split>-00000-of-00002.parquet`` (config sub-directory),
    ``data/<split>-00000-of-00068.parquet`` (no config), ``<config>/<split>/*.parquet``, or one file
    per split, ``data/<config>/<split>.parquet`` (MM-SafetyBench).
    """
    parquet = [f for f in listing if f.endswith(".parquet")]
    # with a config, only its directory (files elsewhere belong to other configs)
    prefixes = [f"{config}/", f"data/{config}/"] if config else ["data/", ""]
    for prefix in prefixes:
        hits = [f for f in parquet if fnmatch.fnmatch(f, f"{prefix}{split}-*.parquet")
                or fnmatch.fnmatch(f, f"{prefix}{split}/*.parquet") or f == f"{prefix}{split}.parquet"]
        if hits:
            return sorted(hits)
    return []


def hub_filesystem():
    """The hub as an fsspec filesystem (``huggingface_hub.HfFileSystem``: the login and cache settings of
    ``huggingface_hub``); the tests put a local filesystem in the hub's layout in its place."""
    from huggingface_hub import HfFileSystem

    return HfFileSystem()


def hub_paths(ds_id: str, revision: str | None, files: Sequence[str]) -> list[str]:
    """``HfFileSystem`` paths of a dataset repository's files (at ``revision``)."""
    at = f"@{revision}" if revision else ""
    return [f"datasets/{ds_id}{at}/{f}" for f in files]


def hub_split_files(ds_id: str, config: str | None, split: str, revision: str | None, name: str,
                    fs=None) -> tuple[list[str], dict[str, int]]:
    """The split's Parquet files on the hub and their sizes in bytes (one listing request, no data)."""
    fs = fs or hub_filesystem()
    at = f"@{revision}" if revision else ""
    listing = fs.find(f"datasets/{ds_id}{at}", detail=True)
    rel = {p.split(f"datasets/{ds_id}{at}/", 1)[-1]: info.get("size", 0) for p, info in listing.items()}
    files = split_files(list(rel), config, split)
    if not files:
        raise SplitError(f"{name}: no Parquet files of config {config!r}, split {split!r} in {ds_id}; "
                         f"the repository holds e.g. {', '.join(list(rel)[:6])}")
    return files, {f: int(rel[f]) for f in files}


def hub_split(ds_id: str, config: str | None, split: str, revision: str | None, name: str,
              keys: Sequence[str], fs=None) -> ParquetSplit:
    """The split's Parquet files read in place on the hub (``huggingface_hub.HfFileSystem``, ranged
    reads): footers, the key columns, then only the chosen rows' row groups; nothing is downloaded
    whole."""
    fs = fs or hub_filesystem()
    files, _ = hub_split_files(ds_id, config, split, revision, name, fs)
    return ParquetSplit(hub_paths(ds_id, revision, files), name, keys, fs=fs)
