"""``vlmrobust.convert_internvl`` on tiny checkpoints written in the remote-code key layout.

The remote layout is written here from the remote code's module names (``vision_model.encoder.layers.N.attn.qkv``,
InternLM2's ``attention.wqkv`` / ``feed_forward.w1..w3`` / ``tok_embeddings`` / ``output``, ``mlp1.0/1/3``) and
its forward rules, which the two ``remote_*`` helpers below restate:

* InternViT: ``qkv(x).reshape(B, N, 3, H, D)`` -> q, k, v are the first, second and third thirds;
* InternLM2: ``rearrange(wqkv(x), "b q (h gs d) -> b q h gs d", gs=2 + groups)``; queries are slots
  ``:groups`` (then ``"b q h gs d -> b q (h gs) d"``), the key slot ``-2``, the value slot ``-1``.

A native model (llama text, grouped-query attention, biased vision qkv, LayerNorm tower; every parameter
perturbed so that no two of them are equal by initialisation) is written in that layout, converted, and
loaded back by the native class: its logits must equal the original's.
"""

import json

import pytest
import torch
from PIL import Image

from tinymodels import make_tiny_internvl, no_video_processor
from vlmrobust import convert_internvl as conv
from vlmrobust.models import ModelError

HEADS, KV_HEADS, HIDDEN = 4, 2, 32


def remote_internlm2_qkv(x, wqkv, heads, kv_heads):
    """InternLM2Attention.forward's split of the fused projection, restated."""
    groups = heads // kv_heads
    d = wqkv.shape[0] // (kv_heads * (groups + 2))
    s = (x @ wqkv.T).reshape(*x.shape[:-1], kv_heads, groups + 2, d)
    q = s[..., :groups, :].reshape(*x.shape[:-1], heads * d)
    return q, s[..., -2, :].reshape(*x.shape[:-1], kv_heads * d), s[..., -1, :].reshape(*x.shape[:-1], kv_heads * d)


