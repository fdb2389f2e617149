"""Tiny randomly initialised checkpoints of a real architecture, built inside the tests."""

from pathlib import Path

TINY = {"dir": "unused", "seed": 0, "image_size": 224, "patch_size": 56, "image_tokens": 4, "text_hidden": 64,
        "text_layers": 1, "vision_hidden": 64, "vision_layers": 1, "heads": 2, "vocab_size": 400,
        "train_items": 4, "steps": {"vision": 2, "pt": 2, "it": 2, "po": 2}, "batch_size": 4, "threads": 2}


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
