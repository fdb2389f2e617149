"""Paths resolved from the repository root, whatever the kernel's working directory.

Papermill runs kernels in the caller's directory, JupyterLab in the notebook's
folder; resolving everything from this file's location removes the difference.
``VLMROBUST_OUTPUTS`` redirects the outputs root (the tests use it to write into a
temporary directory).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARAMS_DIR = ROOT / "params"
NOTEBOOKS_DIR = ROOT / "notebooks"


def outputs_root() -> Path:
    """The folder holding one sub-folder per run (``outputs/`` unless overridden)."""
    env = os.environ.get("VLMROBUST_OUTPUTS")
    return Path(env).resolve() if env else ROOT / "outputs"


def run_dir(run: str) -> Path:
    """``outputs/<run>/``, created on demand."""
    d = outputs_root() / run
    d.mkdir(parents=True, exist_ok=True)
    return d


def resolve(path: str | os.PathLike) -> Path:
    """A path from params: absolute as given, relative ones from the repository root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else ROOT / p


def tables_dir(run: str) -> Path:
    d = run_dir(run) / "tables"
    d.mkdir(parents=True, exist_ok=True)
    return d


def figures_dir(run: str) -> Path:
    d = run_dir(run) / "figures"
    d.mkdir(parents=True, exist_ok=True)
    return d
