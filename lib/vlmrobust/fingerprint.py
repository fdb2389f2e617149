"""What a notebook's execution depends on, as one hash: the runner skips a notebook whose
fingerprint is the one recorded at its last successful execution.

A re-run of ``make reproduce`` after changing nothing should take seconds, not the minutes it
takes to start eleven kernels and recompute every table; a re-run after editing notebook 07
should redo 07 onwards and nothing before. The fingerprint of notebook *k* is a hash of

- the source of notebooks 00 .. *k* (the ``.ipynb`` the runner executes: an upstream edit changes
  what a later notebook reads),
- every file of the library (``lib/vlmrobust``, caches excluded): a library edit re-runs
  everything, because any notebook may call the changed code,
- the shipped zoo's manifests (``zoo-weights/*/SHA256SUMS``): new shipped weights re-run everything,
- the run's filled params (``provenance.params_hash``) and the installed versions of the
  packages in ``provenance.PACKAGES``.

What it does *not* see: hub datasets and checkpoints changing upstream (paper mode), and files
deleted or edited by hand under ``outputs/<run>/``. For those, ``make reproduce FORCE=1``
(``runner --force``) executes every notebook. The rules for using it are the runner's
(``runner._run_all``): only a full run skips, only an unchanged *prefix* of the notebooks is
skipped (once one executes, every later one does too, since it may have changed their
inputs), and a notebook whose executed copy is missing from ``outputs/<run>/notebooks`` runs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from . import paths, provenance

LIBRARY = paths.ROOT / "lib" / "vlmrobust"


def library_hash(root: Path = LIBRARY) -> str:
    """Hash of every library file's relative path and bytes (``__pycache__`` and ``*.pyc`` excluded)."""
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def shipped_zoo_hash(root: Path = paths.ROOT / "zoo-weights") -> str:
    """Hash of the shipped zoo's manifests (``zoo-weights/*/SHA256SUMS``): re-shipping re-runs the study."""
    h = hashlib.sha256()
    for f in sorted(root.glob("*/SHA256SUMS")):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def notebook_fingerprints(notebooks: list[Path], params: dict) -> dict[str, str]:
    """``{notebook stem: fingerprint}`` for the notebooks in run order (see the module docstring)."""
    shared = hashlib.sha256(json.dumps({"library": library_hash(), "zoo_weights": shipped_zoo_hash(),
                                        "params": provenance.params_hash(params),
                                        "packages": provenance.package_versions()}, sort_keys=True).encode())
    out = {}
    for nb in notebooks:
        shared.update(nb.name.encode() + b"\0" + nb.read_bytes() + b"\0")
        out[nb.stem] = shared.copy().hexdigest()[:16]
    return out
