"""The one table of defaults: every optional params key and its value, per section.

``params.load`` fills every key a file leaves out from here, so nothing downstream
supplies a default of its own (``p["inference"]["chunk_size"]``, never
``.get("chunk_size", 64)``). The keys a section allows are its required keys plus the
keys of its defaults.
"""

from __future__ import annotations

from ..zoo.config import DEFAULTS as ZOO_DEFAULTS
from ..zoo.config import TRAINING_STEPS  # noqa: F401 (re-exported)

TOP_LEVEL_KEYS = ("run", "seed", "benchmark", "corruptions", "zoo", "models", "pairs", "reference",
                  "inference", "analysis")
OPTIONAL_TOP_LEVEL_KEYS = ("safety",)  # left out or null: the run measures no refusals (notebook 11 says so)

REQUIRED = {  # section -> keys a params file must give (no sensible default)
    "benchmark": ("datasets", "n", "image_size", "resize"),
    "corruptions": ("suite", "severities"),
    "zoo": (),
    "model": ("source", "prompt_style"),
    "pair": ("base", "aligned", "method"),
    "inference": ("batch_size", "max_new_tokens", "prompt_variants"),
    "analysis": (),
    "safety": (),
}

DEFAULTS = {
    "benchmark": {"sources": {}},
    "corruptions": {"format": "png", "jpeg_quality": 85, "workers": 2},
    "zoo": ZOO_DEFAULTS,  # the demo zoo's recipe: one home, vlmrobust/zoo/config.py
    # per model; ``label`` defaults to the model's name
    # quantize_skip: modules kept unquantized under nf4/int8 besides the output head, as module paths from the
    # model's top (e.g. model.vision_tower); null: bitsandbytes' default through transformers, every linear
    # layer but the output head, the vision tower and projector included
    "model": {"family": "other", "dtype": "auto", "quantization": "none", "quantize_skip": None, "revision": None,
              "enabled": True, "label": None, "unresolved": None},
    "pair": {"note": "", "enabled": True},
    # text_variants: the misleading-text variants (perturb.TEXT_VARIANTS), asked only at text_severities
    # (0 = clean; null = clean and the highest corruption severity) on the first text_items items of
    # each dataset (null = all), so that the second robustness axis stays cheap;
    # vision_cache_mb: memory for vision-tower outputs shared across prompt variants and models with
    # the same tower (vision_cache.py; 0 = off, as for hub models whose towers all differ)
    "inference": {"concise_datasets": [], "shard": "0/1", "chunk_size": 64, "device": "auto",
                  "text_variants": [], "text_severities": None, "text_items": None, "vision_cache_mb": 0},
    # table6_pair / figure7_pair: the P0 / P1 analogues of notebook 04 (null: the run's first / second pair);
    # probit_fit_on: the models notebook 06's lines are fitted on (base: the pairs' base models; all)
    # equivalence_margin: the margin of the two one-sided tests for "the fix eliminates the format loss"
    # safety (notebook 11): refusal under corruption. datasets: synth-safety (demo) or mm-safetybench (paper);
    # n: rows per set (synth-safety: even, badge/no-badge twins); suite / severities: null = the run's;
    # models: null = every model of the run; judge: null, or {source: <hub id or path>, refusal_labels: [...]}
    # (a transformers sequence-classification refusal model scored beside the keyword lists);
    # sources: hub/local overrides per set, as benchmark.sources
    "safety": {"datasets": ["synth-safety"], "n": 200, "suite": None, "severities": None, "models": None,
               "judge": None, "sources": {}},
    "analysis": {"bootstrap": 2000, "min_denominator": 0, "ci": 0.95, "table6_pair": None, "figure7_pair": None,
                 "probit_fit_on": "base", "equivalence_margin": 0.02},
}



def allowed(section: str) -> tuple[str, ...]:
    return REQUIRED[section] + tuple(k for k in DEFAULTS.get(section, {}) if k not in REQUIRED[section])
