"""The study design of a run: which models are evaluated, how they pair, what they are called.

Every analysis asks the same questions of the params before it computes anything:
which models does the run evaluate, which base/aligned pairs does it compare, what is
each model's display label, which prompt variant do the main tables use, which
dataset plays GQA's part (Tables 5 and 6 are GQA tables), and is this run the paper's
own configuration (then its numbers are set beside the published ones). They are
answered here, once.
"""

from __future__ import annotations

from typing import NamedTuple

from .data import DATASETS, PAPER_NAMES
from .prompts import CONCISE_VARIANT

MAIN_VARIANT = CONCISE_VARIANT  # the paper's tables use its corrected (concise) prompts


class Pair(NamedTuple):
    """One base/aligned comparison of the run (``pairs.<id>`` in params)."""

    id: str
    base: str
    aligned: str
    method: str

    @property
    def label(self) -> str:
        return f"{self.id} ({self.method})"


def enabled_models(p: dict) -> dict:
    return {k: v for k, v in p["models"].items() if v["enabled"]}


def enabled_pairs(p: dict) -> dict:
    return {k: v for k, v in p["pairs"].items() if v["enabled"]}


def pairs(p: dict) -> list[Pair]:
    """The run's enabled pairs, in params order."""
    return [Pair(pid, q["base"], q["aligned"], q["method"]) for pid, q in enabled_pairs(p).items()]


def run_models(p: dict) -> list[str]:
    """Models the run evaluates: every model of an enabled pair, plus the reference."""
    names: list[str] = []
    for pair in pairs(p):
        for m in (pair.base, pair.aligned):
            if m not in names:
                names.append(m)
    if p["reference"] not in names:
        names.append(p["reference"])
    return names


def label(p: dict, model: str) -> str:
    """A model's display label (``models.<name>.label``; params fills it with the name)."""
    return p["models"][model]["label"]


def item_id(frame):
    """One string per row naming its item across datasets (``<dataset>|<sample_id>``): the unit every
    paired statistic resamples, so a sample id that two datasets share is never one item."""
    return frame["dataset"].astype(str) + "|" + frame["sample_id"].astype(str)


def main_scores(scores):
    """The predictions the paper's tables are computed on (the main prompt variant)."""
    return scores[scores["prompt_variant"] == MAIN_VARIANT]


def gqa_like(p: dict) -> str:
    """The run's dataset that plays GQA's part (GQA itself or its synthetic twin); else the first."""
    datasets = p["benchmark"]["datasets"]
    return next((d for d in datasets if DATASETS[d]["twin"] == "gqa"), datasets[0])


def is_paper_configuration(p: dict) -> bool:
    """Does the run evaluate the paper's four benchmarks (so its tables can stand beside the paper's)?"""
    return set(p["benchmark"]["datasets"]) == set(PAPER_NAMES)
