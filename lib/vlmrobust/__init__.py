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


def __getattr__(name):
    import importlib
    import importlib.util

    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
