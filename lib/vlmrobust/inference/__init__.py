"""Inference: every model on every (item, corruption, severity, prompt variant), resumable.

One generic path (``models.load`` -> ``prompts.build`` -> batched greedy
``generate``) for every model. Per prediction we store the prompt, the response, the
number of new tokens, the per-item latency, and for multiple-choice items the
probability of each option letter at the first generated position (softmax over the
letters' logits, bare and space-prefixed token forms summed) plus the share of the
full next-token distribution the letters hold (``letter_mass``, a format-compliance
diagnostic). The RAS analysis needs those probabilities.

Store: ``outputs/<run>/predictions/<model>/<dataset>/part-<shard>-<n>.parquet``,
each chunk written atomically (temporary name, then rename). The key of a
prediction is (model, revision, dataset, sample_id, corruption, severity,
prompt_variant); a re-run skips keys already stored, so a run killed at any
moment resumes with no duplicate and loses at most the chunk in flight. A stored
prediction counts as done only if it was made on the image the manifest now holds
for its key (``image_sha256``): when the corrupted images are regenerated (a
redesigned dataset, a new corruption seed) the stale predictions are dropped from
their chunks and made again, never mixed with the new images' scores.

Scale-out: ``inference.shard = "i/N"`` keeps only work items whose key hashes to i
modulo N (SHA-256, the same split for every model), so N processes (GPUs, Slurm
array tasks) write disjoint chunks into one store.

The package, one concept per module:

- ``planning``    the work a process runs, and its shard
- ``store``       the Parquet prediction store (atomic chunks, key-based resume, stale predictions)
- ``generation``  one batch through one model: greedy, option probabilities
- ``running``     each model over the work, into the store
"""

from .generation import GREEDY, generate_batch, generation_settings, greedy_config, letter_token_ids
from .planning import InferenceError, parse_shard, plan, shard_of, text_rows, text_settings
from .running import run, run_all, run_model
from .store import ITEM_KEY, KEY, PredictionStore, item_keys, load_predictions

__all__ = ["GREEDY", "generate_batch", "generation_settings", "greedy_config", "letter_token_ids", "InferenceError",
           "parse_shard", "plan", "shard_of", "text_rows", "text_settings", "run", "run_all", "run_model", "ITEM_KEY",
           "KEY", "PredictionStore", "item_keys", "load_predictions"]
