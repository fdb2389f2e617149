"""The paper's three model families through the project's own path, offline, on tiny random checkpoints
built here (Qwen2-VL, InternVL in its transformers-native form, Gemma-3): ``models.load``
(AutoProcessor + AutoModelForImageTextToText), chat and completion prompts, batched generation with
left padding equal to one item at a time, option probabilities, fp32 and NF4 on CPU."""

import copy
import io

import numpy as np
import pytest
from PIL import Image

from tinymodels import make_tiny_gemma3, make_tiny_internvl, make_tiny_qwen2_vl, no_video_processor
from vlmrobust import inference, models, prompts

FAMILIES = {"qwen2_vl": make_tiny_qwen2_vl, "internvl": make_tiny_internvl, "gemma3": make_tiny_gemma3}
NATIVE = {"qwen2_vl": ("Qwen2VLProcessor", "Qwen2VLForConditionalGeneration"),
          "internvl": ("InternVLProcessor", "InternVLForConditionalGeneration"),
          "gemma3": ("Gemma3Processor", "Gemma3ForConditionalGeneration")}
ITEMS = [("What color is the square?", []), ("Which shape is above the red circle?", ["circle", "square"]),
         ("How many triangles are there?", ["1", "2", "3", "4"])]


@pytest.fixture(scope="module", params=list(FAMILIES))
def family_dir(request, tmp_path_factory):
    return request.param, FAMILIES[request.param](tmp_path_factory.mktemp(request.param) / "ckpt")


def _load(family, path, style, quantization="none"):
    spec = {"source": str(path), "family": family, "prompt_style": style, "dtype": "float32",
            "quantization": quantization}
    with no_video_processor():
        return models.load(family, spec, "test", "cpu")


def _images():
    out = []
    for colour in ("red", "navy", "olive"):
        buf = io.BytesIO()
        Image.new("RGB", (224, 224), colour).save(buf, format="PNG")
        out.append(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return out


@pytest.mark.parametrize("style", ["chat", "completion"])
def test_family_loads_prompts_and_batches_like_single_items(family_dir, style):
    family, path = family_dir
    lm = _load(family, path, style)
    assert (type(lm.processor).__name__, type(lm.model).__name__) == NATIVE[family]
    texts = [prompts.build(lm.processor, style, family, q, opts, concise=True) for q, opts in ITEMS]
    if style == "completion":
        assert all(t.endswith("\nAnswer:") for t in texts)
    if family == "qwen2_vl":  # the placeholder must sit between the vision start/end tokens
        assert all("<|vision_start|><|image_pad|><|vision_end|>" in t for t in texts)
    assert len({len(t) for t in texts}) > 1  # different lengths: the batch is really left-padded
    nopts = [len(o) for _, o in ITEMS]
    batched = inference.generate_batch(lm, _images(), texts, 6, nopts)
    single = [inference.generate_batch(lm, [im], [t], 6, [k])[0] for im, t, k in zip(_images(), texts, nopts)]
    assert [b["response_raw"] for b in batched] == [s["response_raw"] for s in single]
    for b, s, k in zip(batched, single, nopts):
        if k:
            assert len(b["option_probs"]) == k and abs(sum(b["option_probs"]) - 1) < 1e-5
            assert np.allclose(b["option_probs"], s["option_probs"], atol=1e-4)
            assert 0 < b["letter_mass"] <= 1
        else:
            assert b["option_probs"] is None


def test_no_family_gets_a_second_bos(family_dir):
    """Qwen2-VL and InternVL have no BOS at all; the zoo's Gemma tokenizer adds none and its template
    writes one (the BOS-adding Gemma tokenizer is tested in test_inference)."""
    family, path = family_dir
    lm = _load(family, path, "chat")
    tok = lm.processor.tokenizer
    text = prompts.one_bos(prompts.build(lm.processor, "chat", family, "What?", concise=True), tok)
    ids = lm.processor(text=[text], images=[[_images()[0]]], return_tensors="pt")["input_ids"][0].tolist()
    if tok.bos_token_id is None:
        assert family in ("qwen2_vl", "internvl")
    else:
        assert ids[0] == tok.bos_token_id and ids.count(tok.bos_token_id) == 1


def _nf4_cpu_path(lm, packed: bool) -> None:
    """Choose bitsandbytes' CPU path for every 4-bit layer: the AVX512-BF16 repacked layout
    (``packed``) or the plain one. The packed kernel exists only on CPUs with AVX512-BF16."""
    for m in lm.model.modules():
        if type(m).__name__ == "Linear4bit":
            m.support_avx512bf16_for_cpu = packed


def _nf4_generate(lm, family):
    texts = [prompts.build(lm.processor, "chat", family, q, o, concise=True) for q, o in ITEMS[:2]]
    return inference.generate_batch(lm, _images()[:2], texts, 3, [0, 2])


def test_family_in_nf4_on_cpu(family_dir):
    """bitsandbytes' NF4 on CPU: the quantized layers (language model, vision tower and projector) are
    4-bit, each can be repacked into the AVX512-BF16 layout (the step that fails on layers narrower
    than a 64-weight block), and generation runs on the plain path on every CPU and on the packed
    path where the CPU has AVX512-BF16."""
    import bitsandbytes.functional as F

    family, path = family_dir
    models.check_quantization("nf4", "cpu")
    lm = _load(family, path, "chat", quantization="nf4")
    layers = [m for m in lm.model.modules() if type(m).__name__ == "Linear4bit"]
    assert layers and not models.nf4_narrow_layers(lm.model)
    for m in layers:  # the repacking itself, on copies, on any CPU
        state = copy.deepcopy(m.weight.quant_state)
        packed, state = F._convert_weight_packed_for_cpu(m.weight.data.clone(), state)
        assert state.packing_format_for_cpu
        assert tuple(packed.shape) == (m.out_features, m.in_features // 2)
        assert tuple(state.absmax.shape) == (m.in_features // models.NF4_BLOCK, m.out_features)
    _nf4_cpu_path(lm, packed=False)
    out = _nf4_generate(lm, family)
    assert len(out) == 2 and out[1]["option_probs"] is not None
    if F.has_avx512bf16():  # this CPU runs the packed layout too: the path Intel Xeon machines take
        _nf4_cpu_path(lm, packed=True)
        out = _nf4_generate(lm, family)
        assert len(out) == 2 and out[1]["option_probs"] is not None
        assert all(getattr(m.weight.quant_state, "packing_format_for_cpu", False) for m in layers)


def test_nf4_refuses_layers_narrower_than_a_block(tmp_path):
    """A model with 32-wide layers in NF4 on CPU: a clear error naming the layers, not bitsandbytes'
    reshape error at the first forward on AVX512-BF16 CPUs (and the same error on every CPU)."""
    path = make_tiny_qwen2_vl(tmp_path / "narrow", hidden=32)
    with pytest.raises(models.ModelError, match=r"multiple of 64.*q_proj \(32 -> 32\)"):
        _load("qwen2_vl", path, "chat", quantization="nf4")
    assert _load("qwen2_vl", path, "chat").quantization == "none"  # the same model loads unquantized
