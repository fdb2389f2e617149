"""Does a converted InternVL checkpoint compute what the remote-code original computes?

``make convert-internvl`` writes a transformers-native checkpoint from the remote-code
``OpenGVLab/InternVL2_5-2B``. Its tests compare the converter with the remote layout's forward rules
on tiny checkpoints; on the real weights the check is this module: a few image prompts through both
models, the logits compared position by position, and the greedy next token of each prompt::

    python -m vlmrobust.convert_internvl --verify      (after the conversion; make convert-internvl does it)

The reference is the remote-code model itself (``AutoModel.from_pretrained(..., trust_remote_code=True)``,
which needs ``einops`` and ``timm``: the ``[gpu]`` extra), fed the very ``input_ids`` and tiles the
native processor makes, with its ``img_context_token_id`` set as its own ``chat`` sets it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

COLOURS = ("olive", "navy", "crimson")
QUESTION = "What color is the square? Answer with one word."


def remote_reference(source: str, dtype=None, device: str = "cpu") -> Callable:
    """The remote-code InternVL as ``f(inputs, image_token_id) -> logits``."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(source, trust_remote_code=True, dtype=dtype or torch.float32).to(device).eval()

    def forward(inputs, image_token_id: int):
        model.img_context_token_id = image_token_id
        pv = inputs["pixel_values"].to(device=device, dtype=next(model.parameters()).dtype)
        flags = torch.ones(pv.shape[0], 1, dtype=torch.long, device=device)
        return model(pixel_values=pv, input_ids=inputs["input_ids"].to(device),
                     attention_mask=inputs["attention_mask"].to(device), image_flags=flags).logits

    return forward


def compare(converted: str | Path, reference: Callable, device: str = "cpu", dtype=None) -> dict:
    """Each of a few colour images with one question through the converted model and ``reference``:
    the largest absolute logit difference over every position, and in how many prompts the greedy
    next token agrees."""
    import torch
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    proc = AutoProcessor.from_pretrained(converted)
    model = AutoModelForImageTextToText.from_pretrained(converted, dtype=dtype or torch.float32).to(device).eval()
    image_token_id = model.config.image_token_id
    diffs, agree = [], 0
    for colour in COLOURS:
        text = proc.apply_chat_template([{"role": "user", "content": [{"type": "image"},
                                                                      {"type": "text", "text": QUESTION}]}],
                                        add_generation_prompt=True)
        inputs = proc(text=[text], images=[[Image.new("RGB", (448, 448), colour)]], return_tensors="pt")
        with torch.no_grad():
            got = model(**{k: v.to(device) for k, v in inputs.items()}).logits.float().cpu()
            want = reference(inputs, image_token_id).float().cpu()
        diffs.append(float((got - want).abs().max()))
        agree += int(got[0, -1].argmax() == want[0, -1].argmax())
    return {"prompts": len(COLOURS), "max_abs_logit_diff": max(diffs), "next_token_agreement": agree,
            "per_prompt_max_diff": diffs}


def report(result: dict, tolerance: float) -> tuple[bool, str]:
    ok = result["next_token_agreement"] == result["prompts"] and result["max_abs_logit_diff"] <= tolerance
    return ok, (f"{'agrees' if ok else 'DIFFERS'}: max |logit difference| {result['max_abs_logit_diff']:.2e} "
                f"(tolerance {tolerance:g}), greedy next token equal in {result['next_token_agreement']} of "
                f"{result['prompts']} prompts")
