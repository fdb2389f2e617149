"""Building a zoo checkpoint: the Gemma-3 processor and model from the zoo's settings.

Architecture: transformers' ``Gemma3ForConditionalGeneration`` with a small config (a
SigLIP vision tower + a Gemma-3 text model, about 1 M parameters) and a
``Gemma3Processor`` over the zoo's own tokenizer (``text.build_tokenizer``).
"""

from __future__ import annotations

import hashlib

from .text import CHAT_TEMPLATE, build_tokenizer

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

