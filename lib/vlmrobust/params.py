"""Run parameters: load ``params/<run>.yaml`` and validate it before any work starts.

Every stage of the compendium reads one params file. A mistake in it (a misspelt
key, an unknown corruption, a severity of 7, a reference model that is not in the
run) must fail in seconds with one message that names the file, the key and the
bad value, not an hour into inference. ``validate`` is that check; the Makefile
runs it before papermill starts, and every notebook runs it again on the values
papermill injected (``from_notebook``).

Why a hand-written schema rather than pydantic: the schema is small, the error
message format is the contract, and nothing else in the project needs pydantic.

The top-level keys are papermill parameters: papermill ``-f params/x.yaml``
injects each one as a notebook variable, so every notebook's ``parameters`` cell
declares them with the demo defaults (a test keeps the two equal).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from . import paths

TOP_LEVEL_KEYS = (
    "run", "seed", "benchmark", "corruptions", "zoo", "models", "pairs",
    "reference", "inference", "analysis",
)

PROMPT_STYLES = ("chat", "completion")
DTYPES = ("auto", "bfloat16", "float16", "float32")
QUANTIZATIONS = ("none", "nf4", "int8")
FAMILIES = ("gemma3", "qwen2_vl", "internvl", "other")
PROMPT_VARIANTS = ("concise", "plain")
RESIZE_POLICIES = ("center_crop", "resize", "none")
IMAGE_FORMATS = ("png", "jpeg")


class ParamsError(ValueError):
    """A params file is invalid. The message names file, key and value."""

    def __init__(self, source: str, key: str, value: Any, problem: str):
        self.source, self.key, self.value, self.problem = source, key, value, problem
        super().__init__(f"{source}: key '{key}' = {value!r}: {problem}")


# ---------------------------------------------------------------------------
# small checkers
# ---------------------------------------------------------------------------

class _Checker:
    """Carries the source name so that every error names the file."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, value: Any, problem: str):
        raise ParamsError(self.source, key, value, problem)

    def mapping(self, key: str, value: Any, allowed: tuple[str, ...], required: tuple[str, ...] = ()):
        if not isinstance(value, dict):
            self.fail(key, value, "must be a mapping")
        for k in value:
            if k not in allowed:
                close = _closest(k, allowed)
                hint = f" (did you mean '{close}'?)" if close else ""
                self.fail(f"{key}.{k}" if key else k, value[k],
                          f"unknown key{hint}; allowed: {', '.join(allowed)}")
        for k in required:
            if k not in value:
                self.fail(f"{key}.{k}" if key else k, None, "required key is missing")

    def is_mapping(self, key: str, value: Any):
        if not isinstance(value, dict):
            self.fail(key, value, "must be a mapping")

    def integer(self, key: str, value: Any, lo: int | None = None, hi: int | None = None):
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, value, "must be an integer")
        if lo is not None and value < lo:
            self.fail(key, value, f"must be >= {lo}")
        if hi is not None and value > hi:
            self.fail(key, value, f"must be <= {hi}")

    def number(self, key: str, value: Any, lo: float | None = None, hi: float | None = None):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, value, "must be a number")
        if lo is not None and value < lo:
            self.fail(key, value, f"must be >= {lo}")
        if hi is not None and value > hi:
            self.fail(key, value, f"must be <= {hi}")

    def string(self, key: str, value: Any, pattern: str | None = None):
        if not isinstance(value, str) or not value:
            self.fail(key, value, "must be a non-empty string")
        if pattern and not re.fullmatch(pattern, value):
            self.fail(key, value, f"must match {pattern}")

    def choice(self, key: str, value: Any, choices: tuple[str, ...] | list[str]):
        if value not in choices:
            close = _closest(str(value), tuple(choices))
            hint = f" (did you mean '{close}'?)" if close else ""
            self.fail(key, value, f"unknown value{hint}; choose from: {', '.join(map(str, choices))}")

    def boolean(self, key: str, value: Any):
        if not isinstance(value, bool):
            self.fail(key, value, "must be true or false")

    def str_list(self, key: str, value: Any, choices=None, nonempty=True):
        if not isinstance(value, list) or (nonempty and not value):
            self.fail(key, value, "must be a non-empty list" if nonempty else "must be a list")
        for i, v in enumerate(value):
            if choices is not None:
                self.choice(f"{key}[{i}]", v, choices)
            else:
                self.string(f"{key}[{i}]", v)
        if len(set(value)) != len(value):
            self.fail(key, value, "contains duplicates")


def _closest(word: str, options: tuple[str, ...]) -> str | None:
    import difflib

    m = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return m[0] if m else None


# ---------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------

