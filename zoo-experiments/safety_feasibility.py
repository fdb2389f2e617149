"""Can the demo zoo learn to refuse `synth-safety`'s harmful requests, and does it see the badge?

Two measurements on the shipped zoo, before any change to its recipe:

1. **Does the frozen tower see the hazard badge?** The zoo's vision tower was pretrained on objects,
   sizes and words, never on the badge, and stays frozen after pretraining. A linear probe on its
   pooled outputs (mean and max over the image tokens) is trained on badge/no-badge twins of the
   training split and tested on held-out twins, clean and under the run's corruptions at severities
   1, 3 and 5. Near 1.0 clean: the text model can learn refusal from the tower as it is; falling with
   severity: the perception path by which corruption can lower refusal on harm in the image.
2. **Does supervised fine-tuning teach refusal without costing the tasks?** `it` is fine-tuned
   (tower frozen, as in its own training) on `synth-safety` training items mixed with a replay of its
   own instruction data, then evaluated on held-out safety items (refusal per item type, clean and
   corrupted; probe answers) and on the four tasks' held-out items (clean accuracy, before and after).

    python zoo-experiments/safety_feasibility.py [--steps 300] [--pairs 400] [--eval-pairs 100]

Writes ``outputs/<run>/safety-feasibility/{probe.csv, refusal.csv, tasks.csv, summary.json}``. Not part of
``make test`` or ``make reproduce``: a measurement that decides the zoo's safety recipe.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import random
import time

import numpy as np
import pandas as pd

import vlmrobust as vr
from vlmrobust import prompts, refusal
from vlmrobust.data import safety, synthetic
from vlmrobust.zoo import build, config, examples, shipped, training
from vlmrobust.zoo.batching import tower_states

CORRUPTIONS = ("gaussian_noise", "defocus_blur", "jpeg_compression", "brightness")


def corrupted(images: list[bytes], name: str, severity: int, seed: int = 0) -> list[bytes]:
    """PNG bytes of each image under one corruption (the pipeline's own, seeded per image)."""
    from PIL import Image

    out = []
    for k, im in enumerate(images):
        arr = vr.corruptions.corrupt(Image.open(io.BytesIO(im)).convert("RGB"), name, severity, seed + k)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


def pooled(model, processor, images: list[bytes]) -> np.ndarray:
    states = tower_states(model, processor, images, progress=False)
    feats = [np.concatenate([states[im].mean(0).numpy(), states[im].amax(0).numpy()]) for im in images]
    return np.stack(feats)


def linear_probe(x_train, y_train, steps: int = 500, seed: int = 0):
    """A logistic-regression probe (torch, standardised inputs, weight decay); returns predict(x)."""
    import torch

    torch.manual_seed(seed)
    mu, sd = x_train.mean(0), x_train.std(0) + 1e-6
    x = torch.tensor((x_train - mu) / sd, dtype=torch.float32)
    y = torch.tensor(y_train, dtype=torch.float32)
    lin = torch.nn.Linear(x.shape[1], 1)
    opt = torch.optim.AdamW(lin.parameters(), lr=0.01, weight_decay=0.01)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(lin(x).squeeze(1), y).backward()
        opt.step()
    return lambda xs: (lin(torch.tensor((xs - mu) / sd, dtype=torch.float32)).squeeze(1) > 0).numpy()


def generate(model, processor, images: list[bytes], questions: list[str], batch: int = 16) -> list[str]:
    from PIL import Image

    lm = vr.models.LoadedModel(name="zoo", source="memory", model=model, processor=processor, revision="",
                               device="cpu", dtype="float32", quantization="none", family="gemma3",
                               prompt_style="chat")  # the pipeline's generation, on an in-memory model
    out = []
    for k in range(0, len(images), batch):
        ims = [Image.open(io.BytesIO(b)).convert("RGB") for b in images[k:k + batch]]
        texts = [prompts.build(processor, "chat", "gemma3", q, concise=True) for q in questions[k:k + batch]]
        out += [r["response"] for r in vr.inference.generation.generate_batch(lm, ims, texts, 24)]
    return out


def task_accuracy(model, processor, items: pd.DataFrame) -> pd.DataFrame:
    responses = generate(model, processor, items["image"].tolist(), items["question"].tolist())
    scored = items.assign(response=responses)
    scored["score"] = [vr.scoring.score_response(vr.data.DATASETS[r.dataset]["scorer"], r.response, list(r.answers),
                                                 r.answer, list(r.options))["score"] for r in scored.itertuples()]
    return scored.groupby("dataset")["score"].mean()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default="params/demo.yaml")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--pairs", type=int, default=400, help="training twin pairs (rows: twice as many)")
    ap.add_argument("--eval-pairs", type=int, default=100)
    ap.add_argument("--replay", type=int, default=800, help="the zoo's own instruction examples mixed in")
    a = ap.parse_args()
    p = vr.params.load(a.params)
    cfg = p["zoo"]  # the run's zoo settings, filled from the recipe
    zoo_dir = shipped.shipped_dir(cfg)  # the shipped zoo trained from them
    if zoo_dir is None:
        raise SystemExit(f"no shipped zoo for config hash {config.config_hash(cfg)}: run make reproduce first")
    out = vr.paths.run_dir(p["run"]) / "safety-feasibility"
    out.mkdir(parents=True, exist_ok=True)
    from transformers import AutoProcessor, Gemma3ForConditionalGeneration

    processor = AutoProcessor.from_pretrained(zoo_dir / "it")
    model = Gemma3ForConditionalGeneration.from_pretrained(zoo_dir / "it").eval()
    model.model.vision_tower.requires_grad_(False)
    train = safety.generate(2 * a.pairs, seed=0, split="train")
    held = safety.generate(2 * a.eval_pairs, seed=0, split="eval")
    summary = {"zoo": str(zoo_dir), "pairs": a.pairs, "eval_pairs": a.eval_pairs, "steps": a.steps}

    t = time.perf_counter()  # 1. the badge probe
    x_tr, y_tr = pooled(model, processor, train["image"].tolist()), train["badge"].to_numpy()
    predict = linear_probe(x_tr, y_tr)
    rows = [{"corruption": "none", "severity": 0,
             "accuracy": float((predict(pooled(model, processor, held["image"].tolist())) == held["badge"]).mean())}]
    for c in CORRUPTIONS:
        for s in (1, 3, 5):
            x = pooled(model, processor, corrupted(held["image"].tolist(), c, s))
            rows.append({"corruption": c, "severity": s, "accuracy": float((predict(x) == held["badge"]).mean())})
    probe = pd.DataFrame(rows)
    probe["train_accuracy"] = float((predict(x_tr) == y_tr).mean())
    probe.to_csv(out / "probe.csv", index=False)
    summary["probe_seconds"] = round(time.perf_counter() - t, 1)
    print(probe.to_string(index=False), flush=True)

    tasks = pd.concat([synthetic.generate(d, 50, seed=p["seed"] + 7, split="eval") for d in synthetic.TASKS],
                      ignore_index=True)
    before = task_accuracy(model, processor, tasks)

    t = time.perf_counter()  # 2. supervised fine-tuning on safety + replay
    own = examples.sft_examples(examples.training_items(cfg), processor, random.Random(cfg["seed"]))
    mix = examples.safety_sft_examples(train, processor) + random.Random(1).sample(own, min(a.replay, len(own)))
    random.Random(2).shuffle(mix)
    tuned = copy.deepcopy(model)
    states = tower_states(tuned, processor, [e.image for e in mix], progress=False)
    losses = training.train_sft(tuned, processor, mix, a.steps, cfg["batch_size"], cfg["lr"]["it"], cfg["seed"] + 9,
                                "it + safety", True, states)
    tuned.eval()
    summary["sft_seconds"], summary["sft_loss_last"] = round(time.perf_counter() - t, 1), float(np.mean(losses[-20:]))

    rows = []
    for c, s in [("none", 0)] + [(c, 5) for c in CORRUPTIONS] + [("gaussian_noise", 3), ("defocus_blur", 3)]:
        imgs = held["image"].tolist() if c == "none" else corrupted(held["image"].tolist(), c, s)
        for who, m in (("it", model), ("it+safety", tuned)):
            resp = generate(m, processor, imgs, held["question"].tolist())
            labels = refusal.score_all(resp)
            for (kind, badge), g in held.assign(label=labels, response=resp).groupby(["question_type", "badge"]):
                row = {"model": who, "corruption": c, "severity": s, "item_type": kind, "badge": badge, "n": len(g),
                       "refuse": float((g["label"] == refusal.REFUSE).mean()),
                       "inability": float((g["label"] == refusal.INABILITY_LABEL).mean())}
                if kind == "probe":
                    row["probe_correct"] = float((g["response"].str.strip().str.lower().str.rstrip(".")
                                                  == g["answer"]).mean())
                rows.append(row)
        print(f"{c} {s} done", flush=True)
    refusals = pd.DataFrame(rows)
    refusals.to_csv(out / "refusal.csv", index=False)
    after = task_accuracy(tuned, processor, tasks)
    acc = pd.DataFrame({"before": before, "after": after})
    acc.loc["mean"] = acc.mean()
    acc.to_csv(out / "tasks.csv")
    summary["weights"] = build.weights_hash(tuned)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(refusals.pivot_table(index=["item_type", "badge"], columns=["model", "corruption"], values="refuse")
          .round(2).to_string(), flush=True)
    print(acc.round(3).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
