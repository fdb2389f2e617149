"""Checks of each params section: types, ranges, choices and cross-references.

Each ``check_*`` receives the section with its defaults already filled, so the
defaults are checked like any value a file gives.
"""

from __future__ import annotations

import re

from ..corruptions import CORRUPTIONS, SUITES
from ..data import DATASETS
from ..data.safety_hub import SETS as SAFETY_SETS, SYNTH_SAFETY
from ..prompts import TEXT_VARIANTS, VARIANTS
from .checker import Checker
from ..zoo.config import MIN_VOCAB, PO_AUG_IMAGES, PO_TOWER, TRAINING_STEPS, evaluated_heldout
from .defaults import REQUIRED, allowed

PROMPT_STYLES = ("chat", "completion")
DTYPES = ("auto", "bfloat16", "float16", "float32")
QUANTIZATIONS = ("none", "nf4", "int8")
MODEL_FAMILIES = ("gemma3", "qwen2_vl", "internvl", "other")
RESIZE_POLICIES = ("center_crop", "resize", "none")
IMAGE_FORMATS = ("png", "jpeg")
SOURCE_KEYS = ("id", "config", "split", "revision", "path", "images_config")


def check_benchmark(c: Checker, b):
    c.mapping("benchmark", b, allowed("benchmark"), REQUIRED["benchmark"])
    c.str_list("benchmark.datasets", b["datasets"], choices=tuple(DATASETS))
    c.integer("benchmark.n", b["n"], lo=1)
    c.integer("benchmark.image_size", b["image_size"], lo=32, hi=4096)
    c.choice("benchmark.resize", b["resize"], RESIZE_POLICIES)
    c.mapping("benchmark.sources", b["sources"], tuple(DATASETS))
    for name, src in b["sources"].items():
        c.mapping(f"benchmark.sources.{name}", src, SOURCE_KEYS)


def check_corruptions(c: Checker, s):
    c.mapping("corruptions", s, allowed("corruptions"), REQUIRED["corruptions"])
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
    c.choice("corruptions.format", s["format"], IMAGE_FORMATS)
    c.integer("corruptions.jpeg_quality", s["jpeg_quality"], lo=1, hi=100)
    c.integer("corruptions.workers", s["workers"], lo=1)


def check_zoo(c: Checker, z):
    """The demo zoo's settings: sizes the architecture accepts, positive steps and rates.

    Gemma 3 pools the vision tower's ``image_size / patch_size`` patches per side into
    ``sqrt(image_tokens)`` tokens per side, so ``image_tokens`` must be a square number
    whose root divides the patch grid; the heads must divide both hidden sizes.
    """
    if z is None:
        return
    if not isinstance(z, dict):
        c.fail("zoo", z, "must be a mapping or null (null: no demo zoo, hub models only)")
    c.mapping("zoo", z, allowed("zoo"), REQUIRED["zoo"])
    c.string("zoo.dir", z["dir"])
    for key in ("seed",):
        c.integer(f"zoo.{key}", z[key], lo=0)
    for key in ("text_layers", "vision_layers", "heads", "train_items", "batch_size", "threads", "eval_items"):
        c.integer(f"zoo.{key}", z[key], lo=1)
    c.integer("zoo.vocab_size", z["vocab_size"], lo=MIN_VOCAB)
    c.integer("zoo.image_size", z["image_size"], lo=32, hi=1024)
    c.integer("zoo.patch_size", z["patch_size"], lo=1, hi=z["image_size"])
    if z["image_size"] % z["patch_size"]:
        c.fail("zoo.patch_size", z["patch_size"], f"must divide zoo.image_size = {z['image_size']}")
    side = z["image_size"] // z["patch_size"]
    c.integer("zoo.image_tokens", z["image_tokens"], lo=1)
    root = int(round(z["image_tokens"] ** 0.5))
    if root * root != z["image_tokens"] or side % root:
        c.fail("zoo.image_tokens", z["image_tokens"],
               f"must be a square number whose root divides the patch grid "
               f"(image_size / patch_size = {side} patches per side), e.g. "
               + ", ".join(str(k * k) for k in range(1, side + 1) if side % k == 0))
    for key in ("text_hidden", "vision_hidden"):
        c.integer(f"zoo.{key}", z[key], lo=1)
        if z[key] % z["heads"]:
            c.fail(f"zoo.{key}", z[key], f"must be divisible by zoo.heads = {z['heads']}")
    for key, check in (("steps", lambda k, v: c.integer(k, v, lo=0)),
                       ("lr", lambda k, v: c.number(k, v, positive=True, hi=1.0))):
        c.mapping(f"zoo.{key}", z[key], TRAINING_STEPS, required=TRAINING_STEPS)
        for stage, v in z[key].items():
            check(f"zoo.{key}.{stage}", v)
    for key in ("safety_items", "safety_replay"):
        c.integer(f"zoo.{key}", z[key], lo=0)
    if z["safety_items"] % 2:
        c.fail("zoo.safety_items", z["safety_items"], "must be even (synth-safety's rows come as badge/no-badge twins)")
    c.number("zoo.dpo_beta", z["dpo_beta"], positive=True)
    c.number("zoo.sft_weight", z["sft_weight"], lo=0)
    c.choice("zoo.po_tower", z["po_tower"], PO_TOWER)
    c.choice("zoo.po_aug_images", z["po_aug_images"], PO_AUG_IMAGES)