def _check_benchmark(c: _Checker, b: Any):
    from .data import DATASETS

    c.mapping("benchmark", b, ("datasets", "n", "image_size", "resize", "sources"),
              required=("datasets", "n", "image_size", "resize"))
    c.str_list("benchmark.datasets", b["datasets"], choices=tuple(DATASETS))
    c.integer("benchmark.n", b["n"], lo=1)
    c.integer("benchmark.image_size", b["image_size"], lo=32, hi=4096)
    c.choice("benchmark.resize", b["resize"], RESIZE_POLICIES)
    sources = b.get("sources") or {}
    c.mapping("benchmark.sources", sources, tuple(DATASETS))
    for name, src in sources.items():
        c.mapping(f"benchmark.sources.{name}", src,
                  ("id", "config", "split", "revision", "path", "images_config"))


def _check_corruptions(c: _Checker, s: Any):
    from .corruptions import CORRUPTIONS, SUITES

    c.mapping("corruptions", s, ("suite", "severities", "format", "jpeg_quality", "workers"),
              required=("suite", "severities"))
    suite = s["suite"]
    if isinstance(suite, str):
        c.choice("corruptions.suite", suite, tuple(SUITES))
    else:
        c.str_list("corruptions.suite", suite, choices=CORRUPTIONS)
    sev = s["severities"]
    if not isinstance(sev, list) or not sev:
        c.fail("corruptions.severities", sev, "must be a non-empty list of integers 1-5")
    for i, v in enumerate(sev):
        c.integer(f"corruptions.severities[{i}]", v, lo=1, hi=5)
    if len(set(sev)) != len(sev):
        c.fail("corruptions.severities", sev, "contains duplicates")
    if "format" in s:
        c.choice("corruptions.format", s["format"], IMAGE_FORMATS)
    if "jpeg_quality" in s:
        c.integer("corruptions.jpeg_quality", s["jpeg_quality"], lo=1, hi=100)
    if "workers" in s:
        c.integer("corruptions.workers", s["workers"], lo=1)


