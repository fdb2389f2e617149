"""Loading a file of ``zoo-experiments/`` as a module, for the tests of those scripts (they are not a package)."""

import importlib.util

from vlmrobust import paths


def load(name: str):
    """``zoo-experiments/<name>.py`` as a fresh module."""
    spec = importlib.util.spec_from_file_location(name, paths.ROOT / "zoo-experiments" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
