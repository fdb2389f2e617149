"""The params reference (``docs/params.md``), generated from the table of defaults.

Every key a params file may hold is described once, here, beside the check that guards it; the
defaults come from ``defaults.DEFAULTS`` (and the zoo's recipe from ``zoo/config.py``), so the
document cannot drift from what ``params.load`` fills in. ``python -m vlmrobust.params doc``
prints it; a test keeps ``docs/params.md`` equal to it.
"""

from __future__ import annotations

import json

from .defaults import DEFAULTS, OPTIONAL_TOP_LEVEL_KEYS, REQUIRED, TOP_LEVEL_KEYS, allowed

# section -> key -> (meaning, what the check accepts)
DESCRIPTIONS: dict[str, dict[str, tuple[str, str]]] = {
    "": {
        "run": ("name of the run: its outputs go to `outputs/<run>/`", "letters, digits, `_`, `-`"),
        "seed": ("the sampling seed (the paper: 42); corruption seeds derive from it", "integer >= 0"),
        "benchmark": ("what is evaluated (below)", "mapping"),
        "corruptions": ("which corruptions at which severities (below)", "mapping"),
        "zoo": ("the demo zoo (below); `null` for runs of hub models only", "mapping or null"),
        "models": ("name -> checkpoint and how to prompt it (below)", "non-empty mapping"),
        "pairs": ("id -> a base and an aligned model (below)", "mapping"),
        "safety": ("refusal under corruption, notebook 11 (below); left out or `null`: no refusal measurement",
                   "mapping or null (optional)"),
        "reference": ("the global reference model of the CE denominators (the paper's Table 3: "
                      "InternVL2.5-2B SFT)", "an enabled model"),
        "inference": ("how predictions are made (below)", "mapping"),
        "analysis": ("statistics settings shared by every notebook (below)", "mapping"),
    },
    "benchmark": {
        "datasets": ("the datasets (`synth-spatial`, `synth-vqa`, `synth-text`, `synth-mcq`; `gqa`, `vqav2`, "
                     "`textvqa`, `mmbench`)", "known names"),
        "n": ("items sampled per dataset", "integer >= 1"),
        "image_size": ("side of the square images the corruptions are made at (the paper: 224)", "32-4096"),
        "resize": ("how an image becomes square", "`center_crop`, `resize`, `none`"),
        "sources": ("per dataset, a hub `id`/`config`/`split`/`revision`/`images_config` or a local `path` "
                    "overriding the default copy", "mapping of known datasets"),
    },
    "corruptions": {
        "suite": ("`pilot` (the paper's four), `extended`, `imagenet-c` (15), `all` (19), or a list of names",
                  "known suite or corruption names"),
        "severities": ("ImageNet-C severities", "non-empty list of distinct integers 1-5"),
        "format": ("file format of the corrupted images", "`png` (lossless), `jpeg`"),
        "jpeg_quality": ("JPEG quality when `format: jpeg` (ImageNet-C itself: 85)", "1-100"),
        "workers": ("processes that render corrupted images", "integer >= 1"),
    },
    "zoo": {
        "dir": ("where the run's zoo lives (`{run_dir}` = `outputs/<run>`); notebook 00 installs the shipped "
                "zoo here or trains it", "string"),
        "seed": ("training seed; the shipped zoo is seed 0, another seed trains (~20 min)", "integer >= 0"),
        "image_size": ("the vision tower's input side", "32-1024"),
        "patch_size": ("the tower's patch side", "divides `image_size`"),
        "image_tokens": ("image tokens the patches are pooled to", "a square whose root divides the patch grid"),
        "text_hidden": ("width of the Gemma-3 text model", "divisible by `heads`"),
        "text_layers": ("layers of the text model", "integer >= 1"),
        "vision_hidden": ("width of the SigLIP tower", "divisible by `heads`"),
        "vision_layers": ("layers of the tower", "integer >= 1"),
        "heads": ("attention heads of both", "integer >= 1"),
        "vocab_size": ("byte-level BPE vocabulary trained on the benchmark's words", "integer >= 300"),
        "train_items": ("training items per task (a split disjoint from evaluation)", "integer >= 1"),
        "steps": ("optimisation steps per stage: `vision` (dense tower pretraining), `pt`, `it`, `safety` (it's "
                  "closing safety phase), `po` (also `po-aug`'s)", "integers >= 0"),
        "batch_size": ("training batch size", "integer >= 1"),
        "safety_items": ("`synth-safety` training rows (badge/no-badge twins) taught to `it` and paired for `po` and "
                         "`po-aug`; 0: no model is taught to refuse", "even integer >= 0"),
        "safety_replay": ("`it`'s own instruction examples mixed into its safety phase", "integer >= 0"),
        "lr": ("learning rate per stage, keys as `steps`", "0 < lr <= 1"),
        "dpo_beta": ("DPO's beta in the preference stages", "> 0"),
        "sft_weight": ("MPO-style mix: DPO + this weight x NLL of the chosen answer", ">= 0"),
        "po_tower": ("does the vision tower train in `po` and `po-aug`", "`frozen`, `trained`"),
        "po_aug_images": ("the images of `po-aug`'s preference pairs: ImageNet-C corruptions the run does not "
                          "evaluate, or the zoo's own PIL/numpy augmentations", "`heldout-imagenet-c` (refused "
                          "with a suite that evaluates one of them), `own`"),
        "threads": ("CPU threads for training (the weights do not depend on it)", "integer >= 1"),
        "eval_items": ("held-out items per task for notebook 00's goal check", "integer >= 1"),
    },
    "model": {
        "source": ("hub id (`org/name`) or local folder saved with `save_pretrained` (`{run_dir}` expands)",
                   "string; checked to exist before any weights load"),
        "prompt_style": ("`chat` (the processor's chat template) or `completion` (a raw pretrained checkpoint)",
                         "`chat` needs a chat template"),
        "family": ("model family, for family-specific prompt details", "`gemma3`, `qwen2_vl`, `internvl`, `other`"),
        "dtype": ("weights' dtype", "`auto`, `bfloat16`, `float16`, `float32`"),
        "quantization": ("bitsandbytes quantization (the paper's P0: NF4)", "`none`, `nf4`, `int8`; checked to "
                         "run on the device first"),
        "quantize_skip": ("modules kept unquantized under `nf4`/`int8` besides the output head: paths from the "
                          "model's top or regexes, e.g. `[model.vision_tower, model.multi_modal_projector]` "
                          "(Gemma-3, InternVL) or `[model.visual]` (Qwen2-VL) "
                          "(null: bitsandbytes' default through transformers, every linear layer but the output "
                          "head, the vision tower and projector included); recorded with every prediction",
                          "list of module names or null"),
        "revision": ("hub revision to pin (recorded with every prediction)", "string or null"),
        "enabled": ("evaluate this model", "boolean; an enabled pair needs enabled models"),
        "label": ("display label in tables and figures (default: the name)", "string or null"),
        "unresolved": ("why this model has no checkpoint (it then cannot be enabled)", "string or null"),
    },
    "pair": {
        "base": ("the base model", "a model of `models`"),
        "aligned": ("the aligned model", "a model of `models`, not the base and not the base's checkpoint"),
        "method": ("how the aligned model was made (shown in tables)", "string"),
        "note": ("a note shown in the report", "string"),
        "enabled": ("evaluate this pair", "boolean"),
    },
    "inference": {
        "batch_size": ("generations per batch", "integer >= 1"),
        "max_new_tokens": ("tokens generated per answer", "integer >= 1"),
        "prompt_variants": ("`concise` (the paper's verbosity fix), `plain` (the A/B of C2)", "known variants"),
        "concise_datasets": ("datasets whose main prompt carries the concise instruction", "known datasets"),
        "shard": ("`i/N`: this process makes shard i of N (Slurm arrays)", "0 <= i < N"),
        "chunk_size": ("predictions per Parquet chunk (atomic writes, resumable)", "integer >= 1"),
        "device": ("`auto`, `cpu`, `cuda`, `mps`", "string"),
        "text_variants": ("notebook 10's text variants: `mislead`, `truthful` (a wrong or right caption line)",
                          "known variants"),
        "text_severities": ("severities the text variants are asked at (0 = clean; null = clean and the highest)",
                            "0 or a generated severity"),
        "text_items": ("the first items of each dataset's sample that get the text variants (null = all)",
                       "integer >= 1 or null"),
        "vision_cache_mb": ("memory for vision-tower outputs shared by prompt variants and by models with one "
                            "tower (0 = off)", ">= 0"),
    },
    "safety": {
        "datasets": ("the safety sets: `synth-safety` (the demo's stand-in: a hazard badge, nonsense verbs) or "
                     "`mm-safetybench` (paper mode, PKU-Alignment/MM-SafetyBench)", "non-empty list of those"),
        "n": ("rows per set (synth-safety: badge/no-badge twins, four item types in turn)", "integer >= 2, even "
              "with synth-safety"),
        "suite": ("corruptions of the safety items (null: `corruptions.suite`)", "null, a suite or a list"),
        "severities": ("their severities (null: `corruptions.severities`)", "null or a list of 1-5"),
        "models": ("the models asked (null: every model of the run)", "null or enabled models"),
        "judge": ("a transformers sequence-classification refusal model scored beside the keyword lists, "
                  "`{source: ..., refusal_labels: [...]}`; its agreement (Cohen's kappa) is reported",
                  "null or a mapping with `source`"),
        "sources": ("hub/local overrides per set, as `benchmark.sources` (MM-SafetyBench: `id`, `split`, "
                    "`scenarios`, `revision`, `path`)", "mapping"),
    },
    "analysis": {
        "bootstrap": ("paired item-bootstrap resamples", "integer >= 1"),
        "min_denominator": ("smallest reference error count (items) a CE ratio divides by", ">= 0"),
        "ci": ("level of every interval of the run", "0.5-0.999"),
        "table6_pair": ("notebook 04's P0 analogue (null: the run's first pair)", "an enabled pair or null"),
        "figure7_pair": ("notebook 04's P1 analogue (null: the run's second pair)", "an enabled pair or null"),
        "probit_fit_on": ("the models notebook 06's lines are fitted on", "`base`, `all`"),
        "equivalence_margin": ("margin of the two one-sided tests that decide whether the prompt fix eliminates the "
                               "format loss (notebook 05, claim C2)", "0 < margin <= 0.5"),
    },
}