def remote_vit_qkv(x, qkv, heads):
    """InternAttention._naive_attn's split, restated (returns q, k, v flattened over heads)."""
    b, n, c = x.shape
    s = (x @ qkv.T).reshape(b, n, 3, heads, c // heads).permute(2, 0, 1, 3, 4)
    return [t.reshape(b, n, c) for t in s]


def fuse_internlm2(q, k, v, heads, kv_heads):
    """llama q/k/v -> InternLM2's wqkv (the inverse the remote rule defines; checked below)."""
    groups, d = heads // kv_heads, q.shape[0] // heads
    rest = q.shape[1:]
    return torch.cat([q.reshape(kv_heads, groups, d, *rest), k.reshape(kv_heads, 1, d, *rest),
                      v.reshape(kv_heads, 1, d, *rest)], dim=1).reshape(-1, *rest)


def test_converter_split_follows_the_remote_internlm2_rule():
    torch.manual_seed(0)
    d = HIDDEN // HEADS
    wqkv, x = torch.randn((HEADS + 2 * KV_HEADS) * d, HIDDEN), torch.randn(2, 5, HIDDEN)
    q, k, v = conv.split_internlm2_wqkv(wqkv, HEADS, KV_HEADS)
    rq, rk, rv = remote_internlm2_qkv(x, wqkv, HEADS, KV_HEADS)
    assert torch.equal(x @ q.T, rq) and torch.equal(x @ k.T, rk) and torch.equal(x @ v.T, rv)
    # the test's own inverse is right by the same rule, so the round trip below tests the converter
    assert torch.equal(fuse_internlm2(q, k, v, HEADS, KV_HEADS), wqkv)
    # a naive [q; k; v] reading would be wrong whenever there is more than one key/value head
    assert not torch.equal(x @ wqkv[:HEADS * d].T, rq)


def test_converter_split_follows_the_remote_vit_rule():
    torch.manual_seed(1)
    qkv, x = torch.randn(3 * HIDDEN, HIDDEN), torch.randn(2, 5, HIDDEN)
    for mine, theirs in zip(conv.split_vision_qkv(qkv), remote_vit_qkv(x, qkv, 2)):
        assert torch.allclose(x @ mine.T, theirs)


# --- a tiny base model in the remote-code layout ----------------------------------------------------

def _reference(vocab: int, image_token_id: int):
    from transformers import InternVLConfig, InternVLForConditionalGeneration

    cfg = InternVLConfig(
        vision_config={"hidden_size": HIDDEN, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
                       "image_size": [224, 224], "patch_size": [14, 14], "attention_bias": True,
                       "norm_type": "layer_norm", "layer_norm_eps": 1e-6},
        text_config={"model_type": "llama", "vocab_size": vocab, "hidden_size": HIDDEN, "intermediate_size": 64,
                     "num_hidden_layers": 2, "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS,
                     "rms_norm_eps": 1e-5, "max_position_embeddings": 512,
                     "rope_parameters": {"rope_type": "dynamic", "factor": 2.0, "rope_theta": 1e6}},
        image_token_id=image_token_id, image_seq_length=64)
    torch.manual_seed(2)
    model = InternVLForConditionalGeneration(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


def _remote_config(vocab: int) -> dict:
    return {"architectures": ["InternVLChatModel"], "model_type": "internvl_chat", "downsample_ratio": 0.5,
            "force_image_size": 224, "ps_version": "v2", "select_layer": -1, "template": "internvl2_5",
            "llm_config": {"architectures": ["InternLM2ForCausalLM"], "model_type": "internlm2", "vocab_size": vocab,
                           "hidden_size": HIDDEN, "intermediate_size": 64, "num_hidden_layers": 2,
                           "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS, "hidden_act": "silu",
                           "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 1e6,
                           "rope_scaling": {"type": "dynamic", "factor": 2.0}, "bias": False,
                           "tie_word_embeddings": False, "attn_implementation": "eager"},
            "vision_config": {"architectures": ["InternVisionModel"], "model_type": "intern_vit_6b",
                              "hidden_size": HIDDEN, "intermediate_size": 64, "num_hidden_layers": 2,
                              "num_attention_heads": 2, "image_size": 224, "patch_size": 14, "norm_type": "layer_norm",
                              "qkv_bias": True, "qk_normalization": False, "layer_norm_eps": 1e-6,
                              "hidden_act": "gelu", "initializer_factor": 0.1, "use_flash_attn": False}}


def _remote_tensors(model) -> dict:
    """The native state dict in the remote-code names (InternVLChatModel / InternViT / InternLM2)."""
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    out = {}
    vis = {"embeddings.cls_token": "embeddings.class_embedding",
           "embeddings.position_embeddings": "embeddings.position_embedding",
           "embeddings.patch_embeddings.projection": "embeddings.patch_embedding",
           "encoder.layer.": "encoder.layers.", "lambda_1": "ls1", "lambda_2": "ls2",
           "attention.projection_layer": "attn.proj", "layernorm_before": "norm1", "layernorm_after": "norm2",
           "mlp.fc": "mlp.fc"}
    lm = {"self_attn.o_proj": "attention.wo", "mlp.gate_proj": "feed_forward.w1", "mlp.up_proj": "feed_forward.w3",
          "mlp.down_proj": "feed_forward.w2", "post_attention_layernorm": "ffn_norm",
          "input_layernorm": "attention_norm"}
    for key, w in sd.items():
        if key.startswith("model.vision_tower."):
            name = "vision_model." + key[len("model.vision_tower."):]
            for a, b in vis.items():
                name = name.replace(a, b)
            if ".attention.q_proj." in name:
                part = name.split(".attention.q_proj.")
                k, v = (sd[key.replace("q_proj", p)] for p in ("k_proj", "v_proj"))
                out[f"{part[0]}.attn.qkv.{part[1]}"] = torch.cat([w, k, v])
            elif ".attention.k_proj." not in name and ".attention.v_proj." not in name:
                out[name] = w
        elif key.startswith("model.language_model."):
            name = "language_model.model." + key[len("model.language_model."):]
            name = name.replace("embed_tokens", "tok_embeddings")
            for a, b in lm.items():
                name = name.replace(a, b)
            if ".self_attn.q_proj." in name:
                k, v = (sd[key.replace("q_proj", p)] for p in ("k_proj", "v_proj"))
                out[name.replace("self_attn.q_proj", "attention.wqkv")] = fuse_internlm2(w, k, v, HEADS, KV_HEADS)
            elif ".self_attn.k_proj." not in name and ".self_attn.v_proj." not in name:
                out[name] = w
        elif key.startswith("model.multi_modal_projector."):
            name = key[len("model.multi_modal_projector."):]
            out[name.replace("layer_norm", "mlp1.0").replace("linear_1", "mlp1.1").replace("linear_2", "mlp1.3")] = w
        elif key == "lm_head.weight":
            out["language_model.output.weight"] = w
        else:
            raise AssertionError(key)
    return out


@pytest.fixture(scope="module")
def partner(tmp_path_factory):
    """The aligned partner's official -hf conversion: tokenizer, chat template, image processor."""
    return make_tiny_internvl(tmp_path_factory.mktemp("mpo") / "InternVL-tiny-MPO-hf")


@pytest.fixture(scope="module")
def remote(partner, tmp_path_factory):
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(partner)
    model = _reference(len(tok), tok.convert_tokens_to_ids("<IMG_CONTEXT>"))
    d = tmp_path_factory.mktemp("remote") / "InternVL-tiny"
    d.mkdir()
    (d / "config.json").write_text(json.dumps(_remote_config(len(tok))))
    save_file(_remote_tensors(model), str(d / "model.safetensors"))
    (d / "tokenizer_config.json").write_text(json.dumps(_remote_tokenizer_config(partner)))
    return d, model


def _remote_tokenizer_config(partner) -> dict:
    """A tokenizer_config.json as the remote repository has it: special tokens in added_tokens_decoder."""
    added = json.loads((partner / "tokenizer.json").read_text())["added_tokens"]
    return {"tokenizer_class": "InternLM2Tokenizer", "added_tokens_decoder": {
        str(t["id"]): {"content": t["content"], "special": True} for t in added}}


def _inputs(path):
    from transformers import AutoProcessor

    with no_video_processor():
        proc = AutoProcessor.from_pretrained(path)
    text = proc.apply_chat_template([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text":
                                     "What color is the square?"}]}], add_generation_prompt=True)
    return proc(text=[text], images=[[Image.new("RGB", (224, 224), "olive")]], return_tensors="pt")


