"""The demo zoo: tiny Gemma-3-architecture VLMs trained offline, so the study runs on a CPU.

Architecture: transformers' ``Gemma3ForConditionalGeneration`` with a small config
(a SigLIP vision tower + a Gemma-3 text model, about 1-3 M parameters) and a
``Gemma3Processor`` over a byte-level BPE tokenizer trained here with the
``tokenizers`` library on the benchmark's vocabulary, with a Gemma-style chat
template. Checkpoints are written with ``save_pretrained`` and loaded by the
inference path exactly as a hub checkpoint is (``AutoProcessor`` +
``AutoModelForImageTextToText``): nothing in the pipeline knows it is the demo.

The lineage mirrors how real models are made, on the synthetic benchmark's
*training* split (disjoint from the evaluation items):

- ``pt``: first the vision tower and projector alone learn dense per-token targets
  (which object is centred in each image-token cell, its size, the sign's word:
  ``train_vision``; the head is discarded), standing in for the pretrained SigLIP
  encoder a real VLM starts from; then, with the tower frozen from here on (as
  Gemma 3 keeps its SigLIP encoder frozen), the projector and text model learn
  compact scene captions ("small red circle, large blue square; sign: stop."). Given a question
  it continues like a caption: the raw pretrained checkpoint of the paper's Gemma
  confound.
- ``it``: supervised fine-tuning from ``pt`` on the four tasks in chat format;
  answers verbosely ("There are two circles.") unless the prompt carries the
  concise instruction, then with the short answer; MCQ with the letter.
- ``po``: preference optimisation from ``it`` on pairs that prefer the correct
  concise answer to a wrong one: DPO plus an SFT term on the chosen answer
  (MPO-style, as InternVL2.5-MPO was made). A plain implementation (``dpo_loss``,
  unit-tested against a hand-computed value); TRL's trainer was not used, to keep
  the tiny custom checkpoint's loop transparent and deterministic.

Determinism: every stage seeds torch and Python from ``seed``; on one machine
(same library versions and thread count) the same seed gives the same weights
(``weights_hash``). The zoo is cached under a hash of its config
(``config_hash``): notebook 00 skips training when that hash is already trained.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import prompts
from .data import synthetic

ZOO_KEYS = ("dir", "seed", "image_size", "patch_size", "image_tokens", "text_hidden", "text_layers",
            "vision_hidden", "vision_layers", "heads", "vocab_size", "train_items", "steps", "batch_size",
            "lr", "dpo_beta", "sft_weight", "threads", "eval_items")
NOT_HASHED = ("dir", "eval_items", "threads")  # do not change the weights (threads: same result, see docs)

DEFAULTS = {
    "seed": 0, "image_size": 224, "patch_size": 14, "image_tokens": 16, "text_hidden": 128,
    "text_layers": 3, "vision_hidden": 96, "vision_layers": 3, "heads": 2, "vocab_size": 600,
    "train_items": 2000, "steps": {"vision": 2000, "pt": 600, "it": 1800, "po": 150}, "batch_size": 32,
    "lr": {"vision": 3e-3, "pt": 1e-3, "it": 1e-3, "po": 1e-4}, "dpo_beta": 0.1, "sft_weight": 1.0, "threads": 2,
    "eval_items": 100,
}
STAGES = ("pt", "it", "po")  # the saved checkpoints
TRAINING_STEPS = ("vision", "pt", "it", "po")  # keys of zoo.steps / zoo.lr (vision: pretraining of the tower)
TASKS = ("synth-spatial", "synth-vqa", "synth-text", "synth-mcq")
SPECIAL = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>", "<start_of_image>",
           "<end_of_image>", "<image_soft_token>"]
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<start_of_turn>"
    "{{ 'model' if message['role'] == 'assistant' else message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for item in message['content'] %}{% if item['type'] == 'image' %}<start_of_image>"
    "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


def config(z: dict | None) -> dict:
    """The zoo params with defaults filled in (``steps`` and ``lr`` merged per stage)."""
    z = dict(z or {})
    out = {**DEFAULTS, **{k: v for k, v in z.items() if k not in ("steps", "lr")}}
    out["steps"] = {**DEFAULTS["steps"], **(z.get("steps") or {})}
    out["lr"] = {**DEFAULTS["lr"], **(z.get("lr") or {})}
    for key in ("steps", "lr"):
        unknown = set(out[key]) - set(TRAINING_STEPS)
        if unknown:
            raise ValueError(f"zoo: unknown {key} key(s) {sorted(unknown)}; allowed: {', '.join(TRAINING_STEPS)}")
    side = out["image_size"] // out["patch_size"]
    per_side = math.isqrt(out["image_tokens"])
    if per_side ** 2 != out["image_tokens"] or side % per_side:
        raise ValueError(f"zoo: image_tokens={out['image_tokens']} must be a square whose side divides "
                         f"image_size/patch_size = {side}")
    return out


def config_hash(cfg: dict) -> str:
    """Hash of everything that determines the weights (not where they are stored)."""
    key = {k: v for k, v in cfg.items() if k not in NOT_HASHED}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


# --- text: captions, answers, tokenizer --------------------------------------------------

def caption(scene: dict | str) -> str:
    """A compact caption of the scene, objects left to right (the pretraining target).

    Almost every token depends on the image ("small red circle, large blue square;
    sign: stop."): with template-heavy captions the tiny model learned the template and
    stayed blind to the image.
    """
    s = json.loads(scene) if isinstance(scene, str) else scene
    out = ", ".join(f"{o['size']} {o['colour']} {o['shape']}" for o in s["objects"])
    if s.get("sign"):
        out += ("; " if out else "") + f"sign: {s['sign']}"
    return (out or "empty") + "."


def verbose_answer(row) -> str:
    """The full-sentence answer an instruction-tuned model gives without the concise instruction."""
    qt, ans, q = row["question_type"], str(row["answer"]), str(row["question"])
    if len(row["options"]):
        return ans  # multiple choice: the letter
    if qt == "count":
        shape = re.search(r"How many (\w+)s are", q).group(1)
        n = int(ans)
        word = synthetic.NUMBER_WORDS[n]
        return f"There {'is' if n == 1 else 'are'} {word} {shape}{'' if n == 1 else 's'}."
    if qt == "colour":
        shape = re.search(r"color is the (\w+)\?", q).group(1)
        return f"The {shape} is {ans}."
    if qt == "shape":
        colour = re.search(r"the (\w+) object", q).group(1)
        return f"The {colour} object is a {ans}."
    if qt == "relation_yesno":
        return "Yes, it is." if ans == "yes" else "No, it is not."
    if qt == "relation_shape":
        return f"It is a {ans}."
    if qt == "relation_colour":
        return f"It is {ans}."
    if qt == "ocr":
        return f"The sign says {ans}."
    return ans


def wrong_answer(row, rng: random.Random) -> str:
    """A plausible wrong concise answer (the rejected side of a preference pair)."""
    ans = str(row["answer"])
    if len(row["options"]):
        return rng.choice([L for L in prompts.LETTERS[:len(row["options"])] if L != ans])
    pools = {"count": [str(i) for i in range(1, 6)], "colour": list(synthetic.COLOURS),
             "relation_colour": list(synthetic.COLOURS), "shape": list(synthetic.SHAPES),
             "relation_shape": list(synthetic.SHAPES), "relation_yesno": ["yes", "no"],
             "ocr": list(synthetic.WORDS)}
    return rng.choice([x for x in pools.get(row["question_type"], [ans + "s"]) if x != ans])


def corpus() -> list[str]:
    """Text the tokenizer is trained on: every phrase the benchmark and prompts use."""
    lines = [prompts.CONCISE, prompts.MCQ_INSTRUCTION, "Question: Answer:", "user model"]
    vocab = (list(synthetic.SHAPES) + list(synthetic.COLOURS) + list(synthetic.WORDS)
             + [w.upper() for w in synthetic.WORDS] + [s for v in synthetic.SYNONYMS.values() for s in v]
             + list(synthetic.NUMBER_WORDS.values()) + [str(i) for i in range(10)] + ["yes", "no"])
    for w in vocab:
        lines += [w, f" {w}", f"{w}s", f"a {w}", f"the {w}"]
    for d in TASKS:
        for i in range(60):
            it = synthetic.make_item(d, i, seed=12345, split="tokenizer")
            lines += [it["question"], caption(it["scene"]), verbose_answer(it)]
            lines += [f"{L}. {o}" for L, o in zip(prompts.LETTERS, it["options"])]
    lines += [f" {L}" for L in prompts.LETTERS[:4]] + list(prompts.LETTERS[:4])
    return lines


def build_tokenizer(vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus(), trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>", unk_token="<unk>",
        extra_special_tokens={"boi_token": "<start_of_image>", "eoi_token": "<end_of_image>",
                              "image_token": "<image_soft_token>"},
        padding_side="left", chat_template=CHAT_TEMPLATE)


def build_processor(cfg: dict):
    from transformers import Gemma3Processor
    from transformers.models.gemma3.image_processing_pil_gemma3 import Gemma3ImageProcessorPil

    tok = build_tokenizer(cfg["vocab_size"])
    ip = Gemma3ImageProcessorPil(size={"height": cfg["image_size"], "width": cfg["image_size"]},
                                 image_mean=[0.5] * 3, image_std=[0.5] * 3)
    return Gemma3Processor(image_processor=ip, tokenizer=tok, chat_template=CHAT_TEMPLATE,
                           image_seq_length=cfg["image_tokens"])


def build_model(cfg: dict, processor):
    import torch
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3TextConfig, SiglipVisionConfig

    tok = processor.tokenizer
    th, vh, heads = cfg["text_hidden"], cfg["vision_hidden"], cfg["heads"]
    text = Gemma3TextConfig(vocab_size=len(tok), hidden_size=th, intermediate_size=2 * th,
                            num_hidden_layers=cfg["text_layers"], num_attention_heads=heads, num_key_value_heads=1,
                            head_dim=th // heads, max_position_embeddings=512, sliding_window=256,
                            pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                            eos_token_id=tok.eos_token_id)
    vision = SiglipVisionConfig(hidden_size=vh, intermediate_size=2 * vh, num_hidden_layers=cfg["vision_layers"],
                                num_attention_heads=heads, image_size=cfg["image_size"], patch_size=cfg["patch_size"])
    c = Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=cfg["image_tokens"],
                     boi_token_index=tok.boi_token_id, eoi_token_index=tok.convert_tokens_to_ids("<end_of_image>"),
                     image_token_index=tok.image_token_id)
    torch.manual_seed(cfg["seed"])
    model = Gemma3ForConditionalGeneration(c)
    # transformers initialises the projector's matrix to zeros (real checkpoints overwrite
    # it). Trained from scratch, a zero projection passes no gradient to the vision tower
    # until it has grown: the tower stayed nearly blind (colour read from a held-out cell:
    # 0.21 vs 0.54 after 300 vision steps with this initialisation).
    torch.nn.init.normal_(model.model.multi_modal_projector.mm_input_projection_weight, std=vh ** -0.5)
    model.generation_config.eos_token_id = [tok.eos_token_id, tok.convert_tokens_to_ids("<end_of_turn>")]
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.do_sample = False
    return model


def weights_hash(model) -> str:
    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


# --- training examples ----------------------------------------------------------------

@dataclass
class Example:
    image: bytes
    prompt: str
    target: str
    rejected: str | None = None
    cells: "np.ndarray | None" = None  # vision pretraining: per-cell class targets (scene_targets)


def training_items(cfg: dict) -> pd.DataFrame:
    """The zoo's training split: ``train_items`` per task (disjoint from evaluation items)."""
    return pd.concat([synthetic.generate(d, cfg["train_items"], seed=cfg["seed"], split="train") for d in TASKS],
                     ignore_index=True)


OBJECT_CLASSES = [(c, sh) for c in synthetic.COLOURS for sh in synthetic.SHAPES]  # 24; class 0 = nothing
SIZE_CLASSES = list(synthetic.OBJECT_SIZES)  # 3; class 0 = nothing
TARGET_HEADS = {"object": 1 + len(OBJECT_CLASSES), "size": 1 + len(SIZE_CLASSES), "word": 1 + len(synthetic.WORDS)}


def scene_targets(scene: dict | str, grid: int, image_size: int = synthetic.SIZE) -> np.ndarray:
    """Per-cell class targets for vision pretraining, on the ``grid`` x ``grid`` image-token grid.

    Columns: the object whose centre lies in the cell (colour x shape, 0 = none; the
    largest when two share a cell), its size (0 = none), and the sign's word on every
    cell the sign overlaps (0 = none). Row order is the projector's (row-major), so
    target k belongs to image token k.
    """
    s = json.loads(scene) if isinstance(scene, str) else scene
    out = np.zeros((grid * grid, 3), dtype=np.int64)
    cell = image_size / grid
    best = {}
    for o in s["objects"]:
        k = int(o["y"] // cell) * grid + int(o["x"] // cell)
        if k not in best or o.get("r", 0) > best[k].get("r", 0):
            best[k] = o
    for k, o in best.items():
        out[k, 0] = 1 + OBJECT_CLASSES.index((o["colour"], o["shape"]))
        out[k, 1] = 1 + SIZE_CLASSES.index(o["size"])
    if s.get("sign") and s.get("sign_box"):
        x0, y0, x1, y1 = s["sign_box"]
        word = 1 + synthetic.WORDS.index(s["sign"])
        for gy in range(grid):
            for gx in range(grid):
                if x0 < (gx + 1) * cell and x1 > gx * cell and y0 < (gy + 1) * cell and y1 > gy * cell:
                    out[gy * grid + gx, 2] = word
    return out


def vision_examples(items: pd.DataFrame, grid: int) -> list[Example]:
    return [Example(r["image"], "", "", cells=scene_targets(r["scene"], grid)) for _, r in items.iterrows()]


def caption_examples(items: pd.DataFrame, processor) -> list[Example]:
    ph = processor.image_token
    return [Example(r["image"], ph, " " + caption(r["scene"])) for _, r in items.iterrows()]


def sft_examples(items: pd.DataFrame, processor, rng: random.Random) -> list[Example]:
    """Chat-format QA: with the concise instruction -> short answer; without -> a sentence.

    Multiple choice appears twice, in the item's option order and in a shuffled one
    (the letter moves with the answer), so that no letter is tied to a position in the
    training data: trained on one order only, the model answered a near-constant letter
    whatever the image (synth-mcq 0.37, the same under every corruption). Measured: the
    two orders did not lift synth-mcq (0.33 in the demo zoo); the indirection from answer
    to letter is still beyond the tiny model.
    """
    out = []
    for _, r in items.iterrows():
        opts = list(r["options"])
        if opts:
            right = opts[prompts.LETTERS.index(str(r["answer"]))]
            for order in (opts, rng.sample(opts, len(opts))):
                p = prompts.build(processor, "chat", "gemma3", r["question"], order, concise=True)
                out.append(Example(r["image"], p, prompts.LETTERS[order.index(right)]))
            continue
        for concise in (True, False):
            p = prompts.build(processor, "chat", "gemma3", r["question"], concise=concise)
            out.append(Example(r["image"], p, str(r["answer"]) if concise else verbose_answer(r)))
    rng.shuffle(out)
    return out


def preference_examples(items: pd.DataFrame, processor, rng: random.Random) -> list[Example]:
    """Pairs preferring the correct concise answer to a wrong one, under both prompt variants."""
    out = []
    for _, r in items.iterrows():
        opts = list(r["options"])
        concise = True if opts else rng.random() < 0.5
        p = prompts.build(processor, "chat", "gemma3", r["question"], opts, concise=concise)
        out.append(Example(r["image"], p, str(r["answer"]), wrong_answer(r, rng)))
    rng.shuffle(out)
    return out


class Batcher:
    """Fast collation for training: tokenisation and decoded pixels are cached per example.

    Produces exactly what ``processor(text=..., images=...)`` produces (input_ids with the
    image placeholder expanded, attention_mask, token_type_ids marking image tokens,
    pixel_values normalised to [-1, 1]); ``tests/test_zoo.py`` checks the equality.
    Labels mask everything but the target and the end-of-sequence token.

    ``tower_states`` (image bytes -> the frozen vision tower's output, from
    ``tower_states``): batches then carry those states instead of pixels, and
    ``model_inputs`` feeds them through the projector.
    """

    def __init__(self, processor, tower_states: dict | None = None):
        self.processor = processor
        self.tower_states = tower_states
        self.tok = processor.tokenizer
        self.size = processor.image_processor.size["height"]
        self._ids: dict[tuple[str, str], tuple[list[int], int]] = {}
        self._pix: dict[bytes, "np.ndarray"] = {}  # keyed by the PNG bytes (CPython caches their hash)

    def _encode(self, prompt: str, target: str) -> tuple[list[int], int]:
        key = (prompt, target)
        if key not in self._ids:
            text = prompt.replace(self.processor.boi_token, self.processor.full_image_sequence)
            ids = self.tok.encode(text + target + self.tok.eos_token, add_special_tokens=False)
            tgt = self.tok.encode(target + self.tok.eos_token, add_special_tokens=False)
            if ids[len(ids) - len(tgt):] != tgt:  # the prompt/target boundary must not merge tokens
                raise ValueError(f"target tokens do not align for prompt ending {prompt[-20:]!r}")
            self._ids[key] = (ids, len(tgt))
        return self._ids[key]

    def _pixels(self, image: bytes) -> "np.ndarray":
        import io

        from PIL import Image

        k = image
        if k not in self._pix:
            im = Image.open(io.BytesIO(image)).convert("RGB")
            if im.size != (self.size, self.size):
                im = im.resize((self.size, self.size), Image.BILINEAR)
            self._pix[k] = np.asarray(im, dtype=np.uint8)
        return self._pix[k]

    def pixels(self, images: list[bytes]):
        """PNG images as the processor's ``pixel_values`` (normalised to [-1, 1])."""
        import torch

        pix = np.stack([self._pixels(image) for image in images])
        return (torch.from_numpy(pix).permute(0, 3, 1, 2).float() / 255.0 - 0.5) / 0.5

    def __call__(self, batch: list[Example], target_attr: str = "target"):
        import torch

        encs = [self._encode(ex.prompt, getattr(ex, target_attr)) for ex in batch]
        width = max(len(ids) for ids, _ in encs)
        pad = self.tok.pad_token_id
        input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        for i, (ids, n_tgt) in enumerate(encs):
            input_ids[i, :len(ids)] = torch.tensor(ids)
            attention[i, :len(ids)] = 1
            labels[i, len(ids) - n_tgt:len(ids)] = torch.tensor(ids[len(ids) - n_tgt:])
        token_type = (input_ids == self.tok.image_token_id).long()
        enc = {"input_ids": input_ids, "attention_mask": attention, "token_type_ids": token_type, "labels": labels}
        if self.tower_states is None:
            enc["pixel_values"] = self.pixels([ex.image for ex in batch])
        else:
            enc["tower_states"] = torch.stack([self.tower_states[ex.image] for ex in batch])
        return enc


def tower_states(model, processor, images, batch_size: int = 64, progress: bool = True) -> dict:
    """The (frozen) vision tower's last hidden states of each distinct image, computed once.

    Why: after vision pretraining the tower is frozen, yet every pt/it/po step would run
    it again on the same training images (a third of an ``it`` step, two thirds of a
    ``po`` step with its four forward passes). The projector stays trainable: it runs on
    these states in every step (``model_inputs``).
    """
    import torch
    from tqdm.auto import tqdm

    distinct = list(dict.fromkeys(images))
    batcher, out = Batcher(processor), {}
    with torch.no_grad():
        for k in tqdm(range(0, len(distinct), batch_size), desc="tower states", disable=not progress):
            chunk = distinct[k:k + batch_size]
            out.update(zip(chunk, model.model.vision_tower(pixel_values=batcher.pixels(chunk)).last_hidden_state))
    return out


def model_inputs(model, enc: dict) -> dict:
    """Keyword arguments for ``model(...)`` from a batch: cached tower states pass through the
    projector and enter as ``mm_encoder_outputs``, transformers' input for precomputed encoder
    outputs (identical to what ``pixel_values`` would give with the tower frozen)."""
    if "tower_states" not in enc:
        return enc
    from transformers.modeling_outputs import BaseModelOutputWithPooling

    enc = dict(enc)
    image = model.model.multi_modal_projector(enc.pop("tower_states"))
    return {**enc, "mm_encoder_outputs": {"image": BaseModelOutputWithPooling(pooler_output=image)}}


# --- losses -----------------------------------------------------------------------------

def sequence_logps(model, enc):
    """Sum of log-probabilities of the labelled tokens of each sequence (teacher forcing)."""
    import torch

    inputs = {k: v for k, v in model_inputs(model, enc).items() if k != "labels"}
    logits = model(**inputs).logits[:, :-1].float()
    labels = enc["labels"][:, 1:]
    mask = labels != -100
    lp = torch.log_softmax(logits, -1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (lp * mask).sum(-1), mask.sum(-1)


def dpo_loss(pol_chosen, pol_rejected, ref_chosen, ref_rejected, beta: float):
    """DPO (Rafailov et al. 2023): -log sigmoid(beta * ((pi_w - ref_w) - (pi_l - ref_l))), batch mean."""
    import torch.nn.functional as F

    margin = (pol_chosen - ref_chosen) - (pol_rejected - ref_rejected)
    return -F.logsigmoid(beta * margin).mean()


def mpo_loss(pol_chosen, pol_rejected, ref_chosen, ref_rejected, chosen_tokens, beta: float, sft_weight: float):
    """MPO-style objective: DPO plus the per-token NLL of the chosen answer (the SFT term)."""
    sft = -(pol_chosen / chosen_tokens.clamp(min=1)).mean()
    return dpo_loss(pol_chosen, pol_rejected, ref_chosen, ref_rejected, beta) + sft_weight * sft


# --- training loops ---------------------------------------------------------------------------

def _seed_all(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _lr_at(step: int, total: int, peak: float) -> float:
    warm = max(1, total // 20)
    if step < warm:
        return peak * (step + 1) / warm
    return peak * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def _optimise(model, processor, examples: list[Example], steps: int, batch_size: int, lr: float,
              weight_decay: float, seed: int, desc: str, progress: bool, loss_of, extra_params=(),
              states: dict | None = None) -> list[float]:
    """The shared loop: seeded shuffled batches, AdamW with warm-up + cosine, clipping.

    ``loss_of(batcher, batch)`` returns the scalar loss of one batch; ``extra_params``
    (e.g. a temporary head) are optimised along with the model's; ``states``: cached
    tower outputs for the batcher (see ``tower_states``).
    """
    import torch
    from tqdm.auto import tqdm

    _seed_all(seed)
    model.train()
    params = [p for p in (*model.parameters(), *extra_params) if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    batcher = Batcher(processor, states)
    rng = random.Random(seed)
    order = list(range(len(examples)))
    losses, pos = [], len(order)
    for step in tqdm(range(steps), desc=desc, disable=not progress):
        if pos + batch_size > len(order):  # a new epoch: reshuffle
            rng.shuffle(order)
            pos = 0
        batch = [examples[i] for i in order[pos:pos + batch_size]]
        pos += batch_size
        for g in opt.param_groups:
            g["lr"] = _lr_at(step, steps, lr)
        loss = loss_of(batcher, batch)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


def vision_head(cfg: dict):
    """The temporary linear head of vision pretraining: image token -> per-cell classes."""
    import torch

    torch.manual_seed(cfg["seed"] + 5)
    return torch.nn.Linear(cfg["text_hidden"], sum(TARGET_HEADS.values()))


def vision_logits(model, head, pixel_values) -> dict:
    """Per-head logits [batch, image_tokens, classes] from the projected image tokens."""
    feats = model.model.get_image_features(pixel_values).pooler_output
    return dict(zip(TARGET_HEADS, head(feats).split(list(TARGET_HEADS.values()), dim=-1)))


def train_vision(model, head, processor, examples: list[Example], steps: int, batch_size: int, lr: float,
                 seed: int, desc: str = "vision", progress: bool = True) -> list[float]:
    """Dense supervised pretraining of the vision tower and projector (the text model is untouched).

    Why: real VLMs start from a pretrained image encoder (Gemma 3 from SigLIP). Trained only
    through captions, the tiny tower learned too slowly for the 15-minute budget; a direct
    per-image-token target (which object is centred in this cell, its size, the sign's
    word) gives every token its own gradient. The head is discarded afterwards; the
    checkpoints keep the unchanged Gemma-3 architecture.
    """
    import torch
    import torch.nn.functional as F

    def loss_of(batcher, batch):
        logits = vision_logits(model, head, batcher.pixels([ex.image for ex in batch]))
        y = torch.from_numpy(np.stack([ex.cells for ex in batch]))
        return sum(F.cross_entropy(logits[h].reshape(-1, n), y[..., i].reshape(-1))
                   for i, (h, n) in enumerate(TARGET_HEADS.items()))

    return _optimise(model, processor, examples, steps, batch_size, lr, 0.01, seed, desc, progress, loss_of,
                     extra_params=list(head.parameters()))


def probe_vision(model, head, processor, items: pd.DataFrame, grid: int) -> dict:
    """Held-out per-cell accuracy of the vision head: colour and shape of the cells holding an object,
    empty cells called empty, and the sign's word (chance: 1/6, 1/4, -, 1/24)."""
    import torch

    images, batcher = items["image"].tolist(), Batcher(processor)
    with torch.no_grad():
        out = [vision_logits(model, head, batcher.pixels(images[k:k + 64])) for k in range(0, len(images), 64)]
    pred = {h: torch.cat([o[h] for o in out]).argmax(-1).numpy() for h in TARGET_HEADS}
    y = np.stack([scene_targets(s, grid) for s in items["scene"]])
    obj, word = y[..., 0] > 0, y[..., 2] > 0
    po, yo, k = pred["object"][obj] - 1, y[..., 0][obj] - 1, len(synthetic.SHAPES)
    seen = po >= 0
    return {"colour": float(np.mean(seen & (po // k == yo // k))), "shape": float(np.mean(seen & (po % k == yo % k))),
            "empty": float(np.mean(pred["object"][~obj] == 0)),
            "word": float(np.mean(pred["word"][word] == y[..., 2][word])) if word.any() else float("nan")}


def train_sft(model, processor, examples: list[Example], steps: int, batch_size: int, lr: float, seed: int,
              desc: str, progress: bool = True, states: dict | None = None) -> list[float]:
    """Next-token training on the targets (captions or answers); returns the loss per step."""
    return _optimise(model, processor, examples, steps, batch_size, lr, 0.01, seed, desc, progress,
                     lambda batcher, batch: model(**model_inputs(model, batcher(batch))).loss, states=states)


def train_preference(model, reference, processor, examples: list[Example], steps: int, batch_size: int,
                     lr: float, beta: float, sft_weight: float, seed: int, desc: str = "po",
                     progress: bool = True, states: dict | None = None) -> list[float]:
    """MPO-style preference optimisation against a frozen reference model."""
    import torch

    reference.eval()

    def loss_of(batcher, batch):
        enc_w, enc_l = batcher(batch, "target"), batcher(batch, "rejected")
        with torch.no_grad():
            ref_w, _ = sequence_logps(reference, enc_w)
            ref_l, _ = sequence_logps(reference, enc_l)
        pol_w, n_w = sequence_logps(model, enc_w)
        pol_l, _ = sequence_logps(model, enc_l)
        return mpo_loss(pol_w, pol_l, ref_w, ref_l, n_w, beta, sft_weight)

    return _optimise(model, processor, examples, steps, batch_size, lr, 0.0, seed, desc, progress, loss_of,
                     states=states)


# --- the whole zoo ------------------------------------------------------------------------------

def is_trained(zoo_dir: Path, cfg: dict) -> bool:
    meta = zoo_dir / "zoo.json"
    if not meta.exists():
        return False
    info = json.loads(meta.read_text())
    return info.get("config_hash") == config_hash(cfg) and all((zoo_dir / s / "config.json").exists() for s in STAGES)


def train(zoo_dir: str | Path, z: dict | None, progress: bool = True,
          log: Callable[[str], None] = print) -> dict:
    """Train pt -> it -> po, save each with save_pretrained under ``zoo_dir/<stage>``.

    Returns the metadata written to ``zoo_dir/zoo.json`` (config, its hash, weights
    hashes, seconds and loss curves per stage).
    """
    import copy

    import torch

    cfg = config(z)
    torch.set_num_threads(int(cfg["threads"]))
    zoo_dir = Path(zoo_dir)
    zoo_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    processor = build_processor(cfg)
    items = training_items(cfg)
    log(f"training items: {len(items)} ({cfg['train_items']} per task), rendered in {time.perf_counter() - t0:.1f} s")
    model = build_model(cfg, processor)
    log(f"model: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")
    info = {"config": cfg, "config_hash": config_hash(cfg), "stages": {}}
    rng = random.Random(cfg["seed"])

    def save(stage, m, losses, seconds):
        m.save_pretrained(zoo_dir / stage)
        processor.save_pretrained(zoo_dir / stage)
        info["stages"][stage] = {"steps": len(losses), "seconds": round(seconds, 1), "weights": weights_hash(m),
                                 "loss": losses}

    grid = math.isqrt(cfg["image_tokens"])
    t = time.perf_counter()
    head = vision_head(cfg)
    losses = train_vision(model, head, processor, vision_examples(items, grid), cfg["steps"]["vision"],
                          cfg["batch_size"], cfg["lr"]["vision"], cfg["seed"] + 4, "vision (dense targets)",
                          progress)
    held_out = pd.concat([synthetic.generate(d, 50, seed=cfg["seed"] + 7, split="eval") for d in TASKS],
                         ignore_index=True)
    info["vision"] = {"steps": len(losses), "seconds": round(time.perf_counter() - t, 1), "loss": losses,
                      "probe": probe_vision(model, head, processor, held_out, grid)}
    log("vision probe (held-out cells): " + ", ".join(f"{k} {v:.2f}" for k, v in info["vision"]["probe"].items()))
    # From here on the tower is frozen (Gemma 3 keeps its SigLIP encoder frozen too): the
    # projector and the text model learn to read it, and no step pays for its backward pass.
    model.model.vision_tower.requires_grad_(False)
    t = time.perf_counter()
    states = tower_states(model, processor, items["image"].tolist(), progress=progress)
    info["vision"]["seconds_states"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    losses = train_sft(model, processor, caption_examples(items, processor), cfg["steps"]["pt"],
                       cfg["batch_size"], cfg["lr"]["pt"], cfg["seed"] + 1, "pt (captions)", progress, states)
    save("pt", model, losses, time.perf_counter() - t)
    t = time.perf_counter()
    losses = train_sft(model, processor, sft_examples(items, processor, rng), cfg["steps"]["it"],
                       cfg["batch_size"], cfg["lr"]["it"], cfg["seed"] + 2, "it (instructions)", progress, states)
    save("it", model, losses, time.perf_counter() - t)
    reference = copy.deepcopy(model)
    for p in reference.parameters():
        p.requires_grad_(False)
    t = time.perf_counter()
    losses = train_preference(model, reference, processor, preference_examples(items, processor, rng),
                              cfg["steps"]["po"], max(2, cfg["batch_size"] // 2), cfg["lr"]["po"],
                              cfg["dpo_beta"], cfg["sft_weight"], cfg["seed"] + 3, "po (MPO-style)", progress,
                              states)
    save("po", model, losses, time.perf_counter() - t)
    info["seconds_total"] = round(time.perf_counter() - t0, 1)
    (zoo_dir / "zoo.json").write_text(json.dumps(info, indent=1))
    return info


# --- held-out evaluation against the zoo's goals -------------------------------------------

GOAL_CORRUPTIONS = ("gaussian_noise", "defocus_blur", "brightness", "jpeg_compression")  # the pilot suite


def _with_synonyms(words) -> frozenset:
    return frozenset([*words, *(s for w in words for s in synthetic.SYNONYMS.get(w, []))])


_COLOURS, _SHAPES = _with_synonyms(synthetic.COLOURS), _with_synonyms(synthetic.SHAPES)
ANSWER_SPACE = {  # question type -> the answers of the expected form (VQA-normalised)
    "colour": _COLOURS, "relation_colour": _COLOURS, "shape": _SHAPES, "relation_shape": _SHAPES,
    "count": frozenset([*(str(i) for i in range(10)), *synthetic.NUMBER_WORDS.values()]),
    "relation_yesno": frozenset(["yes", "no"]), "ocr": frozenset(synthetic.WORDS),
}


def format_ok(dataset_scorer: str, question_type: str, response: str, options) -> bool:
    """Is the response an answer of the form the question asks for? MCQ: it names exactly one
    option. Open-ended: after VQA normalisation it is one answer of the question type's kind
    (a colour for a colour question, a number for a count, a sign word for a sign, ...), not a
    sentence, a caption, or a word of another kind (``pt`` often ends a caption-like
    continuation with a sign word, "hotel.", whatever it was asked)."""
    from .scoring import extract_choice, normalize_vqa, options_dict

    if dataset_scorer == "mcq":
        return extract_choice(response, options_dict(options)) is not None
    return normalize_vqa(response) in ANSWER_SPACE[question_type]


def evaluate(zoo_dir: str | Path, n: int, seed: int = 0, batch_size: int = 32, max_new_tokens: int = 24,
             progress: bool = True) -> pd.DataFrame:
    """Score pt, it and po on ``n`` held-out evaluation items per task: clean (concise and plain
    prompts) and the pilot corruptions at severity 5 (concise). One row per response."""

    from PIL import Image
    from tqdm.auto import tqdm

    from . import corruptions, inference, models
    from .data import DATASETS, load_benchmark
    from .scoring import score_response

    items = pd.concat([load_benchmark(d, n, seed=seed + 1000) for d in TASKS], ignore_index=True)
    conds = [("none", 0)] + [(c, 5) for c in GOAL_CORRUPTIONS]
    images = {}
    for r in items.itertuples():
        for c, sev in conds:
            seed_c = corruptions.derive_seed(seed, r.dataset, r.sample_id, c, sev)
            images[(r.dataset, r.sample_id, c)] = Image.fromarray(corruptions.corrupt(r.image, c, sev, seed_c))
    rows = []
    zoo_dir = Path(zoo_dir)
    for stage in STAGES:
        style = "completion" if stage == "pt" else "chat"
        lm = models.load(f"zoo-{stage}", {"source": str(zoo_dir / stage), "prompt_style": style,
                                          "family": "gemma3", "dtype": "float32"}, "zoo-eval")
        jobs = []
        for r in items.itertuples():
            open_ended = DATASETS[r.dataset]["open_ended"]
            for c, sev in conds:
                for variant in (("concise", "plain") if (open_ended and c == "none") else ("concise",)):
                    jobs.append((r, c, sev, variant))
        for k in tqdm(range(0, len(jobs), batch_size), desc=f"evaluate {stage}", disable=not progress):
            chunk = jobs[k:k + batch_size]
            texts = [prompts.build(lm.processor, style, "gemma3", r.question, list(r.options),
                                   concise=(v == "concise")) for r, c, sev, v in chunk]
            outs = inference.generate_batch(lm, [images[(r.dataset, r.sample_id, c)] for r, c, sev, v in chunk],
                                            texts, max_new_tokens, [len(r.options) for r, *_ in chunk])
            for (r, c, sev, v), o in zip(chunk, outs):
                sc = score_response(DATASETS[r.dataset]["scorer"], o["response"], r.answers, r.answer, r.options)
                ok = format_ok(DATASETS[r.dataset]["scorer"], r.question_type, o["response"], r.options)
                rows.append({"model": stage, "dataset": r.dataset, "sample_id": r.sample_id, "corruption": c,
                             "severity": sev, "prompt_variant": v, "response": o["response"],
                             "score": sc["score"], "format_ok": ok})
    return pd.DataFrame(rows)


def goals(ev: pd.DataFrame) -> pd.DataFrame:
    """The issue's goals, measured: one row per goal with the value, the target and a verdict."""
    clean = ev[(ev["corruption"] == "none") & (ev["prompt_variant"] == "concise")]
    acc = clean.groupby(["model", "dataset"])["score"].mean().unstack()
    rows = []
    for m in ("it", "po"):
        v = float(acc.loc[m].mean())
        rows.append((f"{m}: clean accuracy, mean of the four tasks (concise prompt)", v, ">= 0.70", v >= 0.70))
    plain = ev[(ev["corruption"] == "none") & (ev["prompt_variant"] == "plain") & (ev["model"] == "it")]
    for d in ("synth-vqa", "synth-text"):
        drop = float(acc.loc["it", d] - plain[plain["dataset"] == d]["score"].mean())
        rows.append((f"it: accuracy lost on {d} without the concise instruction", drop, "marked (>= 0.30)",
                     drop >= 0.30))
    pt = clean[clean["model"] == "pt"]
    v = float(pt["format_ok"].mean())
    rows.append(("pt: share of responses in the expected answer format", v, "rare (<= 0.20)", v <= 0.20))
    it = ev[(ev["model"] == "it") & (ev["prompt_variant"] == "concise")]
    by = it.groupby(["corruption"])["score"].mean()
    v = float(by["none"] - by[list(GOAL_CORRUPTIONS)].mean())
    rows.append(("it: accuracy lost at severity 5, mean over the pilot corruptions", v, ">= 0.10", v >= 0.10))
    return pd.DataFrame(rows, columns=["goal", "measured", "target", "met"])
