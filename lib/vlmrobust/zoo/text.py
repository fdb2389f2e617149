"""The zoo's words: scene captions, the answers it is trained to give, and its tokenizer.

The tokenizer is a byte-level BPE trained by the compendium with the ``tokenizers`` library on every
phrase the synthetic benchmark and the prompts use (``corpus``), wrapped as a
``PreTrainedTokenizerFast`` with Gemma-style special tokens and chat template, so the
checkpoint loads through ``AutoProcessor`` like a hub model.
"""

from __future__ import annotations

import json
import random
import re

from .. import prompts
from ..data import synthetic

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
    for d in synthetic.TASKS:
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

