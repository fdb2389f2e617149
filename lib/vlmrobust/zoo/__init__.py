"""The demo zoo: tiny Gemma-3-architecture VLMs trained offline, so the study runs on a CPU.

Checkpoints are written with ``save_pretrained`` and loaded by the inference path
exactly as a hub checkpoint is (``AutoProcessor`` + ``AutoModelForImageTextToText``):
nothing in the pipeline knows it is the demo. One concept per module:

- ``config``    what identifies a trained zoo: its stages and the hash of its settings (leaf)
- ``text``      captions, the answers it is trained to give, its tokenizer and chat template
- ``build``     the Gemma-3 processor and model from the zoo's settings; weights hash
- ``examples``  training examples of each stage from the synthetic training split
- ``batching``  examples -> model inputs (cached tokens and pixels, cached tower states)
- ``augment``   image-condition augmentations of po-aug (the positive control)
- ``losses``    sequence log-probabilities, DPO, the MPO-style mix
- ``optimise``  the one optimisation loop every stage shares
- ``vision``    dense vision pretraining of the tower and its held-out probe
- ``training``  pt -> it -> po and po-aug, saved, cached by config hash
- ``goal_check`` held-out goal check with the pipeline's own corruptions, prompts and scorers

The names below are re-exported so that notebooks write ``vr.zoo.train(...)``.
"""

from .augment import AUGMENTATIONS, augment_all
from .batching import Batcher, model_inputs, tower_states
from .build import build_model, build_processor, weights_hash
from .config import NOT_HASHED, STAGES, config_hash, image_grid
from .goal_check import POOLED, accuracy_lost, chance, controls, evaluate, goals, planted_difference, stage_models, zoo_dir
from .examples import (OBJECT_CLASSES, SIZE_CLASSES, TARGET_HEADS, TASKS, Example, caption_examples,
                       preference_examples, scene_targets, sft_examples, training_items, vision_examples)
from .losses import dpo_loss, mpo_loss, sequence_logps
from .text import caption, corpus, verbose_answer, wrong_answer
from .training import is_trained, preference_recipe, train, train_preference, train_sft, with_images
from .vision import probe_vision, train_vision, vision_head, vision_logits

__all__ = [
    "AUGMENTATIONS", "POOLED", "accuracy_lost", "planted_difference", "augment_all", "chance", "controls", "preference_recipe", "with_images", "Batcher", "model_inputs", "tower_states", "build_model", "build_processor", "weights_hash", "NOT_HASHED",
    "STAGES", "config_hash", "image_grid", "evaluate", "goals", "stage_models", "zoo_dir", "OBJECT_CLASSES",
    "SIZE_CLASSES", "TARGET_HEADS", "TASKS", "Example", "caption_examples", "preference_examples",
    "scene_targets", "sft_examples", "training_items", "vision_examples", "dpo_loss", "mpo_loss",
    "sequence_logps", "caption", "corpus", "verbose_answer", "wrong_answer", "is_trained", "train",
    "train_preference", "train_sft", "probe_vision", "train_vision", "vision_head", "vision_logits",
]
