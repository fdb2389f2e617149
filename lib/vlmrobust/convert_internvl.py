"""Convert a remote-code InternVL checkpoint (``InternVLChatModel``) to transformers' native form.

Why: the paper's P0 base, ``OpenGVLab/InternVL2_5-2B`` (SFT), exists only as a remote-code
repository; its aligned partner ``-MPO`` has an official ``-hf`` conversion. The project loads every
model through ``AutoModelForImageTextToText``, so the base must be converted once:

    python -m vlmrobust.convert_internvl --source OpenGVLab/InternVL2_5-2B \\
        --processor-from OpenGVLab/InternVL2_5-2B-MPO-hf --out checkpoints/InternVL2_5-2B-hf

(``make convert-internvl``). What it does, and why it is written here rather than taken from
transformers' ``convert_internvl_weights_to_hf.py`` (not in the wheel; its lookup table lacks this
model; it runs the remote code to read the weights):

* reads ``config.json`` and the ``*.safetensors`` files directly: no remote code is executed and
  nothing but the weights' own dtype (bf16 in the hub repository) is kept;
* renames every key into the layout of ``InternVLForConditionalGeneration`` and splits the fused
  projections: the vision tower's ``attn.qkv`` is ``[q; k; v]`` stacked (the remote ``reshape(B, N,
  3, H, D)``), InternLM2's ``attention.wqkv`` is grouped per key/value head ``(h, groups + 2, d)``
  (the remote ``rearrange("b q (h gs d) -> b q h gs d")``: the first ``groups`` slots are that
  head's queries, then its key, then its value);
* maps the InternLM2 language model to ``LlamaConfig`` (same computation: RMSNorm, SwiGLU, RoPE,
  grouped-query attention) and a Qwen2 one to ``Qwen2Config`` (its keys are already native);
* loads the result into the native class with ``strict=True`` (every key used, none missing, every
  shape right) before anything is written;
* takes the tokenizer, chat template, image processor and generation config from the official
  ``-hf`` conversion of the aligned partner (``--processor-from``), after checking that both
  tokenizers give every special token the same id (the remote repository's
  ``tokenizer_config.json`` against the ``-hf`` one) and that ``<IMG_CONTEXT>`` exists.

Tested offline on tiny checkpoints written in the remote-code key layout (tests/test_convert_internvl.py):
the converted model's logits equal the model the remote-layout checkpoint was made from.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

from .models import ModelError, hub_error, is_local
from . import paths

IMAGE_CONTEXT_TOKEN = "<IMG_CONTEXT>"

# The language models InternVL 2.5 ships with, by the remote config's ``llm_config.architectures``.
LANGUAGE_MODELS = {"InternLM2ForCausalLM": "llama", "Qwen2ForCausalLM": "qwen2", "LlamaForCausalLM": "llama"}

# Files of the -hf partner that describe how text and images become inputs (never its weights).
PROCESSOR_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                   "tokenizer.model", "chat_template.jinja", "chat_template.json", "processor_config.json",
                   "preprocessor_config.json", "video_preprocessor_config.json", "generation_config.json")

VISION_RENAMES = [  # applied in order to keys under ``vision_model.``
    (r"^vision_model\.", "model.vision_tower."),
    (r"\.embeddings\.class_embedding$", ".embeddings.cls_token"),
    (r"\.embeddings\.position_embedding$", ".embeddings.position_embeddings"),
    (r"\.embeddings\.patch_embedding\.", ".embeddings.patch_embeddings.projection."),
    (r"\.encoder\.layers\.", ".encoder.layer."),
    (r"\.ls(\d)$", r".lambda_\1"),
    (r"\.attn\.proj\.", ".attention.projection_layer."),
    (r"\.attn\.q_norm\.", ".attention.q_norm."),
    (r"\.attn\.k_norm\.", ".attention.k_norm."),
    (r"\.norm1\.", ".layernorm_before."),
    (r"\.norm2\.", ".layernorm_after."),
]
INTERNLM2_RENAMES = [  # keys under ``language_model.``
    (r"^language_model\.model\.tok_embeddings\.", "model.language_model.embed_tokens."),
    (r"^language_model\.model\.", "model.language_model."),
    (r"^language_model\.output\.", "lm_head."),
    (r"\.attention\.wo\.", ".self_attn.o_proj."),
    (r"\.feed_forward\.w1\.", ".mlp.gate_proj."),
    (r"\.feed_forward\.w3\.", ".mlp.up_proj."),
    (r"\.feed_forward\.w2\.", ".mlp.down_proj."),
    (r"\.attention_norm\.", ".input_layernorm."),
    (r"\.ffn_norm\.", ".post_attention_layernorm."),
]
NATIVE_LM_RENAMES = [  # Qwen2 / Llama language models: already native below ``language_model.model.``
    (r"^language_model\.model\.", "model.language_model."),
    (r"^language_model\.lm_head\.", "lm_head."),
]
PROJECTOR_RENAMES = [
    (r"^mlp1\.0\.", "model.multi_modal_projector.layer_norm."),
    (r"^mlp1\.1\.", "model.multi_modal_projector.linear_1."),
    (r"^mlp1\.3\.", "model.multi_modal_projector.linear_2."),
]


def _rename(key: str, rules) -> str:
    for pattern, repl in rules:
        key = re.sub(pattern, repl, key)
    return key


# --- configuration --------------------------------------------------------------------------------

def language_kind(remote: dict, where: str = "config.json") -> str:
    arch = (remote.get("llm_config") or {}).get("architectures") or ["?"]
    if arch[0] not in LANGUAGE_MODELS:
        raise ModelError(f"{where}: llm_config.architectures is {arch}; this converter knows "
                         f"{sorted(LANGUAGE_MODELS)}")
    return LANGUAGE_MODELS[arch[0]]


def native_config(remote: dict, image_token_id: int, where: str = "config.json"):
    """``InternVLConfig`` for a remote ``InternVLChatConfig`` dict (``config.json``)."""
    from transformers import InternVLConfig, LlamaConfig, Qwen2Config

    if remote.get("model_type") != "internvl_chat":
        raise ModelError(f"{where}: model_type is {remote.get('model_type')!r}, not 'internvl_chat' "
                         f"(a remote-code InternVL checkpoint)")
    if remote.get("ps_version", "v2") != "v2":
        raise ModelError(f"{where}: ps_version {remote['ps_version']!r}; the native InternVL implements "
                         f"only the 'v2' pixel shuffle")
    kind = language_kind(remote, where)
    llm, vis = remote["llm_config"], remote["vision_config"]
    text_keys = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                 "num_key_value_heads", "hidden_act", "max_position_embeddings", "rms_norm_eps", "rope_theta",
                 "rope_scaling", "bos_token_id", "eos_token_id", "pad_token_id", "tie_word_embeddings",
                 "initializer_range", "sliding_window", "use_sliding_window", "max_window_layers")
    text = {k: llm[k] for k in text_keys if k in llm}
    if kind == "llama":
        bias = bool(llm.get("bias", False))
        text_config = LlamaConfig(**text, attention_bias=bias, mlp_bias=False, use_cache=True)
    else:
        text_config = Qwen2Config(**text, use_cache=True)
    size = remote.get("force_image_size") or vis["image_size"]
    patch = vis["patch_size"]
    vision = {"hidden_size": vis["hidden_size"], "intermediate_size": vis["intermediate_size"],
              "num_hidden_layers": vis["num_hidden_layers"], "num_attention_heads": vis["num_attention_heads"],
              "hidden_act": vis.get("hidden_act", "gelu"), "layer_norm_eps": vis.get("layer_norm_eps", 1e-6),
              "norm_type": vis.get("norm_type", "rms_norm"), "attention_bias": bool(vis.get("qkv_bias", False)),
              "use_qk_norm": bool(vis.get("qk_normalization", False)), "image_size": [size, size],
              "patch_size": [patch, patch], "use_absolute_position_embeddings": True,
              "layer_scale_init_value": vis.get("initializer_factor", 0.1)}
    ratio = remote.get("downsample_ratio", 0.5)
    tokens = int((size // patch) ** 2 * ratio ** 2)
    return InternVLConfig(text_config=text_config.to_dict(), vision_config=vision, image_token_id=image_token_id,
                          image_seq_length=tokens, downsample_ratio=ratio,
                          vision_feature_layer=remote.get("select_layer", -1),
                          vision_feature_select_strategy="default", projector_hidden_act="gelu",
                          tie_word_embeddings=bool(llm.get("tie_word_embeddings", False)),
                          architectures=["InternVLForConditionalGeneration"])


# --- weights -----------------------------------------------------------------------------------------

def split_vision_qkv(w):
    """The vision tower's fused ``qkv`` (rows ``[q; k; v]``, each ``hidden`` long) -> (q, k, v)."""
    third = w.shape[0] // 3
    return w[:third], w[third:2 * third], w[2 * third:]


