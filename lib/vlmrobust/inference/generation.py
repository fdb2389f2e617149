"""Generation: one batch through one model, greedy, with the option letters' probabilities.

One generic path for every family: ``prompts.build`` -> the processor -> ``generate`` with one
explicit greedy configuration. For multiple-choice items the probability of each option letter at
the first generated position is kept (softmax over the letters' logits, bare and space-prefixed
token forms summed) with the share of the next-token distribution the letters hold (``letter_mass``).
"""

from __future__ import annotations

from .. import prompts


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
                            return_dict_in_generate=True)


class FirstStepLogits:
    """A logits processor that keeps the logits of the first generated position only (what the
    option probabilities need) instead of every step's (``output_logits``), and changes nothing.
    Greedy decoding with these settings adds no processor of its own, so they are the raw logits."""

    def __init__(self):
        self.first = None

    def __call__(self, input_ids, scores):
        if self.first is None:
            self.first = scores.detach().float().cpu()
        return scores


class AnswerLineEnded:
    """A stopping criterion for completion prompts, which have no end-of-turn token: a sequence stops
    once a non-empty line of its continuation has ended (a newline after non-blank text), where
    ``prompts.answer_text`` cuts the answer anyway; leading blank lines do not stop it."""

    def __init__(self, tokenizer, prompt_len: int):
        self.tokenizer, self.prompt_len = tokenizer, prompt_len

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_len:], skip_special_tokens=True)
        return torch.tensor(["\n" in t.lstrip() for t in texts], dtype=torch.bool, device=input_ids.device)


def vision_dtype(model):
    """The dtype the vision tower computes in: its first floating-point parameter's (under NF4 the
    quantized weights are uint8, its norms and embeddings keep the compute dtype); the model's dtype
    when no tower is found."""
    import torch

    for name, p in model.named_parameters():
        if ("vision" in name or "visual" in name) and torch.is_floating_point(p):
            return p.dtype
    return model.dtype


def generation_settings(max_new_tokens: int, style: str) -> str:
    """What is recorded with each prediction: the effective decoding settings, as JSON."""
    import json

    return json.dumps({**{k: v for k, v in GREEDY.items() if v is not None}, "max_new_tokens": max_new_tokens,
                       "answer": "the first non-empty line" if style == "completion" else "whole turn",
                       "stop": "after the first non-empty line" if style == "completion" else "end of turn"},
                      sort_keys=True)


def generate_batch(lm, images: list, texts: list[str], max_new_tokens: int,
                   n_options: list[int] | None = None) -> list[dict]:
    """Greedy generation for one batch; option probabilities for rows with options.

    Each text is tokenised with exactly one BOS (``prompts.one_bos``); ``response`` is the answer
    (``prompts.answer_text``: for completion prompts the first non-empty line, where their generation
    also stops, ``AnswerLineEnded``), ``response_raw`` the whole continuation up to the end-of-sequence
    token. Only the first position's logits are kept (``FirstStepLogits``); the pixels are cast to the
    vision tower's dtype, whatever the quantization."""
    import torch
    from transformers import LogitsProcessorList, StoppingCriteriaList

    proc = lm.processor
    tok = proc.tokenizer
    adds = prompts.adds_bos(tok)
    texts = [prompts.one_bos(t, tok, adds) for t in texts]
    inputs = proc(text=texts, images=[[im] for im in images], return_tensors="pt", padding=True)
    inputs = inputs.to(lm.model.device)
    if "pixel_values" in inputs and torch.is_floating_point(inputs["pixel_values"]):
        inputs["pixel_values"] = inputs["pixel_values"].to(vision_dtype(lm.model))
    start = inputs["input_ids"].shape[1]
    keep = FirstStepLogits()
    stop = StoppingCriteriaList([AnswerLineEnded(tok, start)] if lm.prompt_style == "completion" else [])
    with torch.inference_mode():
        out = lm.model.generate(**inputs, generation_config=greedy_config(lm, max_new_tokens),
                                logits_processor=LogitsProcessorList([keep]), stopping_criteria=stop)
    seqs = out.sequences[:, start:].cpu()
    first = keep.first  # raw logits of the first generated position (B x V)
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