def check_zoo_against_suite(c: Checker, z, suite):
    """``zoo.po_aug_images: heldout-imagenet-c`` with a ``suite`` that evaluates one of them is refused."""
    if z is None or z["po_aug_images"] != "heldout-imagenet-c":
        return
    overlap = evaluated_heldout(suite)
    if overlap:
        c.fail("zoo.po_aug_images", z["po_aug_images"],
               f"po-aug would train on {', '.join(overlap)}, which corruptions.suite evaluates; use "
               "po_aug_images: own, or a suite without them")


def check_models(c: Checker, models):
    if not isinstance(models, dict):
        c.fail("models", models, "must be a mapping")
    if not models:
        c.fail("models", models, "at least one model is required")
    for name, m in models.items():
        k = f"models.{name}"
        c.string(k, name, pattern=r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
        c.mapping(k, m, allowed("model"), REQUIRED["model"])
        c.string(f"{k}.source", m["source"])
        c.choice(f"{k}.prompt_style", m["prompt_style"], PROMPT_STYLES)
        c.choice(f"{k}.family", m["family"], MODEL_FAMILIES)
        c.choice(f"{k}.dtype", m["dtype"], DTYPES)
        c.choice(f"{k}.quantization", m["quantization"], QUANTIZATIONS)
        if m["quantize_skip"] is not None:
            c.str_list(f"{k}.quantize_skip", m["quantize_skip"])
        for key in ("revision", "label"):
            if m[key] is not None:
                c.string(f"{k}.{key}", m[key])
        c.boolean(f"{k}.enabled", m["enabled"])
        if m["unresolved"] and m["enabled"]:
            c.fail(f"{k}.enabled", m["enabled"],
                   f"model is marked unresolved ({m['unresolved']}); it cannot be enabled")


def check_pairs(c: Checker, pairs, models: dict):
    if not isinstance(pairs, dict):
        c.fail("pairs", pairs, "must be a mapping")
    for pid, p in pairs.items():
        k = f"pairs.{pid}"
        c.mapping(k, p, allowed("pair"), REQUIRED["pair"])
        for role in ("base", "aligned"):
            c.choice(f"{k}.{role}", p[role], tuple(models))
        c.string(f"{k}.method", p["method"])
        c.boolean(f"{k}.enabled", p["enabled"])
        check_pair_members_differ(c, k, p, models)
        if p["enabled"]:
            for role in ("base", "aligned"):
                if not models[p[role]]["enabled"]:
                    c.fail(f"{k}.{role}", p[role], "pair is enabled but this model is disabled")


def check_pair_members_differ(c: Checker, k: str, pair: dict, models: dict):
    """A pair compares two different checkpoints: the same model name twice, or two names that load
    the same weights (same source and revision), would make every pair statistic a comparison of a
    model with itself (a Rel. mCE of exactly 1, no discordant items)."""
    base, aligned = pair["base"], pair["aligned"]
    if base == aligned:
        c.fail(f"{k}.aligned", aligned, "names the same model as the pair's base; a pair needs two models")
    b, a = models[base], models[aligned]
    if b.get("unresolved") or a.get("unresolved"):  # no checkpoint yet (e.g. the paper's Gemma 7B)
        return
    if (b.get("source"), b.get("revision")) == (a.get("source"), a.get("revision")):
        c.fail(f"{k}.aligned", aligned,
               f"loads the same checkpoint as the pair's base '{base}' (source {a.get('source')!r}, revision "
               f"{a.get('revision')!r}); a pair needs two different models")


def check_inference(c: Checker, inf, severities: list):
    c.mapping("inference", inf, allowed("inference"), REQUIRED["inference"])
    c.integer("inference.batch_size", inf["batch_size"], lo=1)
    c.integer("inference.max_new_tokens", inf["max_new_tokens"], lo=1)
    c.str_list("inference.prompt_variants", inf["prompt_variants"], choices=VARIANTS)
    c.str_list("inference.concise_datasets", inf["concise_datasets"], choices=tuple(DATASETS), nonempty=False)
    m = re.fullmatch(r"(\d+)/(\d+)", str(inf["shard"]))
    if not m or int(m.group(2)) < 1 or int(m.group(1)) >= int(m.group(2)):
        c.fail("inference.shard", inf["shard"], "must be 'i/N' with 0 <= i < N")
    c.integer("inference.chunk_size", inf["chunk_size"], lo=1)
    c.string("inference.device", inf["device"])
    c.str_list("inference.text_variants", inf["text_variants"], choices=TEXT_VARIANTS, nonempty=False)
    ts = inf["text_severities"]
    if ts is not None:
        allowed_sev = [0, *severities]
        if not isinstance(ts, list) or not ts:
            c.fail("inference.text_severities", ts, "must be null or a non-empty list of severities (0 = clean)")
        for i, v in enumerate(ts):
            if v not in allowed_sev:
                c.fail(f"inference.text_severities[{i}]", v,
                       f"is not a severity this run generates; choose from {allowed_sev} (0 = clean)")
    if inf["text_items"] is not None:
        c.integer("inference.text_items", inf["text_items"], lo=1)
    c.number("inference.vision_cache_mb", inf["vision_cache_mb"], lo=0)


def check_analysis(c: Checker, a, pairs: dict):
    c.mapping("analysis", a, allowed("analysis"), REQUIRED["analysis"])
    c.integer("analysis.bootstrap", a["bootstrap"], lo=1)
    c.number("analysis.min_denominator", a["min_denominator"], lo=0)
    c.number("analysis.ci", a["ci"], lo=0.5, hi=0.999)
    c.choice("analysis.probit_fit_on", a["probit_fit_on"], ("base", "all"))
    c.number("analysis.equivalence_margin", a["equivalence_margin"], positive=True, hi=0.5)
    enabled = [pid for pid, q in pairs.items() if q["enabled"]]
    for key in ("table6_pair", "figure7_pair"):
        if a[key] is not None:
            c.choice(f"analysis.{key}", a[key], enabled)




def check_safety(c: Checker, s, p: dict):
    """The safety measurement: known sets, a positive n (even for synth-safety's twins), conditions the
    corruption code knows, models of the run, a judge given by its source."""
    if s is None:
        return
    if not isinstance(s, dict):
        c.fail("safety", s, "must be a mapping or null (null: the run measures no refusals)")
    c.mapping("safety", s, allowed("safety"), REQUIRED["safety"])
    c.str_list("safety.datasets", s["datasets"], choices=SAFETY_SETS)
    c.integer("safety.n", s["n"], lo=2)
    if SYNTH_SAFETY in s["datasets"] and s["n"] % 2:
        c.fail("safety.n", s["n"], "must be even with synth-safety (its rows come as badge/no-badge twins)")
    if s["suite"] is not None:
        if isinstance(s["suite"], str):
            c.choice("safety.suite", s["suite"], tuple(SUITES))
        else:
            c.str_list("safety.suite", s["suite"], choices=CORRUPTIONS)
    if s["severities"] is not None:
        if not isinstance(s["severities"], list) or not s["severities"]:
            c.fail("safety.severities", s["severities"], "must be null or a non-empty list of integers 1-5")
        for i, v in enumerate(s["severities"]):
            c.integer(f"safety.severities[{i}]", v, lo=1, hi=5)
    if s["models"] is not None:
        enabled = [m for m, spec in p["models"].items() if spec["enabled"]]
        c.str_list("safety.models", s["models"], choices=tuple(enabled))
    if s["judge"] is not None:
        c.mapping("safety.judge", s["judge"], ("source", "refusal_labels"), ("source",))
        c.string("safety.judge.source", s["judge"]["source"])
    c.mapping("safety.sources", s["sources"], SAFETY_SETS)