def split_internlm2_wqkv(w, heads: int, kv_heads: int):
    """InternLM2's fused ``wqkv`` -> (q, k, v) in the llama layout.

    Rows are ``(kv_head, slot, d)`` with ``groups + 2`` slots per key/value head: ``groups`` query
    heads, then the key, then the value. Query head ``h * groups + g`` is slot ``g`` of key/value
    head ``h``, which is the head llama's ``repeat_kv`` pairs with key/value head ``h``.
    Works for weights (2-D) and biases (1-D).
    """
    groups = heads // kv_heads
    d = w.shape[0] // (kv_heads * (groups + 2))
    if d * kv_heads * (groups + 2) != w.shape[0]:
        raise ModelError(f"wqkv has {w.shape[0]} rows, not a multiple of kv_heads x (groups + 2) = "
                         f"{kv_heads} x {groups + 2}")
    rest = tuple(w.shape[1:])
    grouped = w.reshape(kv_heads, groups + 2, d, *rest)
    q = grouped[:, :groups].reshape(heads * d, *rest)
    k = grouped[:, groups].reshape(kv_heads * d, *rest)
    v = grouped[:, groups + 1].reshape(kv_heads * d, *rest)
    return q.contiguous(), k.contiguous(), v.contiguous()


def native_state_dict(tensors: dict, config, internlm2: bool) -> dict:
    """Remote-code tensors (name -> tensor) -> the native model's state dict.

    ``internlm2``: the language model is InternLM2 (fused ``wqkv``, its own key names); otherwise
    (Qwen2, Llama) its keys are already native below ``language_model.model.``.
    """
    heads, kv_heads = config.text_config.num_attention_heads, config.text_config.num_key_value_heads
    lm_rules = INTERNLM2_RENAMES if internlm2 else NATIVE_LM_RENAMES
    out = {}
    for key, w in tensors.items():
        if key.startswith("vision_model."):
            new = _rename(key, VISION_RENAMES)
            if ".attn.qkv." in new:
                for name, part in zip(("q_proj", "k_proj", "v_proj"), split_vision_qkv(w)):
                    out[new.replace(".attn.qkv.", f".attention.{name}.")] = part
                continue
            out[new] = w
        elif key.startswith("language_model."):
            new = _rename(key, lm_rules)
            if ".attention.wqkv." in new:
                for name, part in zip(("q_proj", "k_proj", "v_proj"), split_internlm2_wqkv(w, heads, kv_heads)):
                    out[new.replace(".attention.wqkv.", f".self_attn.{name}.")] = part
                continue
            out[new] = w
        elif key.startswith("mlp1."):
            out[_rename(key, PROJECTOR_RENAMES)] = w
        else:
            raise ModelError(f"unexpected tensor {key!r}: not under vision_model., language_model. or mlp1.")
    return out


