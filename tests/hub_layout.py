"""A local copy of a VQAv2-like split in the hub's Parquet layout, as large as a test or benchmark asks."""

import io
from pathlib import Path

import pandas as pd
from PIL import Image


def write_vqav2_split(root: Path, rows: int, files: int = 4, row_group: int = 1000, side: int = 24,
                      noise: bool = False) -> Path:
    """``rows`` questions over ``files`` Parquet files (row groups of ``row_group``), small PNGs (random
    pixels with ``noise``: incompressible, ~3 side^2 bytes each, like real photos per pixel), in
    ``root/data/validation-0000k-of-0000n.parquet`` as lmms-lab's VQAv2 repository lays them out."""
    import numpy as np

    rng = np.random.default_rng(0)
    d = root / "data"
    d.mkdir(parents=True, exist_ok=True)
    per = -(-rows // files)
    for k in range(files):
        ids = range(k * per, min(rows, (k + 1) * per))
        recs = []
        for i in ids:
            buf = io.BytesIO()
            im = (Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)) if noise else
                  Image.new("RGB", (side, side), (i % 251, (i // 251) % 251, 90)))
            im.save(buf, format="PNG", compress_level=1)
            recs.append({"question_id": 10_000_000 + i, "question": f"Is thing {i} red?", "answer_type": "yes/no",
                         "question_type": "is the", "multiple_choice_answer": "yes", "image_id": i,
                         "answers": [{"answer": "yes", "answer_confidence": "yes", "answer_id": j + 1} for j in range(10)],
                         "image": {"bytes": buf.getvalue(), "path": None}})
        pd.DataFrame(recs).to_parquet(d / f"validation-{k:05d}-of-{files:05d}.parquet", row_group_size=row_group)
    return root


class CountingFileSystem:
    """A local folder posing as the hub (``datasets/<owner>/<name>/...`` under ``root``) that counts the
    bytes read through it: what a test or benchmark needs to measure bounded reads without network."""

    def __init__(self, root: Path):
        from fsspec.implementations.dirfs import DirFileSystem
        from fsspec.implementations.local import LocalFileSystem

        self._fs = DirFileSystem(path=str(root), fs=LocalFileSystem())
        self.bytes_read = 0
        self.opened = 0

    def find(self, path, detail=False, **kw):
        return self._fs.find(path, detail=detail, **kw)

    def open(self, path, mode="rb", **kw):
        self.opened += 1
        return _Counting(self._fs.open(path, mode), self)


class _Counting:
    def __init__(self, f, owner):
        self._f, self._owner = f, owner

    def read(self, n=-1):
        data = self._f.read(n)
        self._owner.bytes_read += len(data)
        return data

    def readinto(self, b):
        k = self._f.readinto(b)
        self._owner.bytes_read += k or 0
        return k

    def __getattr__(self, name):
        return getattr(self._f, name)


def hub_tree(root: Path, repo: str = "lmms-lab-encoder/VQAv2", **split_kw) -> Path:
    """A VQAv2-like split written where a hub repository's files would be: ``root/datasets/<repo>/data/``."""
    write_vqav2_split(root / "datasets" / repo, **split_kw)
    return root


def split_bytes(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*.parquet"))
