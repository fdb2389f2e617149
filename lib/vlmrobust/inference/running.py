"""Running: each model over the planned work, predictions into the store, with throughput."""

from __future__ import annotations

import gc
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .. import artifacts, corruptions, paths, prompts, vision_cache
from .. import models as models_mod
from ..design import enabled_models, run_models
from ..progress import bar as progress_bar
from .generation import generate_batch, generation_settings
from .planning import plan, text_settings
from .store import PredictionStore, item_keys


def is_out_of_memory(e: BaseException) -> bool:
    """A device out-of-memory error (CUDA's, or an allocator's message saying so)."""
    import torch

    oom = getattr(torch.cuda, "OutOfMemoryError", ())
    return (bool(oom) and isinstance(e, oom)) or "out of memory" in str(e).lower()


def generate_with_backoff(lm, images: list, texts: list[str], max_new_tokens: int, n_options: list[int]) -> list[dict]:
    """``generate_batch``, halving the batch and retrying both halves on an out-of-memory error (down to
    one item, which re-raises): every item is answered once, in order, none lost or repeated."""
    try:
        return generate_batch(lm, images, texts, max_new_tokens, n_options)
    except Exception as e:  # noqa: BLE001 - only out-of-memory is retried
        if not is_out_of_memory(e) or len(texts) <= 1:
            raise
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        h = len(texts) // 2
        return (generate_with_backoff(lm, images[:h], texts[:h], max_new_tokens, n_options[:h])
                + generate_with_backoff(lm, images[h:], texts[h:], max_new_tokens, n_options[h:]))


def _load_images(batch: pd.DataFrame, corr_root: Path) -> list:
    """One batch's images, decoded and checked against their SHA-256 (run in a worker thread)."""
    return [corruptions.load_image({"path": r.path, "sha256": r.sha256}, corr_root, verify=True)
            for r in batch.itertuples()]


def _texts(lm, batch: pd.DataFrame, variant: str) -> tuple[list, list]:
    """One batch's prompt texts and option counts (in the main thread: the tokenizer is not shared)."""
    texts, nopts = [], []
    for r in batch.itertuples():
        opts = list(r.options) if r.options is not None else []
        texts.append(prompts.build(lm.processor, lm.prompt_style, lm.family, r.question, opts,
                                   r.hint or "", concise=prompts.is_concise(variant), caption=r.caption))
        nopts.append(len(opts))
    return texts, nopts


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
    batches = [(variant, group.iloc[k:k + batch_size])
               for (_, variant), group in todo.groupby(["dataset", "prompt_variant"], sort=False)
               for k in range(0, len(group), batch_size)]
    # the next batch's images are decoded and hashed in a worker thread while this one generates
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = pool.submit(_load_images, batches[0][1], corr_root) if batches else None
        for i, (variant, batch) in enumerate(batches):
            images = ahead.result()
            if i + 1 < len(batches):
                ahead = pool.submit(_load_images, batches[i + 1][1], corr_root)
            texts, nopts = _texts(lm, batch, variant)
            t0 = time.perf_counter()
            outs = generate_with_backoff(lm, images, texts, max_new_tokens, nopts)
            dt = time.perf_counter() - t0
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            for r, text, o in zip(batch.itertuples(), texts, outs, strict=True):
                pending.append({
                    "model": lm.name, "revision": lm.revision, "dataset": r.dataset, "sample_id": r.sample_id,
                    "corruption": r.corruption, "severity": int(r.severity), "prompt_variant": variant,
                    "prompt": text, "claim": r.claim, **o, "latency_s": dt / len(batch), "image_sha256": r.sha256,
                    "source": lm.source, "backend": "transformers", "device": lm.device, "dtype": lm.dtype,
                    "quantization": lm.quantization, "quantization_skip": lm.quantization_skip,
                    "batch_size": len(batch), "max_new_tokens": max_new_tokens, "created": now,
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
            last = i + 1 == len(batches)
            if pending and (last or (batches[i + 1][1]["dataset"].iloc[0], batches[i + 1][0])
                            != (batch["dataset"].iloc[0], variant)):
                store.write(pending)  # a chunk never mixes datasets or prompt variants
                pending = []
                chunks += 1
                if after_chunk:
                    after_chunk(chunks)
    bar.close()
    stats["seconds"] = time.perf_counter() - t_all
    return stats


def run_all(params: dict, work: pd.DataFrame, names: list[str], root: Path, checked: dict | None = None,
            progress: bool = True, corr_root: Path | None = None) -> pd.DataFrame:
    """Each model in turn over ``work``, predictions into ``root`` (one store per model), with the
    run's batch size and vision cache; returns a throughput table. ``checked``: ``models.check``'s
    results per model, when the caller ran it; ``corr_root``: where the work's images are (default:
    the run's ``corruptions/``; the safety measurement has its own)."""
    run_name, inf = params["run"], params["inference"]
    specs = enabled_models(params)
    corr_root = corr_root or paths.run_dir(run_name) / "corruptions"
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
