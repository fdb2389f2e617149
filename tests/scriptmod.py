"""Loading a file of ``scripts/`` as a module, for the tests of those scripts (they are not a package)."""

import importlib.util

from vlmrobust import paths


def load(name: str):
    """``scripts/<name>.py`` as a fresh module."""
    spec = importlib.util.spec_from_file_location(name, paths.ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
