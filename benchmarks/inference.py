"""Batched vs unbatched generation throughput on the same tiny model, in one run.

Items per second at batch size 16 vs 1 over the same items (synthetic, clean), greedy,
``--max-new-tokens`` tokens. The model is the demo zoo's ``it`` checkpoint when it has been
trained (outputs/demo/zoo/it), otherwise an untrained model of the same architecture
(the timing depends on shapes, not on weights; with random weights responses may stop
at a random end token, so ``min_new_tokens`` is forced equal to ``max_new_tokens``).
Goal: batch 16 >= 3x batch 1 on a 2-core CPU.

    python benchmarks/inference.py [--items 64] [--max-new-tokens 16]
"""

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

import torch  # noqa: E402
from PIL import Image  # noqa: E402

from vlmrobust import data, models, params, paths, prompts, zoo  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=64)
    ap.add_argument("--max-new-tokens", type=int, default=16)
    ap.add_argument("--batch", type=int, default=16)
    a = ap.parse_args()
    torch.set_num_threads(2)
    demo = params.load("params/demo.yaml")
    trained = paths.ROOT / "outputs" / "demo" / "zoo" / "it"
    with tempfile.TemporaryDirectory() as tmp:
        if (trained / "config.json").exists():
            src, which = trained, "demo zoo it (trained)"
        else:
            cfg = demo["zoo"]
            proc = zoo.build_processor(cfg)
            m = zoo.build_model(cfg, proc)
            m.save_pretrained(Path(tmp) / "m")
            proc.save_pretrained(Path(tmp) / "m")
            src, which = Path(tmp) / "m", "untrained model of the demo zoo architecture"
        lm = models.load("bench", {"source": str(src), "prompt_style": "chat", "family": "gemma3",
                                   "dtype": "float32"}, "bench")
        items = data.load_benchmark("synth-vqa", a.items, seed=7)
        images = [Image.open(io.BytesIO(b)).convert("RGB") for b in items["image"]]
        texts = [prompts.build(lm.processor, "chat", "gemma3", q, concise=True) for q in items["question"]]
        tok = lm.processor.tokenizer

        def run(bs):
            t0 = time.perf_counter()
            for s in range(0, len(texts), bs):
                inp = lm.processor(text=texts[s:s + bs], images=[[im] for im in images[s:s + bs]],
                                   return_tensors="pt", padding=True)
                with torch.inference_mode():
                    lm.model.generate(**inp, max_new_tokens=a.max_new_tokens, min_new_tokens=a.max_new_tokens,
                                      do_sample=False, pad_token_id=tok.pad_token_id)
            return len(texts) / (time.perf_counter() - t0)

        run(4)  # warm-up
        ips1 = run(1)
        ipsb = run(a.batch)
    write("inference", {"model": which, "parameters": sum(p.numel() for p in lm.model.parameters()),
                        "items": a.items, "new_tokens_per_item": a.max_new_tokens,
                        "items_per_s": {"batch_1": round(ips1, 2), f"batch_{a.batch}": round(ipsb, 2)},
                        "speedup": round(ipsb / ips1, 2), "goal": f"batch {a.batch} >= 3x batch 1"})


if __name__ == "__main__":
    main()
