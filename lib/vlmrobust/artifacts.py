"""The files stages exchange under ``outputs/<run>/``, who makes them, and how they are written.

Every file is written atomically (temporary name in the same folder, then ``os.replace``),
so a killed process never leaves a half-written file where the next stage would read it.
``write_bytes`` is the one atomic writer; the others encode and call it. Readers fail with
a message that names the stage to run (``PRODUCED_BY``); the runner checks a notebook's
inputs (``NEEDS``) before it starts a kernel, so a stage run out of order says what to run
first instead of failing minutes later.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd

from . import paths

SAMPLES = "samples.parquet"
MANIFEST = "corruptions/manifest.parquet"
PREDICTIONS = "predictions"
SCORES = "scores.parquet"
ZOO = "zoo/zoo.json"  # the demo zoo's metadata, written last by its training

PRODUCED_BY = {  # artifact -> (notebook, make target)
    ZOO: ("00_demo_zoo", "zoo"),
    SAMPLES: ("01_corruptions", "corruptions"),
    MANIFEST: ("01_corruptions", "corruptions"),
    PREDICTIONS: ("02_inference", "inference"),
    SCORES: ("03_scoring", "scoring"),
}

NEEDS = {  # notebook number -> the artifacts it reads (ZOO only when the run has a demo zoo)
    "02": (SAMPLES, MANIFEST, ZOO),
    "03": (SAMPLES, PREDICTIONS),
    "04": (SCORES,),
    "05": (SAMPLES, SCORES),
    "06": (SCORES,),
    "07": (SAMPLES, SCORES),
    "08": (SAMPLES, SCORES),
    "10": (PREDICTIONS, SCORES),
    "11": (ZOO,),  # the safety measurement makes its own items, images and responses (safety_eval)
    "12": (SCORES,),
}


class MissingArtifact(FileNotFoundError):
    """A stage's input is missing: the message says which notebook makes it."""


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (the one atomic writer of the project)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def write_text(path: str | Path, text: str) -> Path:
    return write_bytes(path, text.encode())


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return write_bytes(path, buf.getvalue())


def path(run: str, name: str) -> Path:
    return paths.run_dir(run) / name


def exists(run: str, name: str) -> bool:
    """Is the artifact there (for ``predictions``: at least one chunk)?"""
    p = path(run, name)
    return any(p.glob("*/*/part-*.parquet")) if name == PREDICTIONS else p.exists()


def how_to_make(run: str, name: str) -> str:
    notebook, target = PRODUCED_BY.get(name, ("the stage that writes it", None))
    how = f"`make {target}" + ("" if run == "demo" else f" PARAMS={run}") + "`" if target else ""
    return f"{path(run, name)} does not exist; run {notebook}" + (f" ({how})" if how else "") + " first"


def missing_inputs(run: str, notebook: str, has_zoo: bool) -> list[str]:
    """Messages for the inputs notebook ``NN_...`` reads that are not there yet (empty: ready)."""
    needs = [n for n in NEEDS.get(notebook[:2], ()) if has_zoo or n != ZOO]
    return [how_to_make(run, n) for n in needs if not exists(run, n)]


def cached(name: str, key: dict, compute) -> pd.DataFrame:
    """A table that is expensive to compute and depends only on ``key`` (e.g. a power simulation),
    kept under ``outputs/.cache/`` and reused by every run on this machine."""
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:12]
    p = paths.outputs_root() / ".cache" / f"{name}-{digest}.parquet"
    if p.exists():
        return pd.read_parquet(p)
    df = compute()
    write_parquet(df, p)
    return df


def read(run: str, name: str) -> pd.DataFrame:
    p = path(run, name)
    if not p.exists():
        raise MissingArtifact(how_to_make(run, name))
    return pd.read_parquet(p)


TABLE_FORMATS = (".csv", ".md", ".tex")


def tables_written_since(run: str, since: float) -> list[str]:
    """Names of the tables under ``tables/`` written at or after ``since`` (``time.time()``): what
    the notebook that ran from then on wrote, so that the runner can record each table's owner."""
    d = paths.tables_dir(run)
    return sorted(p.stem for p in d.glob("*.csv") if p.stat().st_mtime >= since) if d.is_dir() else []


def remove_tables(run: str, names) -> list[str]:
    """Delete the tables ``names`` (every format); returns those that existed."""
    gone = []
    for name in sorted(names):
        files = [paths.tables_dir(run) / f"{name}{ext}" for ext in TABLE_FORMATS]
        if any(f.exists() for f in files):
            gone.append(name)
        for f in files:
            f.unlink(missing_ok=True)
    return gone


def current_tables(run: str) -> list[str] | None:
    """The tables the run's notebooks wrote at their last execution, from ``provenance.json``;
    None when some executed notebook's record predates this bookkeeping (then every table counts).
    A table a notebook no longer writes (renamed, dropped) is not in the list."""
    import json

    record = paths.run_dir(run) / "provenance.json"
    if not record.exists():
        return None
    entries = json.loads(record.read_text()).get("notebooks", {}).values()
    if any("tables" not in e for e in entries if e.get("status") == "ok"):
        return None
    return sorted({t for e in entries for t in e.get("tables", [])})


def write_table(df: pd.DataFrame, run: str, name: str, floatfmt: str = ".3f", index: bool = True) -> Path:
    """A table for people and machines: CSV, Markdown and LaTeX under ``tables/``."""
    d = paths.tables_dir(run)
    write_text(d / f"{name}.csv", df.to_csv(index=index))
    write_text(d / f"{name}.md", df.to_markdown(floatfmt=floatfmt, index=index) + "\n")
    write_text(d / f"{name}.tex", df.to_latex(float_format=lambda x: format(x, floatfmt), index=index))
    return d / f"{name}.csv"