def test_converted_checkpoint_computes_what_the_original_did(remote, partner, tmp_path):
    from transformers import AutoModelForImageTextToText

    src, reference = remote
    out = tmp_path / "InternVL-tiny-hf"
    assert conv.main(["--source", str(src), "--processor-from", str(partner), "--out", str(out)]) == 0
    converted = AutoModelForImageTextToText.from_pretrained(out).eval()
    assert type(converted).__name__ == "InternVLForConditionalGeneration"
    assert converted.config.text_config.model_type == "llama"
    inputs = _inputs(out)
    assert (inputs["input_ids"] == converted.config.image_token_id).sum() == 64
    with torch.no_grad():
        got, want = converted(**inputs).logits, reference(**inputs).logits
    assert torch.allclose(got, want, atol=1e-5), (got - want).abs().max()
    # and a perturbed weight would show: the check has teeth
    with torch.no_grad():
        converted.model.language_model.layers[1].self_attn.k_proj.weight.add_(0.05)
        assert not torch.allclose(converted(**inputs).logits, want, atol=1e-3)
    # the project's own path: models.load + generate_batch answer as the original model does
    from dataclasses import replace

    from vlmrobust import inference, models, prompts

    with no_video_processor():
        lm = models.load("P0-base", {"source": str(out), "family": "internvl", "prompt_style": "chat",
                                     "dtype": "float32", "quantization": "none"}, "test", "cpu")
    text = prompts.build(lm.processor, "chat", "internvl", "What color is the square?", concise=True)
    image = [Image.new("RGB", (224, 224), "olive")]
    ours = inference.generate_batch(lm, image, [text], 8, [0])[0]["response_raw"]
    assert ours == inference.generate_batch(replace(lm, model=reference), image, [text], 8, [0])[0]["response_raw"]
    meta = json.loads((out / "conversion.json").read_text())
    assert meta["source"] == str(src) and meta["image_token_id"] == converted.config.image_token_id
    for name in ("tokenizer.json", "tokenizer_config.json", "processor_config.json"):
        assert (out / name).read_bytes() == (partner / name).read_bytes()


def test_bf16_weights_stay_bf16(remote, partner, tmp_path):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    src, _ = remote
    bf = tmp_path / "bf16"
    bf.mkdir()
    for name in ("config.json", "tokenizer_config.json"):
        (bf / name).write_text((src / name).read_text())
    save_file({k: v.to(torch.bfloat16) for k, v in load_file(str(src / "model.safetensors")).items()},
              str(bf / "model.safetensors"))
    out = conv.convert(str(bf), str(partner), tmp_path / "bf16-hf")
    with safe_open(str(out / "model.safetensors"), framework="pt") as st:
        assert {st.get_tensor(k).dtype for k in st.keys()} == {torch.bfloat16}
    assert json.loads((out / "config.json").read_text())["dtype"] == "bfloat16"


