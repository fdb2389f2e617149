"""Inference: every model on every (item, corruption, severity, prompt variant), resumable.

One generic path (``models.load`` -> ``prompts.build`` -> batched greedy
``generate``) for every model. Per prediction we store the prompt, the response, the
number of new tokens, the per-item latency, and for multiple-choice items the
probability of each option letter at the first generated position (softmax over the
letters' logits, bare and space-prefixed token forms summed) plus the share of the
full next-token distribution the letters hold (``letter_mass``, a format-compliance
diagnostic). The RAS analysis needs those probabilities.

Store: ``outputs/<run>/predictions/<model>/<dataset>/part-<shard>-<n>.parquet``,
each chunk written atomically (temporary name, then rename). The key of a
prediction is (model, revision, dataset, sample_id, corruption, severity,
prompt_variant); a re-run skips keys already stored, so a run killed at any
moment resumes with no duplicate and loses at most the chunk in flight. A stored
prediction counts as done only if it was made on the image the manifest now holds
for its key (``image_sha256``): when the corrupted images are regenerated (a
redesigned dataset, a new corruption seed) the stale predictions are dropped from
their chunks and made again, never mixed with the new images' scores.

Scale-out: ``inference.shard = "i/N"`` keeps only work items whose key hashes to i
modulo N (SHA-256, the same split for every model), so N processes (GPUs, Slurm
array tasks) write disjoint chunks into one store.
"""

from __future__ import annotations

import gc
import hashlib
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from . import artifacts, corruptions, paths, perturb, prompts, vision_cache
from .progress import bar as progress_bar
from . import models as models_mod
from .design import enabled_models, run_models

KEY = ["model", "revision", "dataset", "sample_id", "corruption", "severity", "prompt_variant"]
ITEM_KEY = ["dataset", "sample_id", "corruption", "severity", "prompt_variant"]


class InferenceError(RuntimeError):
    """Inference cannot proceed as configured; the message names the problem."""


# --- planning ---------------------------------------------------------------------

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


# --- the store --------------------------------------------------------------------

def item_keys(df: pd.DataFrame) -> list[tuple]:
    """The ``ITEM_KEY`` of each row as a tuple (severity as int), in row order."""
    return list(df[ITEM_KEY].astype({"severity": int}).itertuples(index=False, name=None))


class PredictionStore:
    """Parquet chunks of one model's predictions; atomic writes, key-based resume."""

    def __init__(self, root: Path, model: str, shard: str = "0/1"):
        self.root = Path(root) / model
        self.model = model
        self.shard_tag = str(shard).replace("/", "of")

    def chunks(self) -> list[Path]:
        return sorted(self.root.glob("*/part-*.parquet"))

    def read(self) -> pd.DataFrame:
        files = self.chunks()
        if not files:
            return pd.DataFrame(columns=KEY)
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)

    def done_keys(self, revision: str) -> set[tuple]:
        df = self.read()
        if df.empty:
            return set()
        return set(item_keys(df[df["revision"] == revision]))

    def drop_stale(self, revision: str, image_of: dict[tuple, str]) -> int:
        """Remove this revision's predictions whose key is in ``image_of`` but whose
        ``image_sha256`` is not the image given there (made on an image since replaced);
        returns how many. Each affected chunk is rewritten atomically without those rows."""
        dropped = 0
        for f in self.chunks():
            df = pd.read_parquet(f)
            expected = pd.Series([image_of.get(k) for k in item_keys(df)], index=df.index, dtype=object)
            stale = (df["revision"] == revision) & expected.notna() & (expected != df["image_sha256"])
            n = int(stale.sum())
            if not n:
                continue
            dropped += n
            if n == len(df):
                f.unlink()
            else:
                artifacts.write_parquet(df[~stale].reset_index(drop=True), f)
        return dropped

    def write(self, rows: list[dict]) -> Path | None:
        if not rows:
            return None
        df = pd.DataFrame(rows)
        digest = hashlib.sha256("\n".join(
            "|".join(map(str, k)) for k in df[ITEM_KEY].itertuples(index=False, name=None)).encode()).hexdigest()[:12]
        return artifacts.write_parquet(df, self.root / df["dataset"].iloc[0] / f"part-{self.shard_tag}-{digest}.parquet")


def load_predictions(run: str) -> pd.DataFrame:
    """Every stored prediction of a run (all models); the latest revision per model."""
    root = paths.run_dir(run) / "predictions"
    files = sorted(root.glob("*/*/part-*.parquet"))
    if not files:
        raise artifacts.MissingArtifact(artifacts.how_to_make(run, artifacts.PREDICTIONS))
    df = pd.concat([pd.read_parquet(f).assign(_mtime=f.stat().st_mtime) for f in files], ignore_index=True)
    latest = df.sort_values("_mtime").groupby("model")["revision"].last()
    df = df[df["revision"] == df["model"].map(latest)].drop(columns="_mtime")
    dup = df.duplicated(KEY)
    if dup.any():
        raise InferenceError(f"{int(dup.sum())} duplicate prediction keys in {root} (two processes ran the "
                             f"same shard?); remove one copy")
    return df.reset_index(drop=True)


