"""vlmrobust: the shared library of the aligned-VLM corruption-robustness compendium.

Notebooks under ``notebooks/`` are thin: they call these modules, show tables and
figures, and narrate. Each module holds one concept:

- ``paths``       where things live (repository root, ``outputs/<run>/``)
- ``params``      loading and validating ``params/*.yaml`` before any work starts
- ``provenance``  git commit, package versions, colophon
- ``runner``      papermill orchestration used by the Makefile
- ``data``        benchmarks: the synthetic four-task benchmark and hub/local loaders
- ``corruptions`` the 19 ImageNet-C corruptions, deterministic, and pre-generation
- ``scoring``     the paper's per-dataset scorers
- ``metrics``     accuracy tables, CE, mCE, Rel. mCE, mCR with uncertainty
- ``paper``       the seed paper's published tables as package data
"""

__version__ = "0.1.0"

# ``import vlmrobust as vr`` then ``vr.corruptions.corrupt(...)``: submodules load on first
# use (PEP 562). Notebooks use this form because several module names (``corruptions``,
# ``models``, ``inference``...) are also the names of top-level run parameters.
_SUBMODULES = {"paths", "params", "provenance", "runner", "data", "corruptions", "scoring",
               "metrics", "paper", "models", "inference", "zoo", "plots", "artifacts", "stats",
               "notebook_cells"}


def __getattr__(name):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