def read_safetensors(directory: Path) -> dict:
    from safetensors import safe_open

    files = sorted(directory.glob("*.safetensors"))
    if not files:
        raise ModelError(f"{directory}: no *.safetensors files (this converter reads safetensors only)")
    tensors = {}
    for f in files:
        with safe_open(str(f), framework="pt") as st:
            for key in st.keys():
                tensors[key] = st.get_tensor(key)
    return tensors


# --- tokenizer / processor ------------------------------------------------------------------------

def special_token_ids(tokenizer_config: Path) -> dict[str, int]:
    """content -> id of the added (special) tokens a ``tokenizer_config.json`` declares."""
    decoder = json.loads(tokenizer_config.read_text()).get("added_tokens_decoder") or {}
    return {v["content"]: int(k) for k, v in decoder.items()}


def check_tokenizers(remote_dir: Path, hf_dir: Path, check: bool = True) -> int:
    """Both tokenizers give every special token the same id; returns the id of ``<IMG_CONTEXT>``.

    The remote repository's ``tokenizer_config.json`` lists its special tokens (``added_tokens_decoder``);
    the -hf one has them in ``tokenizer.json`` (``added_tokens``) and/or its own ``tokenizer_config.json``.
    ``check=False`` skips the comparison (when the remote repository lists none), never the image token.
    """
    hf_cfg = hf_dir / "tokenizer_config.json"
    if not hf_cfg.exists():
        raise ModelError(f"{hf_dir}: no tokenizer_config.json (--processor-from must be an -hf conversion)")
    hf = special_token_ids(hf_cfg)
    if (hf_dir / "tokenizer.json").exists():
        added = json.loads((hf_dir / "tokenizer.json").read_text()).get("added_tokens") or []
        hf = {**{t["content"]: int(t["id"]) for t in added}, **hf}
    if IMAGE_CONTEXT_TOKEN not in hf:
        raise ModelError(f"{hf_dir}: the tokenizer has no {IMAGE_CONTEXT_TOKEN} token")
    if not check:
        return hf[IMAGE_CONTEXT_TOKEN]
    remote_cfg = remote_dir / "tokenizer_config.json"
    remote = special_token_ids(remote_cfg) if remote_cfg.exists() else {}
    if not remote:
        raise ModelError(f"cannot check that the tokenizers match: {remote_cfg} lists no added_tokens_decoder; "
                         f"compare the special tokens by hand and rerun with --skip-tokenizer-check")
    differ = {t: (i, hf.get(t)) for t, i in remote.items() if hf.get(t) != i}
    if differ:
        shown = ", ".join(f"{t!r}: {a} vs {b}" for t, (a, b) in list(differ.items())[:6])
        raise ModelError(f"the tokenizers differ: special token ids in {remote_cfg} vs {hf_dir} ({shown}); "
                         f"take the processor from an -hf conversion of the same model family")
    return hf[IMAGE_CONTEXT_TOKEN]


