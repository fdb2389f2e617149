"""The demo zoo: tiny Gemma-3-architecture VLMs trained offline, so the study runs on a CPU.

Checkpoints are written with ``save_pretrained`` and loaded by the inference path
exactly as a hub checkpoint is (``AutoProcessor`` + ``AutoModelForImageTextToText``):
nothing in the pipeline knows it is the demo. One concept per module:

- ``config``    the recipe (every setting and default), its stages and the hash of its settings (leaf)
- ``text``      captions, the answers it is trained to give, its tokenizer and chat template
- ``build``     the Gemma-3 processor and model from the zoo's settings; weights hash
- ``examples``  training examples of each stage from the synthetic training split
- ``batching``  examples -> model inputs (cached tokens and pixels, cached tower states)
- ``augment``   image-condition augmentations of po-aug (the positive control)
- ``losses``    sequence log-probabilities, DPO, the MPO-style mix
- ``optimise``  the one optimisation loop every stage shares
- ``vision``    dense vision pretraining of the tower and its held-out probe
- ``training``  pt -> it (with its safety phase) -> po and po-aug, saved, cached by config hash
- ``shipped``   the trained zoo shipped in ``zoo-weights/``: checked, installed, re-shipped
- ``goal_check`` held-out goal check with the pipeline's own corruptions, prompts and scorers

The names below are re-exported so that notebooks write ``vr.zoo.train(...)``. They are imported
lazily (on first use), so that ``vlmrobust.zoo.config`` can be read by params validation without
importing the training code and torch.
"""

import importlib

_EXPORTS = {
    "augment": ("AUGMENTATIONS", "augment_all"),
    "batching": ("Batcher", "model_inputs", "tower_states"),
    "build": ("build_model", "build_processor", "weights_hash"),
    "config": ("DEFAULTS", "NOT_HASHED", "STAGES", "config_hash", "image_grid"),
    "shipped": ("obtain", "ship", "shipped_dir"),
    "goal_check": ("POOLED", "accuracy_lost", "chance", "control_verdicts", "controls", "endpoint", "evaluate",
                   "goals", "planted_difference", "stage_models", "zoo_dir"),
    "examples": ("OBJECT_CLASSES", "SIZE_CLASSES", "TARGET_HEADS", "TASKS", "Example", "caption_examples",
                 "complying_answer", "preference_examples", "safety_preference_examples", "safety_sft_examples",
                 "safety_training_items", "scene_targets", "sft_examples", "training_items", "vision_examples"),
    "losses": ("dpo_loss", "mpo_loss", "sequence_logps"),
    "text": ("caption", "corpus", "verbose_answer", "wrong_answer"),
    "training": ("is_trained", "preference_pairs", "preference_recipe", "train", "train_preference", "train_sft", "with_images"),
    "vision": ("probe_vision", "train_vision", "vision_head", "vision_logits"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


_MODULES = (*_EXPORTS, "optimise", "retrain")


def __getattr__(name: str):
    if name in _MODULES:  # vr.zoo.training, as with eager imports
        return importlib.import_module(f".{name}", __name__)
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
