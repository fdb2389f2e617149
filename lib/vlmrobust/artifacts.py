"""The files stages exchange under ``outputs/<run>/`` and how they are written.

Every table is written atomically (temporary name, then ``os.replace``), so a
killed process never leaves a half-written Parquet file where the next stage
would read it. Readers fail with a message that names the stage to run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from . import paths

SAMPLES = "samples.parquet"
MANIFEST = "corruptions/manifest.parquet"
SCORES = "scores.parquet"

PRODUCED_BY = {SAMPLES: "01_corruptions (make corruptions)", MANIFEST: "01_corruptions (make corruptions)",
               SCORES: "03_scoring (make scoring)", "predictions": "02_inference (make inference)"}


class MissingArtifact(FileNotFoundError):
    """A stage's input is missing: the message says which notebook makes it."""


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def path(run: str, name: str) -> Path:
    return paths.run_dir(run) / name


def read(run: str, name: str) -> pd.DataFrame:
    p = path(run, name)
    if not p.exists():
        maker = PRODUCED_BY.get(name, "the stage that writes it")
        raise MissingArtifact(f"{p} does not exist; run {maker} for run '{run}' first")
    return pd.read_parquet(p)


def write_table(df: pd.DataFrame, run: str, name: str, floatfmt: str = ".3f", index: bool = True) -> Path:
    """A table for people and machines: CSV, Markdown and LaTeX under ``tables/``."""
    d = paths.tables_dir(run)
    df.to_csv(d / f"{name}.csv", index=index)
    (d / f"{name}.md").write_text(df.to_markdown(floatfmt=floatfmt, index=index) + "\n")
    (d / f"{name}.tex").write_text(df.to_latex(float_format=lambda x: format(x, floatfmt), index=index))
    return d / f"{name}.csv"
