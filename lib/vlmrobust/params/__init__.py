"""Run parameters: load ``params/<run>.yaml``, fill its defaults, validate it before any work starts.

Every stage of the compendium reads one params file. A mistake in it (a misspelt key,
an unknown corruption, a severity of 7, a zoo whose image tokens do not fit its patch
grid, a reference model that is not in the run) must fail in seconds with one message
that names the file, the key and the bad value, not an hour into inference. The
Makefile runs ``python -m vlmrobust.params check`` before papermill starts, and every
notebook loads the file again with ``load(params_file, overrides)``.

``load`` returns the params with every optional key filled from the one table of
defaults (``defaults.DEFAULTS``), so downstream code reads ``p[section][key]`` and never
supplies a default of its own.

- ``checker``   the error (file, key, value) and the small type/range checks
- ``defaults``  the table of defaults and required keys per section
- ``sections``  the checks of each section, with cross-references
- ``reference`` every key's meaning beside its default: the generated ``docs/params.md``
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from .. import paths
from .checker import Checker, ParamsError
from .defaults import DEFAULTS, OPTIONAL_TOP_LEVEL_KEYS, REQUIRED, TOP_LEVEL_KEYS, TRAINING_STEPS
from .sections import (check_analysis, check_benchmark, check_corruptions, check_inference, check_models,
                       check_pairs, check_safety, check_zoo, check_zoo_against_suite)
from ..corruptions import resolve_suite

SECTIONS = ("benchmark", "corruptions", "inference", "analysis")  # plain mappings filled from DEFAULTS


def merge(base: Any, overrides: Any) -> Any:
    """``overrides`` deep-merged into ``base`` (mappings merge key by key; anything else replaces).
    The result shares nothing with either argument: a caller may change it without changing the
    table of defaults."""
    if isinstance(base, dict) and isinstance(overrides, dict):
        out = copy.deepcopy(base)
        for k, v in overrides.items():
            out[k] = merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(overrides)


def _fill_zoo(z: Any) -> Any:
    if not isinstance(z, dict):
        return z
    out = merge(DEFAULTS["zoo"], z)
    for key in ("steps", "lr"):  # a non-mapping value is kept as given, for the check to name it
        if not isinstance(z.get(key, {}), dict):
            out[key] = z[key]
    return out


def fill_model(name: str, spec: Any) -> Any:
    """One model's spec with its optional keys filled (``label`` defaults to the model's name)."""
    if not isinstance(spec, dict):
        return spec
    given = {k: v for k, v in spec.items() if not (k == "label" and v is None)}
    return {**DEFAULTS["model"], "label": name, **given}


def fill_defaults(p: Any) -> Any:
    """A copy of ``p`` with every optional key a section leaves out taken from ``DEFAULTS``.

    Values of the wrong type are kept as they are, so that the checks that follow name them.
    """
    if not isinstance(p, dict):
        return p
    out = copy.deepcopy(p)
    for sec in SECTIONS:
        if isinstance(out.get(sec), dict):
            out[sec] = merge(DEFAULTS[sec], out[sec])
    if "zoo" in out:
        out["zoo"] = _fill_zoo(out["zoo"])
    out["safety"] = merge(DEFAULTS["safety"], out["safety"]) if isinstance(out.get("safety"), dict) \
        else out.get("safety")
    if isinstance(out.get("models"), dict):
        out["models"] = {name: fill_model(name, m) for name, m in out["models"].items()}
    if isinstance(out.get("pairs"), dict):
        out["pairs"] = {pid: ({**DEFAULTS["pair"], **q} if isinstance(q, dict) else q)
                        for pid, q in out["pairs"].items()}
    return out


def validate(p: Any, source: str = "<params>") -> dict:
    """Fill the defaults of a params mapping and check it; return the filled copy or raise ``ParamsError``.

    Cross-references are checked too: pairs name models in ``models``; the reference
    model is one of the run's enabled models.
    """
    c = Checker(source)
    c.mapping("", p, TOP_LEVEL_KEYS + OPTIONAL_TOP_LEVEL_KEYS, required=TOP_LEVEL_KEYS)
    p = fill_defaults(p)
    c.string("run", p["run"], pattern=r"[A-Za-z0-9][A-Za-z0-9_\-]*")
    c.integer("seed", p["seed"], lo=0)
    check_benchmark(c, p["benchmark"])
    check_corruptions(c, p["corruptions"])
    check_zoo(c, p["zoo"])
    check_zoo_against_suite(c, p["zoo"], resolve_suite(p["corruptions"]["suite"]))
    check_models(c, p["models"])
    check_pairs(c, p["pairs"], p["models"])
    enabled = [m for m, spec in p["models"].items() if spec["enabled"]]
    c.choice("reference", p["reference"], enabled)
    check_inference(c, p["inference"], p["corruptions"]["severities"])
    check_analysis(c, p["analysis"], p["pairs"])
    check_safety(c, p["safety"], p)
    return p


def zoo_config(z: dict, source: str = "<zoo settings>") -> dict:
    """The zoo section alone, filled from the defaults and checked (for code and tests that train a
    zoo outside a params file, e.g. the micro-zoo of the tests)."""
    z = _fill_zoo(z)
    check_zoo(Checker(source), z)
    return z


def load(path: str | Path, overrides: dict | None = None) -> dict:
    """Read a params file, deep-merge ``overrides`` into it, fill the defaults and validate.

    Errors name the file (as given, or repo-relative; "+ overrides" when there are some).
    A notebook's parameters cell is ``params_file = "params/demo.yaml"`` and
    ``overrides = {}``: ``overrides = {"benchmark": {"n": 20}}`` explores a variant of
    the run without editing the file.
    """
    full = paths.resolve(path)
    shown = _shown(full)
    if not full.is_file():
        available = ", ".join(sorted(f.stem for f in paths.PARAMS_DIR.glob("*.yaml")))
        raise ParamsError(shown, "<file>", str(path), f"no such params file (available: {available})")
    try:
        with open(full) as fh:
            p = yaml.safe_load(fh)
    except yaml.YAMLError as e:
        raise ParamsError(shown, "<yaml>", None, f"not valid YAML: {e}") from None
    if overrides:
        if not isinstance(overrides, dict):
            raise ParamsError(f"{shown} + overrides", "<overrides>", overrides, "must be a mapping")
        return validate(merge(p, overrides), f"{shown} + overrides {overrides!r}")
    return validate(p, shown)


def _shown(full: Path) -> str:
    try:
        return str(full.relative_to(paths.ROOT))
    except ValueError:
        return str(full)


def main(argv: list[str] | None = None) -> int:
    """``python -m vlmrobust.params check FILE...``: validate, print one line per file;
    ``python -m vlmrobust.params doc``: print the params reference (``docs/params.md``)."""
    import argparse
    import sys

    from ..design import run_models

    ap = argparse.ArgumentParser(prog="python -m vlmrobust.params")
    ap.add_argument("command", choices=["check", "doc"])
    ap.add_argument("files", nargs="*")
    a = ap.parse_args(argv)
    if a.command == "doc":
        from .reference import document

        print(document(), end="")
        return 0
    status = 0
    for f in a.files:
        try:
            p = load(f)
            print(f"ok   {f}: run '{p['run']}', {len(run_models(p))} models, "
                  f"{len(p['benchmark']['datasets'])} datasets")
        except ParamsError as e:
            print(f"FAIL {e}", file=sys.stderr)
            status = 2
    return status


__all__ = ["ParamsError", "DEFAULTS", "REQUIRED", "TOP_LEVEL_KEYS", "TRAINING_STEPS", "fill_defaults", "fill_model", "load",
           "merge", "validate", "zoo_config", "main"]
