"""Preflight: everything about a run that can fail, checked before any image or weight is downloaded.

A first GPU run of the paper's configuration should not discover after an hour of downloads and
corruption rendering that a converted checkpoint is missing, a gated licence was never accepted,
torchvision cannot import or bitsandbytes has no CUDA. ``make preflight PARAMS=paper`` (run by
``make reproduce`` before notebook 01) checks, in about a minute:

- every model the run evaluates: ``models.check`` (the source exists locally or on the hub and this
  login may read it, the processor loads, the quantization runs on the device, a chat model has a
  template, torchvision imports), CUDA where the params ask for it, and the size of its weights;
  the demo zoo's models: the shipped zoo's digests (or that notebook 00 will train it);
- every dataset: its split's files and their sizes (one listing request, no data), or its local
  copy; the synthetic datasets are rendered on the fly;
- the disk: what the run will write (weights not yet in the cache, corrupted images) against what
  is free.

One table of results (``check``, ``target``, ``status``, ``detail``); a failure names the model or the
dataset and what to do. ``python -m vlmrobust.preflight --params params/paper.yaml``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import pandas as pd

from . import models, paths
from .data import DATASETS

OK, FAIL, INFO = "ok", "FAIL", "info"
PNG_BYTES = 60_000  # a generous size of one corrupted 224 x 224 PNG (the demo's average is below it)


def _row(check: str, target: str, status: str, detail: str, nbytes: int = 0) -> dict:
    return {"check": check, "target": target, "status": status, "detail": detail, "bytes": int(nbytes)}


def _in_zoo(params: dict, spec: dict) -> bool:
    if params["zoo"] is None:
        return False
    src = models.expand_source(spec["source"], params["run"])
    return Path(src).resolve().parent == Path(models.expand_source(params["zoo"]["dir"], params["run"])).resolve()


def zoo_rows(params: dict) -> list[dict]:
    """The demo zoo: the shipped zoo's digests, or the training notebook 00 will do."""
    from . import digests
    from .zoo import shipped
    from .zoo.config import config_hash

    d = shipped.shipped_dir(params["zoo"], shipped.ROOT)
    if d is None:
        return [_row("zoo", config_hash(params["zoo"]), INFO,
                     "no shipped zoo has this config hash: notebook 00 will train it (about 20 minutes on 2 cores)")]
    try:
        n = digests.verify(d)
    except digests.DigestError as e:
        return [_row("zoo", d.name, FAIL, f"{e}")]
    return [_row("zoo", d.name, OK, f"shipped zoo {d}: {n} files match their SHA-256 digests")]


def weights_bytes(source: str) -> int:
    """The size of a checkpoint's weights: local files, or the hub repository's listing (no download)."""
    if models.is_local(source):
        p = paths.resolve(source)
        return sum(f.stat().st_size for f in p.rglob("*.safetensors")) if p.is_dir() else 0
    from huggingface_hub import HfFileSystem

    found = HfFileSystem().find(source, detail=True)
    return sum(int(i.get("size", 0)) for p, i in found.items() if p.endswith((".safetensors", ".bin")))


def model_rows(params: dict) -> list[dict]:
    from .design import run_models

    rows = []
    inf = params["inference"]
    device = inf["device"]
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            rows.append(_row("cuda", device, FAIL, f"params ask for {device} (inference.device) but torch "
                             f"{torch.__version__} sees no GPU: install the CUDA build of torch (docs/paper-mode.md, "
                             "step 1) or set inference.device: auto"))
    for name in run_models(params):
        spec = models.fill_model(name, params["models"][name])
        if _in_zoo(params, spec):
            continue  # the zoo's checkpoints come from notebook 00 (zoo_rows)
        try:
            c = models.check(name, spec, params["run"], device)
        except models.ModelError as e:
            rows.append(_row("model", name, FAIL, str(e)))
            continue
        try:
            size = weights_bytes(c["source"])
        except Exception as e:  # noqa: BLE001 - a size is informative only
            size, note = 0, f"; weights' size unknown ({type(e).__name__})"
        else:
            note = f"; weights {size / 1e9:.2f} GB"
        downloads = 0 if models.is_local(c["source"]) else size  # a local checkpoint is already on disk
        rows.append(_row("model", name, OK, f"{c['source']} on {c['device']}, {spec['quantization']}, processor "
                                            f"{type(c['processor']).__name__}{note}", downloads))
    return rows


def dataset_rows(params: dict) -> list[dict]:
    from .data import hub, splits

    rows = []
    for name in params["benchmark"]["datasets"]:
        if DATASETS[name]["kind"] == "synthetic":
            rows.append(_row("dataset", name, OK, "synthetic: rendered on the fly"))
            continue
        src = {**hub.DEFAULT_SOURCES[name], **params["benchmark"]["sources"].get(name, {})}
        if src.get("path"):
            p = paths.resolve(src["path"])
            files = splits.local_files(p) if p.exists() else []
            if not files:
                rows.append(_row("dataset", name, FAIL, f"benchmark.sources.{name}.path = {src['path']}: no Parquet "
                                                        "(or MMBench .tsv) files there"))
            else:
                rows.append(_row("dataset", name, OK, f"local copy: {len(files)} file(s), "
                                                      f"{sum(f.stat().st_size for f in files) / 1e9:.2f} GB"))
            continue
        configs = [src["config"]] + ([src["images_config"]] if name == "gqa" else [])
        for config in configs:
            try:
                files, sizes = splits.hub_split_files(src["id"], config, src["split"], src["revision"], name)
            except Exception as e:  # noqa: BLE001 - offline, gated, missing split all land here
                rows.append(_row("dataset", name, FAIL,
                                 f"{src['id']} (config {config!r}, split {src['split']!r}): {type(e).__name__}: "
                                 f"{str(e)[:200]}; log in (hf auth login) or set benchmark.sources.{name}.path to a "
                                 "local copy"))
                continue
            rows.append(_row("dataset", name, OK,
                             f"{src['id']} config {config!r} split {src['split']!r}: {len(files)} file(s), "
                             f"{sum(sizes.values()) / 1e9:.2f} GB on the hub, read in place (footers, ids and the "
                             "chosen rows' row groups only)"))
    return rows


