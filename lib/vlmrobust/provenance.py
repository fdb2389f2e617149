"""Provenance: what produced a run's outputs (commit, packages, params, platform, times).

Written by the runner to ``outputs/<run>/provenance.json``; each notebook ends with
``colophon()``, which prints the same facts (after rrtools' colophon chunk).
"""

from __future__ import annotations

import hashlib
import json
import os
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


def params_hash(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:12]


def last_executions(run: str) -> dict[str, dict]:
    """``{notebook: its last execution's entry}`` from ``outputs/<run>/provenance.json`` (empty when none)."""
    path = paths.run_dir(run) / "provenance.json"
    try:
        notebooks = json.loads(path.read_text()).get("notebooks") if path.exists() else {}
    except json.JSONDecodeError:  # a damaged record: nothing counts as done
        return {}
    return notebooks if isinstance(notebooks, dict) else {}


def record(run: str, params: dict, params_file: str, notebook: dict | None = None) -> Path:
    """Update ``outputs/<run>/provenance.json`` (atomically): the latest invocation's facts (commit,
    packages, platform, params) and, under ``notebooks``, the last execution of each notebook (commit
    and dirty flag, params hash, start, seconds, status), keyed by name. Running one stage updates its
    own entry and keeps the others, so the record still says how the zoo or the corruptions were made
    after ``make inference`` alone."""
    path = paths.run_dir(run) / "provenance.json"
    notebooks = last_executions(run)
    git = git_state()
    if notebook is not None:
        notebooks[notebook["notebook"]] = {**notebook, "commit": git["commit"], "dirty": git["dirty"],
                                           "params_file": params_file, "params_hash": params_hash(params)}
    info = {
        "run": run, "params_file": params_file, "params": params, "params_hash": params_hash(params),
        "git": git, "packages": package_versions(),
        "platform": {"python": sys.version.split()[0], "system": platform.platform(),
                     "machine": platform.machine(), "processor": platform.processor(),
                     "cpu": cpu_model(), "cores": os.cpu_count(), "cpu_features": cpu_features()},
        "updated": now(), "notebooks": dict(sorted(notebooks.items())),
    }
    return artifacts.write_text(path, json.dumps(info, indent=2, default=str))


def cpu_model() -> str | None:
    """The CPU's model name (Linux), so that timings say which machine they come from."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux ``/proc/cpuinfo``; empty elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_features() -> dict:
    """What makes float results differ between CPUs of one machine kind: AVX-512 (wider vector
    reductions in torch's CPU kernels) and AVX512-BF16 (bitsandbytes repacks NF4 weights and computes
    in bf16 on such CPUs). Recorded with every run and printed by the test suite."""
    flags = cpu_flags()
    try:
        import torch

        capability = torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001 - provenance must not fail for want of torch
        capability = None
    return {"avx512f": "avx512f" in flags, "avx512_bf16": "avx512_bf16" in flags,
            "torch_cpu_capability": capability}


def describe_cpu() -> str:
    """One line naming the CPU and the features above, e.g. for the test report's header."""
    f = cpu_features()
    yes = {True: "yes", False: "no"}
    return (f"{cpu_model() or platform.processor() or 'unknown CPU'} ({os.cpu_count()} cores); "
            f"AVX-512 {yes[f['avx512f']]}, AVX512-BF16 {yes[f['avx512_bf16']]} "
            f"(bitsandbytes {'repacks' if f['avx512_bf16'] else 'does not repack'} NF4 weights); "
            f"torch CPU capability {f['torch_cpu_capability']}")


def colophon() -> str:
    """A short text block for the last cell of every notebook."""
    g = git_state()
    v = package_versions()
    keys = ("vlmrobust", "torch", "transformers", "imagecorruptions-imaug", "numpy", "pandas", "statsmodels")
    lines = [f"commit: {g['commit'] or 'unknown'}{' (uncommitted changes)' if g['dirty'] else ''}",
             f"python {sys.version.split()[0]} on {platform.platform()}",
             f"cpu: {describe_cpu()}",
             "  ".join(f"{k} {v[k]}" for k in keys), f"finished: {now()}"]
    text = "\n".join(lines)
    print(text)
    return text
