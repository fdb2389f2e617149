"""A benchmark split read in two steps: every row's small columns first, images only for the chosen rows.

Why: VQAv2's validation split is 214,354 rows and about 34 GB with its images. Converting it to
pandas (or letting ``datasets.load_dataset`` prepare every split) cannot work on a normal machine,
yet a run samples 50-500 items. So a split is a ``meta`` frame of its key columns (the ids the
sample is drawn on) plus ``records(rows)``, which reads every column, image included, of just those
rows: for Parquet, only the row groups that hold them. From the hub, only the chosen split's Parquet files are fetched
(``split_files`` picks them from the repository listing), never the other splits.
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


class ParquetSplit:
    """Parquet files of one split: ``meta`` (the key columns only) in memory; whole records, image
    included, read for chosen rows from the row groups that hold them."""

    def __init__(self, files: Sequence[Path], name: str, keys: Sequence[str]):
        self.files = [Path(f) for f in files]
        if not self.files:
            raise SplitError(f"{name}: no Parquet files")
        import pyarrow.parquet as pq

        self.columns = list(pq.ParquetFile(self.files[0]).schema_arrow.names)
        missing = [k for k in keys if k not in self.columns]
        if missing:
            raise SplitError(f"{name}: column(s) {', '.join(missing)} missing; found: {', '.join(self.columns)}")
        parts = []
        self._groups = []  # per file: the first row of each row group
        for k, f in enumerate(self.files):
            pf = pq.ParquetFile(f)
            t = pf.read(columns=list(keys)).to_pandas()
            t["_file"], t["_row"] = k, np.arange(len(t))
            parts.append(t)
            sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
            self._groups.append(np.concatenate([[0], np.cumsum(sizes)]))
        self.meta = pd.concat(parts, ignore_index=True)

    def records(self, rows: Sequence[int]) -> list[dict]:
        """Every column of ``meta`` rows ``rows`` (in that order), reading only their row groups."""
        import pyarrow.parquet as pq

        sel = self.meta.loc[list(rows), ["_file", "_row"]]
        out: dict[int, dict] = {}
        for k, g in sel.groupby("_file"):
            pf = pq.ParquetFile(self.files[k])
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
    ``data/<split>-00000-of-00068.parquet`` (no config), or ``<config>/<split>/*.parquet``.
    """
    parquet = [f for f in listing if f.endswith(".parquet")]
    # with a config, only its directory (files elsewhere belong to other configs)
    prefixes = [f"{config}/"] if config else ["data/", ""]
    for prefix in prefixes:
        hits = [f for f in parquet if fnmatch.fnmatch(f, f"{prefix}{split}-*.parquet")
                or fnmatch.fnmatch(f, f"{prefix}{split}/*.parquet")]
        if hits:
            return sorted(hits)
    return []


def hub_split(ds_id: str, config: str | None, split: str, revision: str | None, name: str,
              keys: Sequence[str]) -> ParquetSplit:
    """Download only the split's Parquet files (``huggingface_hub``), then read them bounded."""
    from huggingface_hub import hf_hub_download, list_repo_files

    listing = list_repo_files(ds_id, repo_type="dataset", revision=revision)
    files = split_files(listing, config, split)
    if not files:
        raise SplitError(f"{name}: no Parquet files of config {config!r}, split {split!r} in {ds_id}; "
                         f"the repository holds e.g. {', '.join(listing[:6])}")
    local = [hf_hub_download(ds_id, f, repo_type="dataset", revision=revision) for f in files]
    return ParquetSplit(local, name, keys)
