"""Planning: which (item, corruption, severity, prompt variant) a process must run, and the shard it
belongs to (``inference.shard = "i/N"``: a SHA-256 of the key modulo N, the same split for every
model, so N processes write disjoint chunks into one store)."""

from __future__ import annotations

import hashlib
from typing import Iterable

import numpy as np
import pandas as pd

from .. import perturb, prompts


class InferenceError(RuntimeError):
    """Inference cannot proceed as configured; the message names the problem."""


def parse_shard(shard: str) -> tuple[int, int]:
    i, n = (int(x) for x in str(shard).split("/"))
    if not 0 <= i < n:
        raise InferenceError(f"shard must be 'i/N' with 0 <= i < N, got {shard!r}")
    return i, n


def shard_of(dataset: str, sample_id: str, corruption: str, severity: int, variant: str, n: int) -> int:
    key = f"{dataset}|{sample_id}|{corruption}|{severity}|{variant}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little") % n


def text_rows(m: pd.DataFrame, samples: pd.DataFrame, text: dict) -> tuple[list[pd.DataFrame], dict]:
    """The misleading-text variants' work rows (``text``: variants, severities, items, seed):
    the first ``items`` items of each dataset, at the given severities only (None: clean and the
    highest), each with its caption line and the answer it asserts. Items without a claim are
    skipped; returns the rows and {(dataset, variant): skipped}."""
    sev = text["severities"] if text["severities"] is not None else [0, int(m["severity"].max())]
    m = m[m["severity"].isin(sev)]
    rows, skipped = [], {}
    for ds, items in samples.groupby("dataset", sort=False):
        chosen = items.head(text["items"]) if text["items"] is not None else items
        for v in text["variants"]:
            claims = {r["sample_id"]: perturb.claim(r, v, text["seed"]) for r in chosen.to_dict("records")}
            skipped[(ds, v)] = sum(c is None for c in claims.values())
            ok = {k: c for k, c in claims.items() if c is not None}
            g = m[(m["dataset"] == ds) & m["sample_id"].isin(list(ok))]
            rows.append(g.assign(prompt_variant=v, caption=g["sample_id"].map(lambda i: ok[i].line),
                                 claim=g["sample_id"].map(lambda i: ok[i].asserted)))
    return rows, skipped


def plan(samples: pd.DataFrame, manifest: pd.DataFrame, variants: Iterable[str],
         concise_datasets: Iterable[str], shard: str = "0/1", text: dict | None = None) -> pd.DataFrame:
    """One row per (item, corruption, severity, prompt variant) this shard must run.

    ``text`` (optional) adds the misleading-text variants (``text_rows``); the number of
    items they skip is in ``work.attrs["text_skipped"]``."""
    concise_datasets = list(concise_datasets)
    variants = list(variants)
    items = samples[["dataset", "sample_id", "question", "options", "hint", "answer"]]
    m = manifest.merge(items, on=["dataset", "sample_id"], how="inner", validate="many_to_one")
    rows = []
    for ds, g in m.groupby("dataset", sort=False):
        for v in prompts.variants_for(ds, variants, concise_datasets):
            rows.append(g.assign(prompt_variant=v, caption="", claim=None))
    skipped = {}
    if text and text["variants"]:
        extra, skipped = text_rows(m, samples, text)
        rows.extend(extra)
    work = pd.concat(rows, ignore_index=True) if rows else m.assign(prompt_variant=[], caption=[], claim=[])
    i, n = parse_shard(shard)
    if n > 1:
        mine = [shard_of(d, s, c, int(v), p, n) == i for d, s, c, v, p in
                zip(work["dataset"], work["sample_id"], work["corruption"], work["severity"], work["prompt_variant"])]
        work = work[np.array(mine, bool)]
    work = work.sort_values(["dataset", "prompt_variant", "corruption", "severity", "sample_id"]).reset_index(drop=True)
    work.attrs["text_skipped"] = skipped
    return work


def text_settings(params: dict) -> dict:
    """The ``text`` argument of ``plan`` from a run's params."""
    inf = params["inference"]
    return {"variants": inf["text_variants"], "severities": inf["text_severities"], "items": inf["text_items"],
            "seed": params["seed"]}