def safety_rows(params: dict) -> list[dict]:
    """Notebook 11's safety sets: rendered (synth-safety), or listed on the hub or in a local copy."""
    from .data import DataError, safety_hub

    s = params.get("safety")
    if s is None:
        return []
    rows = []
    for name in s["datasets"]:
        if name != safety_hub.MM_SAFETYBENCH:
            rows.append(_row("safety set", name, OK, "synthetic: rendered on the fly"))
            continue
        try:
            src = safety_hub.check_source((s["sources"] or {}).get(name))
            files, _ = safety_hub.scenario_files(src)
        except DataError as e:
            rows.append(_row("safety set", name, FAIL, f"{e}; or set safety.sources.{name}.path"))
            continue
        rows.append(_row("safety set", name, OK, f"{src.get('path') or src['id']} split {src['split']!r}: "
                                                 f"{len(files)} scenario file(s), read in place"))
    return rows


def disk_rows(params: dict, rows: list[dict]) -> list[dict]:
    """What the run writes against the free space: the models' weights (into the Hugging Face cache)
    and the corrupted images (into outputs/<run>)."""
    from .corruptions import resolve_suite

    b, c = params["benchmark"], params["corruptions"]
    conditions = 1 + len(resolve_suite(c["suite"])) * len(c["severities"])
    images = b["n"] * len(b["datasets"]) * conditions * PNG_BYTES
    weights = sum(r["bytes"] for r in rows if r["check"] == "model")
    need = images + weights
    out = paths.outputs_root()
    out.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(out).free
    detail = (f"needs about {need / 1e9:.1f} GB (weights {weights / 1e9:.1f} GB, corrupted images "
              f"{images / 1e9:.2f} GB) where {free / 1e9:.1f} GB are free under {out}")
    if need > free:
        return [_row("disk", str(out), FAIL, detail + ": free space first, or point VLMROBUST_OUTPUTS and HF_HOME "
                                                      "at a larger disk", need)]
    return [_row("disk", str(out), OK, detail, need)]


def needs_hub(params: dict) -> bool:
    """Does the run read anything from the hub (a model or dataset without a local source)?"""
    from .data.safety_hub import SYNTH_SAFETY
    from .design import run_models

    for name in run_models(params):
        spec = models.fill_model(name, params["models"][name])
        if not _in_zoo(params, spec) and not models.is_local(models.expand_source(spec["source"], params["run"])):
            return True
    safety = params.get("safety") or {"datasets": [], "sources": {}}
    return any(DATASETS[d]["kind"] != "synthetic" and not params["benchmark"]["sources"].get(d, {}).get("path")
               for d in params["benchmark"]["datasets"]) or any(
        d != SYNTH_SAFETY and not (safety["sources"] or {}).get(d, {}).get("path") for d in safety["datasets"])


def hub_reachable(host: str = "huggingface.co", timeout: float = 5.0) -> bool:
    import socket

    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def go_offline() -> None:
    """Read the hub from the local cache only (no retries against an unreachable server)."""
    import os

    import huggingface_hub.constants as hc

    os.environ["HF_HUB_OFFLINE"] = "1"
    hc.HF_HUB_OFFLINE = True


def check(params: dict) -> pd.DataFrame:
    """Every preflight check of a run, as one table (nothing is downloaded but listings and processors)."""
    rows = zoo_rows(params) if params["zoo"] is not None else []
    if needs_hub(params) and not hub_reachable():
        rows.append(_row("hub", "huggingface.co", FAIL, "the hub cannot be reached from this machine: what is not "
                                                        "in the local cache below fails; give local copies "
                                                        "(benchmark.sources.<name>.path, models.<name>.source) or "
                                                        "run where the hub is reachable"))
        go_offline()
    rows += model_rows(params)
    rows += dataset_rows(params)
    rows += safety_rows(params)
    rows += disk_rows(params, rows)
    return pd.DataFrame(rows, columns=["check", "target", "status", "detail", "bytes"])


def main(argv: list[str] | None = None) -> int:
    from . import params as params_mod

    ap = argparse.ArgumentParser(prog="python -m vlmrobust.preflight", description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default="params/demo.yaml")
    a = ap.parse_args(argv)
    try:
        p = params_mod.load(a.params)
    except params_mod.ParamsError as e:
        print(f"params error: {e}", file=sys.stderr)
        return 2
    t = check(p)
    for r in t.itertuples():
        print(f"{r.status:4s}  {r.check:7s} {r.target}: {r.detail}")
    failed = t[t["status"] == FAIL]
    if len(failed):
        print(f"\npreflight: {len(failed)} problem(s) above; nothing was downloaded or rendered", file=sys.stderr)
        return 1
    print(f"\npreflight: run '{p['run']}' is ready ({len(t)} checks)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