def _copy(src, dst, config=None, tokenizer=None, extra=None):
    from safetensors.torch import load_file, save_file

    dst.mkdir()
    (dst / "config.json").write_text(json.dumps(config or json.loads((src / "config.json").read_text())))
    (dst / "tokenizer_config.json").write_text(json.dumps(
        tokenizer or json.loads((src / "tokenizer_config.json").read_text())))
    save_file({**load_file(str(src / "model.safetensors")), **(extra or {})}, str(dst / "model.safetensors"))
    return dst


def test_bad_inputs_fail_naming_the_problem_and_write_nothing(remote, partner, tmp_path):
    src, _ = remote
    cfg = json.loads((src / "config.json").read_text())
    cfg["llm_config"]["architectures"] = ["MixtralForCausalLM"]
    bad = _copy(src, tmp_path / "arch", config=cfg)
    with pytest.raises(ModelError, match=r"arch/config.json: llm_config.architectures is \['MixtralForCausalLM'\]"):
        conv.convert(str(bad), str(partner), tmp_path / "o1")

    tok = json.loads((src / "tokenizer_config.json").read_text())
    first = next(iter(tok["added_tokens_decoder"]))
    tok["added_tokens_decoder"][str(int(first) + 1000)] = tok["added_tokens_decoder"].pop(first)
    bad = _copy(src, tmp_path / "tok", tokenizer=tok)
    with pytest.raises(ModelError, match="the tokenizers differ: special token ids"):
        conv.convert(str(bad), str(partner), tmp_path / "o2")

    bad = _copy(src, tmp_path / "extra", extra={"vision_model.encoder.layers.9.ls1": torch.ones(HIDDEN)})
    with pytest.raises(ModelError, match=r"do not fit InternVLForConditionalGeneration: .*unexpected \['model.vision_tower.encoder.layer.9.lambda_1'\]"):
        conv.convert(str(bad), str(partner), tmp_path / "o3")

    empty = tmp_path / "noweights"
    empty.mkdir()
    (empty / "config.json").write_text((src / "config.json").read_text())
    (empty / "tokenizer_config.json").write_text((src / "tokenizer_config.json").read_text())
    with pytest.raises(ModelError, match="noweights: no \\*.safetensors files"):
        conv.convert(str(empty), str(partner), tmp_path / "o4")

    bad = _copy(src, tmp_path / "nolist", tokenizer={"tokenizer_class": "InternLM2Tokenizer"})
    with pytest.raises(ModelError, match="nolist/tokenizer_config.json lists no added_tokens_decoder"):
        conv.convert(str(bad), str(partner), tmp_path / "o5")
    assert not any((tmp_path / f"o{i}").exists() for i in range(1, 6))
    assert not list(tmp_path.glob("*.partial"))

    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="already holds a checkpoint"):
        conv.convert(str(src), str(partner), tmp_path / "taken")


def test_verify_compares_the_converted_model_with_the_original(remote, partner, tmp_path):
    """``--verify``'s comparison on the tiny pair: the model the remote-layout checkpoint was made from
    stands in for the remote-code model (which cannot be downloaded offline), called as the remote
    code is (pixel tiles, input ids with the image context tokens, its img_context_token_id)."""
    from vlmrobust import conversion_check as cc

    src, reference = remote
    out = conv.convert(str(src), str(partner), tmp_path / "hf")

    def remote_like(inputs, image_token_id):
        assert (inputs["input_ids"] == image_token_id).any()
        with torch.no_grad():
            return reference(**inputs).logits

    with no_video_processor():
        result = cc.compare(out, remote_like)
    ok, line = cc.report(result, 1e-4)
    assert ok and result["next_token_agreement"] == 3 and result["max_abs_logit_diff"] < 1e-5, line

    def off(inputs, image_token_id):  # a conversion error shows: the check has teeth
        return remote_like(inputs, image_token_id) + 0.5

    with no_video_processor():
        bad = cc.compare(out, off)
    assert not cc.report(bad, 1e-4)[0] and "DIFFERS" in cc.report(bad, 1e-4)[1]
