"""Tiny randomly initialised checkpoints of a real architecture, built inside the tests."""

from contextlib import contextmanager
from pathlib import Path

TINY = {"dir": "unused", "seed": 0, "image_size": 224, "patch_size": 56, "image_tokens": 4, "text_hidden": 64,
        "text_layers": 1, "vision_hidden": 64, "vision_layers": 1, "heads": 2, "vocab_size": 400,
        "train_items": 4, "steps": {"vision": 2, "pt": 2, "it": 2, "safety": 2, "po": 2}, "batch_size": 4, "threads": 2,
        "safety_items": 8, "safety_replay": 8}


def make_tiny_gemma3(path: Path, seed: int = 0, chat_template: bool = True) -> Path:
    """A ~0.1 M-parameter Gemma-3 VLM + processor saved with save_pretrained."""
    from vlmrobust import params, zoo

    cfg = params.zoo_config({**TINY, "seed": seed})
    proc = zoo.build_processor(cfg)
    model = zoo.build_model(cfg, proc)
    if not chat_template:
        proc.chat_template = None
        proc.tokenizer.chat_template = None
    model.save_pretrained(path)
    proc.save_pretrained(path)
    return path


# --- Qwen2-VL and InternVL (transformers-native), without torchvision -------------------------------
#
# Both processors carry a video processor, whose classes need torchvision; torchvision cannot import
# beside the CPU torch of these machines. For tests only, ``no_video_processor`` lets a processor be
# built, saved and loaded (AutoProcessor) without one; the library never does this.

QWEN_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                "<|image_pad|>", "<|video_pad|>"]
INTERNVL_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>", "<video>"]


def _chat_template(image: str) -> str:
    """The ChatML shape both families use; ``image`` is what an image content item renders to."""
    return ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
            "{{ message['content'] }}{% else %}{% for c in message['content'] %}{% if c['type'] == 'image' %}"
            + image + "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}"
            "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


QWEN_TEMPLATE = _chat_template("<|vision_start|><|image_pad|><|vision_end|>")
INTERNVL_TEMPLATE = _chat_template("<IMG_CONTEXT>\n")


def _bpe_tokenizer(special: list[str], chat_template: str, extra: dict):
    """A small byte-level BPE tokenizer with the family's special tokens (no BOS, like the real ones)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from vlmrobust import prompts
    from vlmrobust.data import synthetic

    words = [prompts.CONCISE, prompts.MCQ_INSTRUCTION, "Question: Answer: Caption: Hint: the answer is",
             *synthetic.COLOURS, *synthetic.SHAPES, *synthetic.WORDS, *prompts.LETTERS]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(words, trainers.BpeTrainer(
        vocab_size=400, special_tokens=special, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   padding_side="left", chat_template=chat_template, extra_special_tokens=extra)


@contextmanager
def no_video_processor():
    """Test-only: processors built, saved and loaded with ``video_processor=None``."""
    from unittest import mock

    from transformers import ProcessorMixin

    check = ProcessorMixin.check_argument_for_proper_class
    attributes = ProcessorMixin.get_attributes.__func__

    def lenient(self, name, argument):
        return None if (name == "video_processor" and argument is None) else check(self, name, argument)

    def without_video(cls):
        return [a for a in attributes(cls) if a != "video_processor"]

    with mock.patch.object(ProcessorMixin, "check_argument_for_proper_class", lenient), \
            mock.patch.object(ProcessorMixin, "get_attributes", classmethod(without_video)):
        yield


# NF4 on CPU: on processors with AVX512-BF16, bitsandbytes repacks each 4-bit layer at its first
# forward, which needs in_features a multiple of 64 (the 4-bit block) and out_features a multiple
# of 32. NF4 quantizes the vision towers and projectors too, so every width of the tiny Qwen2-VL and
# InternVL (text and vision) is a multiple of 64, as in real models (hidden sizes of 1,024 and more).
TEXT_HIDDEN = 64


def _text_config(tok, hidden: int = TEXT_HIDDEN) -> dict:
    return {"vocab_size": len(tok), "hidden_size": hidden, "intermediate_size": 2 * hidden, "num_hidden_layers": 1,
            "num_attention_heads": 2, "num_key_value_heads": 1, "pad_token_id": tok.pad_token_id,
            "eos_token_id": tok.eos_token_id, "bos_token_id": None}


def _mrope_section(head_dim: int) -> list[int]:
    """Qwen2-VL's rotary sections (temporal, height, width) sum to half the head dimension."""
    half = head_dim // 2
    return [half - 2 * (3 * half // 8), 3 * half // 8, 3 * half // 8]


def make_tiny_qwen2_vl(path: Path, seed: int = 0, hidden: int = TEXT_HIDDEN) -> Path:
    """A tiny random Qwen2-VL (Qwen2VLForConditionalGeneration + Qwen2VLProcessor), saved; ``hidden``
    (text and vision width, a multiple of 16) below 64 makes layers narrower than one NF4 block."""
    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLProcessor
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    tok = _bpe_tokenizer(QWEN_SPECIAL, QWEN_TEMPLATE, {
        "image_token": "<|image_pad|>", "video_token": "<|video_pad|>", "vision_bos_token": "<|vision_start|>",
        "vision_eos_token": "<|vision_end|>"})
    ids = tok.convert_tokens_to_ids
    cfg = Qwen2VLConfig(
        text_config={**_text_config(tok, hidden),
                     "rope_scaling": {"type": "mrope", "mrope_section": _mrope_section(hidden // 2)}},
        vision_config={"depth": 1, "embed_dim": hidden, "hidden_size": hidden, "num_heads": 2, "mlp_ratio": 2, "patch_size": 14,
                       "spatial_merge_size": 2, "temporal_patch_size": 2},
        image_token_id=ids("<|image_pad|>"), video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"), vision_end_token_id=ids("<|vision_end|>"))
    torch.manual_seed(seed)
    Qwen2VLForConditionalGeneration(cfg).save_pretrained(path)
    with no_video_processor():
        Qwen2VLProcessor(image_processor=Qwen2VLImageProcessorPil(), tokenizer=tok, video_processor=None,
                         chat_template=QWEN_TEMPLATE).save_pretrained(path)
    return path


def make_tiny_internvl(path: Path, seed: int = 0) -> Path:
    """A tiny random InternVL in its transformers-native (-hf) form, saved; one 224 px tile = 64 tokens."""
    import torch
    from transformers import InternVLConfig, InternVLForConditionalGeneration, InternVLProcessor
    from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import GotOcr2ImageProcessorPil

    tok = _bpe_tokenizer(INTERNVL_SPECIAL, INTERNVL_TEMPLATE, {
        "start_image_token": "<img>", "end_image_token": "</img>", "context_image_token": "<IMG_CONTEXT>",
        "video_token": "<video>"})
    cfg = InternVLConfig(
        vision_config={"hidden_size": TEXT_HIDDEN, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 128,
                       "image_size": [224, 224], "patch_size": [14, 14]},
        text_config={"model_type": "qwen2", **_text_config(tok)},
        image_token_id=tok.convert_tokens_to_ids("<IMG_CONTEXT>"), image_seq_length=64)
    torch.manual_seed(seed)
    InternVLForConditionalGeneration(cfg).save_pretrained(path)
    with no_video_processor():
        InternVLProcessor(image_processor=GotOcr2ImageProcessorPil(size={"height": 224, "width": 224},
                                                                   crop_to_patches=False),
                          tokenizer=tok, video_processor=None, image_seq_length=64,
                          chat_template=INTERNVL_TEMPLATE).save_pretrained(path)
    return path
