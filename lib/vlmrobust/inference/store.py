"""The prediction store: ``outputs/<run>/predictions/<model>/<dataset>/part-<shard>-<n>.parquet``.

Each chunk is written atomically (temporary name, then rename). The key of a prediction is (model,
revision, dataset, sample_id, corruption, severity, prompt_variant); a re-run skips keys already
stored, so a run killed at any moment resumes with no duplicate and loses at most the chunk in
flight. A stored prediction counts as done only if it was made on the image the manifest now holds
for its key (``image_sha256``): stale predictions are dropped from their chunks and made again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from .. import artifacts, paths
from .planning import InferenceError

KEY = ["model", "revision", "dataset", "sample_id", "corruption", "severity", "prompt_variant"]
ITEM_KEY = ["dataset", "sample_id", "corruption", "severity", "prompt_variant"]


def item_keys(df: pd.DataFrame) -> list[tuple]:
    """The ``ITEM_KEY`` of each row as a tuple (severity as int), in row order."""
    return list(df[ITEM_KEY].astype({"severity": int}).itertuples(index=False, name=None))


class PredictionStore:
    """Parquet chunks of one model's predictions; atomic writes, key-based resume."""

    def __init__(self, root: Path, model: str, shard: str = "0/1"):
        self.root = Path(root) / model
        self.model = model
        self.shard_tag = str(shard).replace("/", "of")

    def chunks(self) -> list[Path]:
        return sorted(self.root.glob("*/part-*.parquet"))

    def read(self) -> pd.DataFrame:
        files = self.chunks()
        if not files:
            return pd.DataFrame(columns=KEY)
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)

    def done_keys(self, revision: str) -> set[tuple]:
        df = self.read()
        if df.empty:
            return set()
        return set(item_keys(df[df["revision"] == revision]))

    def drop_stale(self, revision: str, image_of: dict[tuple, str]) -> int:
        """Remove this revision's predictions whose key is in ``image_of`` but whose
        ``image_sha256`` is not the image given there (made on an image since replaced);
        returns how many. Each affected chunk is rewritten atomically without those rows."""
        dropped = 0
        for f in self.chunks():
            df = pd.read_parquet(f)
            expected = pd.Series([image_of.get(k) for k in item_keys(df)], index=df.index, dtype=object)
            stale = (df["revision"] == revision) & expected.notna() & (expected != df["image_sha256"])
            n = int(stale.sum())
            if not n:
                continue
            dropped += n
            if n == len(df):
                f.unlink()
            else:
                artifacts.write_parquet(df[~stale].reset_index(drop=True), f)
        return dropped

    def write(self, rows: list[dict]) -> Path | None:
        if not rows:
            return None
        df = pd.DataFrame(rows)
        digest = hashlib.sha256("\n".join(
            "|".join(map(str, k)) for k in df[ITEM_KEY].itertuples(index=False, name=None)).encode()).hexdigest()[:12]
        return artifacts.write_parquet(df, self.root / df["dataset"].iloc[0] / f"part-{self.shard_tag}-{digest}.parquet")


def load_predictions(run: str, root: Path | None = None) -> pd.DataFrame:
    """Every stored prediction of a run (all models); the latest revision per model. ``root``: another
    store of the run (the safety measurement's)."""
    root = root or paths.run_dir(run) / "predictions"
    files = sorted(root.glob("*/*/part-*.parquet"))
    if not files:
        raise artifacts.MissingArtifact(artifacts.how_to_make(run, artifacts.PREDICTIONS))
    df = pd.concat([pd.read_parquet(f).assign(_mtime=f.stat().st_mtime) for f in files], ignore_index=True)
    latest = df.sort_values("_mtime").groupby("model")["revision"].last()
    df = df[df["revision"] == df["model"].map(latest)].drop(columns="_mtime")
    dup = df.duplicated(KEY)
    if dup.any():
        raise InferenceError(f"{int(dup.sum())} duplicate prediction keys in {root} (two processes ran the "
                             f"same shard?); remove one copy")
    return df.reset_index(drop=True)
