"""The GPU smoke test of paper mode: every paper model through the project's own path, small.

20 items x 2 conditions (clean, Gaussian noise at severity 3) per model: the six models of
``params/paper.yaml`` (P0 in bf16 and in NF4), each loaded by ``models.load`` and run by
``inference.generate_batch`` as notebook 02 runs it. Per model it records items per second at the
run's batch size, peak GPU memory (or the process's peak resident memory on a CPU), and whether
batch 1 and the batch size give the same answers (left padding must not change an answer). Writes
``benchmarks/results/gpu_smoke.json``; the GPU-hours of a full run follow from items per second
(docs/paper-mode.md).

    python benchmarks/gpu_smoke.py                 (make gpu-smoke: the paper's models, hub or cache)
    python benchmarks/gpu_smoke.py --tiny          (tiny random checkpoints of the three families, as the
                                                    tests build them: no hub needed, e.g. on a lent GPU)
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests"))
from _common import write  # noqa: E402


def tiny_models(root: Path) -> dict:
    """Two tiny random checkpoints per family (the tests' builders), specs as params would give them."""
    from tinymodels import make_tiny_gemma3, make_tiny_internvl, make_tiny_qwen2_vl

    out = {}
    for fam, make in (("qwen2_vl", make_tiny_qwen2_vl), ("internvl", make_tiny_internvl), ("gemma3", make_tiny_gemma3)):
        for k, style in enumerate(("completion", "chat")):
            path = make(root / f"{fam}-{k}", seed=k)
            out[f"tiny-{fam}-{style}"] = {"source": str(path), "family": fam, "prompt_style": style}
    return out


def paper_models() -> dict:
    from vlmrobust import params
    from vlmrobust.design import run_models

    p = params.load("params/paper.yaml")
    return {m: p["models"][m] for m in run_models(p)}


def items(n: int):
    """n synthetic questions with their clean and corrupted images (the pipeline's own corruption)."""
    from PIL import Image

    from vlmrobust import corruptions, data

    df = data.load_benchmark("synth-vqa", n, seed=42)
    out = []
    for r in df.itertuples():
        clean = Image.open(io.BytesIO(r.image)).convert("RGB")
        noisy = Image.fromarray(corruptions.corrupt(r.image, "gaussian_noise", 3, seed=1))
        out += [(r.question, clean), (r.question, noisy)]
    return out


def peak_memory_mb(device: str) -> float:
    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(name: str, spec: dict, work: list, batch: int, device: str, dtype: str, quant: str) -> dict:
    import torch

    from vlmrobust import inference, models, prompts

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    spec = {**spec, "dtype": dtype, "quantization": quant}
    t0 = time.perf_counter()
    lm = models.load(name, spec, "gpu-smoke", device)
    load_s = time.perf_counter() - t0
    texts = [prompts.build(lm.processor, lm.prompt_style, lm.family, q, concise=True) for q, _ in work]
    images = [im for _, im in work]
    inference.generate_batch(lm, images[:1], texts[:1], 4)  # warm-up
    t0 = time.perf_counter()
    batched = []
    for k in range(0, len(work), batch):
        batched += inference.generate_batch(lm, images[k:k + batch], texts[k:k + batch], 16)
    seconds = time.perf_counter() - t0
    k = min(8, len(work))
    singles = [inference.generate_batch(lm, [im], [t], 16)[0] for im, t in zip(images[:k], texts[:k])]
    agree = sum(a["response_raw"] == b["response_raw"] for a, b in zip(batched[:k], singles))
    out = {"model": name, "dtype": dtype, "quantization": quant, "device": lm.device, "load_seconds": round(load_s, 1),
           "prompts": len(work), "batch_size": batch, "items_per_s": round(len(work) / seconds, 2),
           "mean_new_tokens": round(sum(b["new_tokens"] for b in batched) / len(batched), 1),
           "peak_memory_mb": round(peak_memory_mb(device), 1), "batch1_agreement": f"{agree}/{k}"}
    del lm
    if device == "cuda":
        torch.cuda.empty_cache()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiny", action="store_true", help="tiny random checkpoints instead of the paper's models")
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    a = ap.parse_args(argv)
    import torch

    device = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = "bfloat16" if device == "cuda" else "float32"
    work = items(a.items)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        specs = tiny_models(Path(tmp)) if a.tiny else paper_models()
        first = next(iter(specs))
        for name, spec in specs.items():
            if a.tiny:
                from tinymodels import no_video_processor

                ctx = no_video_processor()
            else:
                import contextlib

                ctx = contextlib.nullcontext()
            with ctx:
                for quant in (["none", "nf4"] if name == first or spec.get("quantization") == "nf4" else ["none"]):
                    rows.append(run_one(name, spec, work, a.batch, device, dtype, quant))
                    print(rows[-1], flush=True)
    write("gpu_smoke", {"device": device, "torch": torch.__version__,
                        "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
                        "tiny": a.tiny, "items": a.items, "models": rows,
                        "goal": "every model loads and answers; batch 1 and the batch size agree"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