# --- generation -------------------------------------------------------------------

def letter_token_ids(tokenizer, letters: str) -> dict[str, list[int]]:
    """Single-token ids of each letter, bare and space-prefixed (when the tokenizer distinguishes)."""
    out = {}
    for L in letters:
        ids = []
        for form in (L, " " + L):
            enc = tokenizer.encode(form, add_special_tokens=False)
            if len(enc) == 1 and enc[0] not in ids:
                ids.append(enc[0])
        out[L] = ids
    return out


def _eos_ids(lm) -> set[int]:
    ids = set()
    for src in (lm.model.generation_config.eos_token_id, lm.processor.tokenizer.eos_token_id,
                lm.processor.tokenizer.pad_token_id):
        if src is None:
            continue
        ids.update(src if isinstance(src, (list, tuple)) else [src])
    return ids


# The one decoding rule for every family: greedy, nothing that reshapes the distribution. A hub
# checkpoint's generation_config.json is not used (Qwen2-VL's sets repetition_penalty 1.05, others
# sampling): the ids of its special tokens are copied, every decoding setting comes from here.
GREEDY = {"do_sample": False, "num_beams": 1, "repetition_penalty": 1.0, "no_repeat_ngram_size": 0,
          "length_penalty": 1.0, "temperature": None, "top_p": None, "top_k": None}


def greedy_config(lm, max_new_tokens: int):
    """The explicit GenerationConfig of every generate call (special-token ids from the model's own)."""
    from transformers import GenerationConfig

    own = lm.model.generation_config
    return GenerationConfig(**GREEDY, max_new_tokens=max_new_tokens, eos_token_id=own.eos_token_id,
                            bos_token_id=own.bos_token_id, pad_token_id=lm.processor.tokenizer.pad_token_id,
                            output_logits=True, return_dict_in_generate=True)


def generation_settings(max_new_tokens: int, style: str) -> str:
    """What is recorded with each prediction: the effective decoding settings, as JSON."""
    import json

    return json.dumps({**{k: v for k, v in GREEDY.items() if v is not None}, "max_new_tokens": max_new_tokens,
                       "answer": "up to the first newline" if style == "completion" else "whole turn"},
                      sort_keys=True)


def generate_batch(lm, images: list, texts: list[str], max_new_tokens: int,
                   n_options: list[int] | None = None) -> list[dict]:
    """Greedy generation for one batch; option probabilities for rows with options.

    Each text is tokenised with exactly one BOS (``prompts.one_bos``); ``response`` is the answer
    (``prompts.answer_text``: completion prompts cut at the first newline), ``response_raw`` the
    whole continuation up to the end-of-sequence token."""
    import torch

    proc = lm.processor
    tok = proc.tokenizer
    adds = prompts.adds_bos(tok)
    texts = [prompts.one_bos(t, tok, adds) for t in texts]
    inputs = proc(text=texts, images=[[im] for im in images], return_tensors="pt", padding=True)
    inputs = inputs.to(lm.model.device)
    if "pixel_values" in inputs and lm.quantization == "none":
        inputs["pixel_values"] = inputs["pixel_values"].to(lm.model.dtype)
    with torch.inference_mode():
        out = lm.model.generate(**inputs, generation_config=greedy_config(lm, max_new_tokens))
    start = inputs["input_ids"].shape[1]
    seqs = out.sequences[:, start:].cpu()
    first = out.logits[0].float().cpu()  # raw logits of the first generated position (B x V)
    eos = _eos_ids(lm)
    k_max = max(n_options or [0])
    ids_by = letter_token_ids(tok, prompts.LETTERS[:k_max]) if k_max else {}
    results = []
    for b in range(len(texts)):
        ids = seqs[b].tolist()
        n_new = next((k for k, t in enumerate(ids) if t in eos), len(ids))
        raw = tok.decode(ids[:n_new], skip_special_tokens=True)
        res = {"response": prompts.answer_text(raw, lm.prompt_style), "response_raw": raw, "new_tokens": n_new,
               "option_letters": None, "option_probs": None, "letter_mass": None}
        k = (n_options or [0] * len(texts))[b]
        if k:
            letters = prompts.LETTERS[:k]
            full = torch.log_softmax(first[b], dim=-1)
            per_letter = torch.stack([torch.logsumexp(full[ids_by[L]], 0) if ids_by[L] else torch.tensor(-float("inf"))
                                      for L in letters])
            res["option_letters"] = letters
            res["option_probs"] = torch.softmax(per_letter, 0).tolist()
            res["letter_mass"] = float(per_letter.exp().sum())
        results.append(res)
    return results