def _check_models(c: _Checker, models: Any):
    c.is_mapping("models", models)
    if not models:
        c.fail("models", models, "at least one model is required")
    for name, m in models.items():
        k = f"models.{name}"
        c.string(k, name, pattern=r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
        c.mapping(k, m, ("source", "family", "prompt_style", "dtype", "quantization",
                         "revision", "enabled", "label", "unresolved"),
                  required=("source", "prompt_style"))
        c.string(f"{k}.source", m["source"])
        c.choice(f"{k}.prompt_style", m["prompt_style"], PROMPT_STYLES)
        if "family" in m:
            c.choice(f"{k}.family", m["family"], FAMILIES)
        if "dtype" in m:
            c.choice(f"{k}.dtype", m["dtype"], DTYPES)
        if "quantization" in m:
            c.choice(f"{k}.quantization", m["quantization"], QUANTIZATIONS)
        if m.get("revision") is not None:
            c.string(f"{k}.revision", m["revision"])
        if "enabled" in m:
            c.boolean(f"{k}.enabled", m["enabled"])
        if m.get("unresolved") and m.get("enabled", True):
            c.fail(f"{k}.enabled", m.get("enabled", True),
                   f"model is marked unresolved ({m['unresolved']}); it cannot be enabled")


def _check_pairs(c: _Checker, pairs: Any, models: dict):
    c.is_mapping("pairs", pairs)
    for pid, p in pairs.items():
        k = f"pairs.{pid}"
        c.mapping(k, p, ("base", "aligned", "method", "note", "enabled"),
                  required=("base", "aligned", "method"))
        for role in ("base", "aligned"):
            c.choice(f"{k}.{role}", p[role], tuple(models))
        c.string(f"{k}.method", p["method"])
        if "enabled" in p:
            c.boolean(f"{k}.enabled", p["enabled"])
        if p.get("enabled", True):
            for role in ("base", "aligned"):
                if not models[p[role]].get("enabled", True):
                    c.fail(f"{k}.{role}", p[role], "pair is enabled but this model is disabled")


def _check_inference(c: _Checker, inf: Any):
    from .data import DATASETS

    c.mapping("inference", inf, ("batch_size", "max_new_tokens", "prompt_variants",
                                 "concise_datasets", "shard", "chunk_size", "device"),
              required=("batch_size", "max_new_tokens", "prompt_variants"))
    c.integer("inference.batch_size", inf["batch_size"], lo=1)
    c.integer("inference.max_new_tokens", inf["max_new_tokens"], lo=1)
    c.str_list("inference.prompt_variants", inf["prompt_variants"], choices=PROMPT_VARIANTS)
    if "concise_datasets" in inf:
        c.str_list("inference.concise_datasets", inf["concise_datasets"],
                   choices=tuple(DATASETS), nonempty=False)
    if "shard" in inf:
        shard = inf["shard"]
        m = re.fullmatch(r"(\d+)/(\d+)", str(shard))
        if not m or int(m.group(2)) < 1 or int(m.group(1)) >= int(m.group(2)):
            c.fail("inference.shard", shard, "must be 'i/N' with 0 <= i < N")
    if "chunk_size" in inf:
        c.integer("inference.chunk_size", inf["chunk_size"], lo=1)
    if "device" in inf:
        c.string("inference.device", inf["device"])


def _check_analysis(c: _Checker, a: Any):
    c.mapping("analysis", a, ("bootstrap", "min_denominator", "ci"))
    if "bootstrap" in a:
        c.integer("analysis.bootstrap", a["bootstrap"], lo=0)
    if "min_denominator" in a:
        c.number("analysis.min_denominator", a["min_denominator"], lo=0)
    if "ci" in a:
        c.number("analysis.ci", a["ci"], lo=0.5, hi=0.999)


def _check_zoo(c: _Checker, z: Any):
    if z is None:
        return
    if not isinstance(z, dict):
        c.fail("zoo", z, "must be a mapping or null (null: no demo zoo, hub models only)")
    from .zoo import TRAINING_STEPS, ZOO_KEYS

    c.mapping("zoo", z, tuple(ZOO_KEYS), required=("dir",))
    for key, check in (("steps", lambda k, v: c.integer(k, v, lo=0)), ("lr", lambda k, v: c.number(k, v, lo=1e-9))):
        if key in z:
            c.mapping(f"zoo.{key}", z[key], TRAINING_STEPS)
            for stage, v in z[key].items():
                check(f"zoo.{key}.{stage}", v)


def validate(p: Any, source: str = "<params>") -> dict:
    """Check a params mapping; return it unchanged or raise ``ParamsError``.

    Cross-references are checked too: pairs name models in ``models``; the
    reference model is one of the run's enabled models.
    """
    c = _Checker(source)
    c.mapping("", p, TOP_LEVEL_KEYS, required=TOP_LEVEL_KEYS)
    c.string("run", p["run"], pattern=r"[A-Za-z0-9][A-Za-z0-9_\-]*")
    c.integer("seed", p["seed"], lo=0)
    _check_benchmark(c, p["benchmark"])
    _check_corruptions(c, p["corruptions"])
    _check_zoo(c, p["zoo"])
    _check_models(c, p["models"])
    _check_pairs(c, p["pairs"], p["models"])
    enabled = [m for m, spec in p["models"].items() if spec.get("enabled", True)]
    c.choice("reference", p["reference"], enabled)
    _check_inference(c, p["inference"])
    _check_analysis(c, p["analysis"])
    return p


def load(path: str | Path) -> dict:
    """Read and validate a params file; errors name the file (as given, or repo-relative)."""
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
    return validate(p, shown)


def _shown(full: Path) -> str:
    try:
        return str(full.relative_to(paths.ROOT))
    except ValueError:
        return str(full)


def from_notebook(namespace: dict, params_file: str | None = None) -> dict:
    """Collect the top-level parameters from a notebook's namespace and validate them.

    ``params_file`` (injected by the Makefile next to ``-f``) is re-read strictly
    too, so that a misspelt key in the file (which papermill only warns about) still
    fails, naming the file.
    """
    source = params_file or "notebook parameters"
    if params_file:
        load(params_file)
    p = {k: copy.deepcopy(namespace[k]) for k in TOP_LEVEL_KEYS if k in namespace}
    missing = [k for k in TOP_LEVEL_KEYS if k not in namespace]
    if missing:
        raise ParamsError(source, missing[0], None, "parameter not defined in the notebook")
    return validate(p, source)


# ---------------------------------------------------------------------------
# convenience views used by several stages
# ---------------------------------------------------------------------------

def enabled_models(p: dict) -> dict:
    return {k: v for k, v in p["models"].items() if v.get("enabled", True)}


def enabled_pairs(p: dict) -> dict:
    return {k: v for k, v in p["pairs"].items() if v.get("enabled", True)}


def run_models(p: dict) -> list[str]:
    """Models the run evaluates: every model of an enabled pair, plus the reference."""
    names: list[str] = []
    for pair in enabled_pairs(p).values():
        for role in ("base", "aligned"):
            if pair[role] not in names:
                names.append(pair[role])
    if p["reference"] not in names:
        names.append(p["reference"])
    return names


def parameters_cell(params_file: str = "params/demo.yaml") -> str:
    """Source of a notebook's ``parameters`` cell holding the values of ``params_file``.

    Used to write the notebooks (their defaults are the demo run) and by the test
    that keeps every notebook's defaults equal to ``params/demo.yaml``.
    """
    import pprint

    p = load(params_file)
    lines = [f"params_file = {params_file!r}  # make passes -f <file> -p params_file <file>"]
    for k in TOP_LEVEL_KEYS:
        text = pprint.pformat(p[k], width=96, sort_dicts=False)
        lines.append(f"{k} = {text}".replace("\n", "\n" + " " * (len(k) + 3)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m vlmrobust.params check FILE...``: validate, print one line per file."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="python -m vlmrobust.params")
    ap.add_argument("command", choices=["check", "cell"])
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)
    if a.command == "cell":
        print(parameters_cell(a.files[0]))
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


if __name__ == "__main__":
    raise SystemExit(main())