def _snapshot(source: str, patterns: list[str], what: str) -> Path:
    if is_local(source):
        p = paths.resolve(source)
        if not (p / "config.json").exists() and not (p / "tokenizer_config.json").exists():
            raise ModelError(f"{what}: {p} holds no checkpoint (config.json / tokenizer_config.json missing)")
        return p
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(source, allow_patterns=patterns))
    except Exception as e:  # noqa: BLE001
        raise hub_error(what, source, e) from None


# --- the command -----------------------------------------------------------------------------------

def convert(source: str, processor_from: str, out: str | Path, check_tokenizer: bool = True) -> Path:
    """Write the native checkpoint to ``out``; returns its path. Nothing is written on any error."""
    import torch
    from transformers import InternVLForConditionalGeneration

    out = paths.resolve(str(out))
    if (out / "config.json").exists():
        raise ModelError(f"{out} already holds a checkpoint; remove it first or choose another --out")
    remote_dir = _snapshot(source, ["*.json", "*.safetensors"], "--source")
    hf_dir = _snapshot(processor_from, list(PROCESSOR_FILES), "--processor-from")
    remote = json.loads((remote_dir / "config.json").read_text())
    image_token_id = check_tokenizers(remote_dir, hf_dir, check_tokenizer)
    config = native_config(remote, image_token_id, where=str(remote_dir / "config.json"))
    tensors = read_safetensors(remote_dir)
    internlm2 = remote["llm_config"]["architectures"][0] == "InternLM2ForCausalLM"
    state = native_state_dict(tensors, config, internlm2)
    dtype = next(iter(tensors.values())).dtype
    del tensors

    with torch.device("meta"):
        model = InternVLForConditionalGeneration(config)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(state[k].shape) != expected[k])
    if missing or unexpected or wrong:
        raise ModelError(f"the converted weights do not fit InternVLForConditionalGeneration: missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]}, wrong shape {wrong[:5]}")
    model.load_state_dict(state, strict=True, assign=True)
    model.config.dtype = dtype
    model.tie_weights()

    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    for name in PROCESSOR_FILES:
        if (hf_dir / name).exists():
            shutil.copy2(hf_dir / name, tmp / name)
    (tmp / "conversion.json").write_text(json.dumps(
        {"source": source, "processor_from": processor_from, "converter": "vlmrobust.convert_internvl",
         "image_token_id": image_token_id, "dtype": str(dtype).replace("torch.", ""),
         "tensors": len(state)}, indent=1) + "\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vlmrobust.convert_internvl", description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default="OpenGVLab/InternVL2_5-2B", help="remote-code checkpoint (hub id or dir)")
    ap.add_argument("--processor-from", default="OpenGVLab/InternVL2_5-2B-MPO-hf",
                    help="an -hf conversion of the same family, for tokenizer, template and image processor")
    ap.add_argument("--out", default="checkpoints/InternVL2_5-2B-hf")
    ap.add_argument("--skip-tokenizer-check", action="store_true",
                    help="do not compare the special-token ids of the two tokenizers")
    ap.add_argument("--verify", action="store_true",
                    help="then compare the converted model's logits with the remote-code model's "
                         "(vlmrobust.conversion_check; needs einops and timm: the [gpu] extra)")
    ap.add_argument("--device", default="cpu", help="device of the --verify comparison")
    ap.add_argument("--tolerance", type=float, default=5e-2,
                    help="largest |logit difference| --verify accepts (bf16 weights compared in float32)")
    args = ap.parse_args(argv)
    out = paths.resolve(args.out)
    if not (args.verify and (out / "config.json").exists()):  # --verify on an existing conversion only checks it
        try:
            out = convert(args.source, args.processor_from, args.out, not args.skip_tokenizer_check)
        except ModelError as e:
            raise SystemExit(f"convert_internvl: {e}") from None
        print(f"converted {args.source} -> {out}")
    if args.verify:
        from . import conversion_check

        result = conversion_check.compare(out, conversion_check.remote_reference(args.source, device=args.device),
                                          args.device)
        ok, line = conversion_check.report(result, args.tolerance)
        print(f"verify {out} against {args.source}: {line}")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