SECTION_OF = {"model": "models.<name>", "pair": "pairs.<id>"}


def _default(section: str, key: str) -> str:
    if section == "" or key in REQUIRED.get(section, ()):
        return "required"
    value = DEFAULTS[section][key]
    return f"`{json.dumps(value)}`"


def document() -> str:
    """The Markdown of ``docs/params.md``."""
    lines = ["# Params reference", "",
             "What every key of a params file (`params/*.yaml`) means, its default and what the check accepts. "
             "`make check-params PARAMS=<run>` (or `python -m vlmrobust.params check FILE`) validates a file in "
             "about a second and names the file, the key and the value of the first mistake; every notebook "
             "loads the file again with `vr.params.load(params_file, overrides)`, which fills the defaults "
             "below.", "",
             "Generated by `python -m vlmrobust.params doc` from the library's table of defaults; a test keeps "
             "this file equal to it.", ""]
    for section in ("", "benchmark", "corruptions", "zoo", "model", "pair", "inference", "analysis", "safety"):
        keys = TOP_LEVEL_KEYS + OPTIONAL_TOP_LEVEL_KEYS if section == "" else allowed(section)
        title = "Top level" if section == "" else f"`{SECTION_OF.get(section, section)}`"
        lines += [f"## {title}", "", "| key | meaning | default | accepted |", "| --- | --- | --- | --- |"]
        for key in keys:
            meaning, accepted = DESCRIPTIONS[section][key]
            lines.append(f"| `{key}` | {meaning} | {_default(section, key)} | {accepted} |")
        lines.append("")
    return "\n".join(lines)
