"""Provenance: what produced a run's outputs (commit, packages, params, platform, times).

Written by the runner to ``outputs/<run>/provenance.json``; each notebook ends with
``colophon()``, which prints the same facts (after rrtools' colophon chunk).
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from . import artifacts, paths

PACKAGES = ("vlmrobust", "torch", "transformers", "tokenizers", "accelerate", "bitsandbytes",
            "imagecorruptions-imaug", "numpy", "scipy", "scikit-image", "opencv-python", "numba",
            "pillow", "pandas", "pyarrow", "datasets", "statsmodels", "seaborn", "matplotlib",
            "papermill", "jupytext")


def git_state() -> dict:
    """Commit hash and whether the working tree has uncommitted changes."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=paths.ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD") or None
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None
    return {"commit": commit, "dirty": dirty}


def package_versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def record(run: str, params: dict, params_file: str, started: str, finished: str | None,
           notebooks: list[dict]) -> Path:
    """Write ``outputs/<run>/provenance.json`` (atomically)."""
    info = {
        "run": run, "params_file": params_file, "params": params,
        "git": git_state(), "packages": package_versions(),
        "platform": {"python": sys.version.split()[0], "system": platform.platform(),
                     "machine": platform.machine(), "processor": platform.processor()},
        "started": started, "finished": finished, "notebooks": notebooks,
    }
    return artifacts.write_text(paths.run_dir(run) / "provenance.json", json.dumps(info, indent=2, default=str))


def colophon() -> str:
    """A short text block for the last cell of every notebook."""
    g = git_state()
    v = package_versions()
    keys = ("vlmrobust", "torch", "transformers", "imagecorruptions-imaug", "numpy", "pandas", "statsmodels")
    lines = [f"commit: {g['commit'] or 'unknown'}{' (uncommitted changes)' if g['dirty'] else ''}",
             f"python {sys.version.split()[0]} on {platform.platform()}",
             "  ".join(f"{k} {v[k]}" for k in keys), f"finished: {now()}"]
    text = "\n".join(lines)
    print(text)
    return text