def run_model(lm, work: pd.DataFrame, store: PredictionStore, corr_root: Path, batch_size: int,
              max_new_tokens: int, chunk_size: int, progress: bool = True,
              after_chunk: Callable[[int], None] | None = None) -> dict:
    """Run one loaded model over the work items not yet in the store (made on their current image)."""
    keys = item_keys(work)
    stale = store.drop_stale(lm.revision, dict(zip(keys, work["sha256"])))
    done = store.done_keys(lm.revision)
    todo = work[[k not in done for k in keys]]
    stats = {"model": lm.name, "planned": len(work), "already_done": len(work) - len(todo), "run": 0,
             "seconds": 0.0, "new_tokens": 0, "stale_dropped": stale}
    if todo.empty:
        return stats
    pending: list[dict] = []
    chunks = 0
    settings = generation_settings(max_new_tokens, lm.prompt_style)
    bar = progress_bar(total=len(todo), desc=lm.name, unit="item", disable=not progress)
    t_all = time.perf_counter()
    for (ds, variant), group in todo.groupby(["dataset", "prompt_variant"], sort=False):
        for s in range(0, len(group), batch_size):
            batch = group.iloc[s:s + batch_size]
            images, texts, nopts = [], [], []
            for r in batch.itertuples():
                images.append(corruptions.load_image({"path": r.path, "sha256": r.sha256}, corr_root, verify=True))
                opts = list(r.options) if r.options is not None else []
                texts.append(prompts.build(lm.processor, lm.prompt_style, lm.family, r.question, opts,
                                           r.hint or "", concise=prompts.is_concise(variant), caption=r.caption))
                nopts.append(len(opts))
            t0 = time.perf_counter()
            outs = generate_batch(lm, images, texts, max_new_tokens, nopts)
            dt = time.perf_counter() - t0
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            for r, text, o in zip(batch.itertuples(), texts, outs):
                pending.append({
                    "model": lm.name, "revision": lm.revision, "dataset": r.dataset, "sample_id": r.sample_id,
                    "corruption": r.corruption, "severity": int(r.severity), "prompt_variant": variant,
                    "prompt": text, "claim": r.claim, **o, "latency_s": dt / len(batch), "image_sha256": r.sha256,
                    "source": lm.source, "backend": "transformers", "device": lm.device, "dtype": lm.dtype,
                    "quantization": lm.quantization, "batch_size": len(batch),
                    "max_new_tokens": max_new_tokens, "created": now,
                    "generation": settings})
                stats["new_tokens"] += o["new_tokens"]
            stats["run"] += len(batch)
            bar.update(len(batch))
            while len(pending) >= chunk_size:
                store.write(pending[:chunk_size])
                pending = pending[chunk_size:]
                chunks += 1
                if after_chunk:
                    after_chunk(chunks)
        if pending:  # a chunk never mixes datasets or prompt variants
            store.write(pending)
            pending = []
            chunks += 1
            if after_chunk:
                after_chunk(chunks)
    bar.close()
    stats["seconds"] = time.perf_counter() - t_all
    return stats


def run_all(params: dict, work: pd.DataFrame, names: list[str], root: Path, checked: dict | None = None,
            progress: bool = True) -> pd.DataFrame:
    """Each model in turn over ``work``, predictions into ``root`` (one store per model), with the
    run's batch size and vision cache; returns a throughput table. ``checked``: ``models.check``'s
    results per model, when the caller ran it."""
    run_name, inf = params["run"], params["inference"]
    specs = enabled_models(params)
    corr_root = paths.run_dir(run_name) / "corruptions"
    cache = vision_cache.VisionCache(inf["vision_cache_mb"]) if inf["vision_cache_mb"] else None
    rows = []
    for name in names:
        lm = models_mod.load(name, specs[name], run_name, inf["device"], checked=(checked or {}).pop(name, None))
        cached = cache is not None and vision_cache.attach(lm.model, cache)
        before = cache.stats() if cached else None
        store = PredictionStore(root, name, inf["shard"])
        st = run_model(lm, work, store, corr_root, inf["batch_size"], inf["max_new_tokens"],
                       inf["chunk_size"], progress=progress)
        if cached:
            after = cache.stats()
            st.update({"vision_cache_hits": after["hits"] - before["hits"],
                       "vision_cache_misses": after["misses"] - before["misses"]})
        st.update({"device": lm.device, "dtype": lm.dtype, "quantization": lm.quantization,
                   "items_per_s": st["run"] / st["seconds"] if st["seconds"] else np.nan,
                   "mean_new_tokens": st["new_tokens"] / st["run"] if st["run"] else np.nan})
        rows.append(st)
        del lm
        gc.collect()
    return pd.DataFrame(rows)


def run(params: dict, progress: bool = True, only_models: list[str] | None = None) -> pd.DataFrame:
    """Run every model of the run over the manifest; returns a throughput table."""
    run_name = params["run"]
    inf = params["inference"]
    samples = artifacts.read(run_name, artifacts.SAMPLES)
    manifest = artifacts.read(run_name, artifacts.MANIFEST)
    work = plan(samples, manifest, inf["prompt_variants"], inf["concise_datasets"], inf["shard"], text_settings(params))
    names = only_models or run_models(params)
    specs = enabled_models(params)
    # fail before any weights load: sources, quantisation, chat templates
    checked = {name: models_mod.check(name, specs[name], run_name, inf["device"]) for name in names}
    return run_all(params, work, names, paths.run_dir(run_name) / "predictions", checked, progress)
