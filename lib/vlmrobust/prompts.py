"""Prompts: the exact text each model sees, for chat and completion-style checkpoints.

- Chat models get the processor's chat template (one user turn: the image, then the text).
- Raw pretrained checkpoints (no usable chat template; the paper's Gemma ``-pt`` and
  Qwen2-VL base) get a completion prompt: the processor's image placeholder, then
  ``Question: ... Answer:``.
- Open-ended VQA on the ``concise_datasets`` gets the paper's verbosity fix,
  ``CONCISE`` appended (variant ``concise``); variant ``plain`` omits it (the A/B of
  notebook 05). Datasets outside ``concise_datasets`` have only one prompt.
- Variants ``mislead`` / ``truthful`` (``TEXT_VARIANTS``): the concise prompt with one line
  before it, a wrong / right caption or hint (``perturb.claim``; notebook 10).
- MCQ lists the options as ``A. ...`` lines and asks for the letter (VLMEvalKit's
  InternVL wording).

The exact prompt is stored with every prediction.
"""

from __future__ import annotations

from typing import Sequence

CONCISE = "Answer with a single word or short phrase only."
MCQ_INSTRUCTION = "Answer with the option's letter from the given choices directly."
LETTERS = "ABCDEFGH"  # option letters, in order (MMBench uses A-D; the synthetic MCQ too)

CONCISE_VARIANT = "concise"  # the paper's corrected prompt: CONCISE appended to open-ended questions
VARIANTS = (CONCISE_VARIANT, "plain")  # plain: the same prompt without it (the verbosity A/B)
# misleading text in the prompt (perturb.py): the concise prompt with a caption/hint line before it
MISLEAD, TRUTHFUL = "mislead", "truthful"
TEXT_VARIANTS = (MISLEAD, TRUTHFUL)


def is_concise(variant: str) -> bool:
    """Does this variant carry the verbosity fix (``concise`` and the text variants built on it)?"""
    return variant == CONCISE_VARIANT or variant in TEXT_VARIANTS

# the one family difference: Qwen2-VL's placeholder must sit between vision start/end tokens
IMAGE_PLACEHOLDER = {"qwen2_vl": "<|vision_start|><|image_pad|><|vision_end|>"}


class PromptError(ValueError):
    """A prompt cannot be built as configured (e.g. chat style without a chat template)."""


def variants_for(dataset: str, variants: Sequence[str], concise_datasets: Sequence[str]) -> list[str]:
    """The prompt variants that differ for this dataset (``plain`` only where ``concise`` applies)."""
    if dataset in concise_datasets:
        return list(variants)
    return [CONCISE_VARIANT] if CONCISE_VARIANT in variants else [list(variants)[0]]


def question_text(question: str, options: Sequence[str] = (), hint: str = "", *, concise: bool = False,
                  caption: str = "") -> str:
    """The user text (without image and template); ``caption`` is the text variants' line, first."""
    parts = [caption] if caption else []
    if hint:
        parts.append(str(hint))
    parts.append(str(question))
    if len(options):
        parts.extend(f"{LETTERS[i]}. {o}" for i, o in enumerate(options))
        parts.append(MCQ_INSTRUCTION)
    elif concise:
        parts.append(CONCISE)
    return "\n".join(parts)


def image_placeholder(processor, family: str | None) -> str:
    if family in IMAGE_PLACEHOLDER:
        return IMAGE_PLACEHOLDER[family]
    tok = getattr(processor, "image_token", None) or getattr(processor.tokenizer, "image_token", None)
    if not tok:
        raise PromptError("the processor has no image token; cannot build a completion prompt")
    return tok


def has_chat_template(processor) -> bool:
    return bool(getattr(processor, "chat_template", None) or getattr(processor.tokenizer, "chat_template", None))


def build(processor, style: str, family: str | None, question: str, options: Sequence[str] = (),
          hint: str = "", *, concise: bool = False, caption: str = "") -> str:
    """The full prompt string for one item."""
    text = question_text(question, options, hint, concise=concise, caption=caption)
    if style == "chat":
        if not has_chat_template(processor):
            raise PromptError("prompt_style is 'chat' but the processor has no chat template; "
                              "use prompt_style: completion for raw pretrained checkpoints")
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]
        return processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    if style == "completion":
        return f"{image_placeholder(processor, family)}Question: {text}\nAnswer:"
    raise PromptError(f"unknown prompt style {style!r}; use chat or completion")


def adds_bos(tokenizer) -> bool:
    """Does the tokenizer put its BOS token in front of the ids by itself (gemma-3's does)?"""
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is None:
        return False
    ids = tokenizer("a")["input_ids"]
    return bool(ids) and ids[0] == bos


def one_bos(text: str, tokenizer, adds: bool | None = None) -> str:
    """The text to tokenize so that the ids start with exactly one BOS.

    A chat template that renders ``{{ bos_token }}`` and a tokenizer that adds BOS as well give
    two, which costs Gemma 3 accuracy. When the tokenizer adds its own, every leading BOS string is
    removed from the text; otherwise the text is left as the template or the completion format made
    it (a tokenizer that adds none and a template that writes one: one; neither: none, as the
    checkpoint was trained, e.g. Qwen2-VL, which has no BOS, and the demo zoo's ``pt``).
    ``adds``: ``adds_bos(tokenizer)`` when the caller already knows it (one tokenizer call per batch).
    """
    bos = getattr(tokenizer, "bos_token", None)
    if bos and (adds_bos(tokenizer) if adds is None else adds):
        while text.startswith(bos):
            text = text[len(bos):]
    return text


def answer_text(continuation: str, style: str) -> str:
    """The answer in a generated continuation: for a completion prompt (``Question: ... Answer:``)
    the first non-empty line, stripped, since a base checkpoint runs on into a new "Question:" line
    (which would inflate containment scores and hide MCQ letters) and may start its answer on a new
    line; for chat, all of it (the turn ends at the end-of-turn token). The raw continuation is
    stored beside it."""
    text = str(continuation)
    if style == "completion":
        text = next((line for line in text.splitlines() if line.strip()), "")
    return text.strip()
