# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Inference: every model on every corrupted image
#
# One generic Hugging Face path for every model of the run: `AutoProcessor` +
# `AutoModelForImageTextToText`, the chat template for chat models and a completion prompt
# (`<image>Question: ... Answer:`) for raw pretrained checkpoints, greedy decoding
# (`do_sample=False`, `max_new_tokens` from params), batched with left padding. Each model is
# loaded once for all its datasets and conditions. For multiple-choice items the probability of
# every option letter at the first generated position is stored too.
#
# Predictions go to `outputs/<run>/predictions/<model>/<dataset>/part-*.parquet`, written
# atomically in chunks; re-running skips what is already there, so an interrupted run resumes
# where it stopped. `inference.shard: i/N` splits the work for N parallel processes.

# %% tags=["parameters"]
params_file = 'params/demo.yaml'  # make passes -f <file> -p params_file <file>
run = 'demo'
seed = 42
benchmark = {'datasets': ['synth-spatial', 'synth-vqa', 'synth-text', 'synth-mcq'],
             'n': 100,
             'image_size': 224,
             'resize': 'center_crop',
             'sources': {}}
corruptions = {'suite': 'pilot', 'severities': [1, 3, 5], 'format': 'png', 'jpeg_quality': 85, 'workers': 2}
zoo = {'dir': '{run_dir}/zoo',
       'seed': 0,
       'image_size': 224,
       'patch_size': 14,
       'image_tokens': 16,
       'text_hidden': 128,
       'text_layers': 3,
       'vision_hidden': 96,
       'vision_layers': 3,
       'heads': 2,
       'vocab_size': 600,
       'train_items': 2000,
       'steps': {'vision': 2000, 'pt': 600, 'it': 1800, 'po': 150},
       'batch_size': 32,
       'lr': {'vision': 0.003, 'pt': 0.001, 'it': 0.001, 'po': 0.0001},
       'dpo_beta': 0.1,
       'sft_weight': 1.0,
       'threads': 2,
       'eval_items': 100}
models = {'zoo-pt': {'source': '{run_dir}/zoo/pt',
                     'family': 'gemma3',
                     'prompt_style': 'completion',
                     'dtype': 'float32',
                     'quantization': 'none',
                     'label': 'zoo pt (caption pretraining only)'},
          'zoo-it': {'source': '{run_dir}/zoo/it',
                     'family': 'gemma3',
                     'prompt_style': 'chat',
                     'dtype': 'float32',
                     'quantization': 'none',
                     'label': 'zoo it (instruction-tuned)'},
          'zoo-po': {'source': '{run_dir}/zoo/po',
                     'family': 'gemma3',
                     'prompt_style': 'chat',
                     'dtype': 'float32',
                     'quantization': 'none',
                     'label': 'zoo po (preference-optimised from it)'}}
pairs = {'Z0': {'base': 'zoo-it',
                'aligned': 'zoo-po',
                'method': 'preference optimisation (MPO-style)',
                'note': 'mirrors P0: InternVL2.5-2B SFT vs MPO'},
         'Z1': {'base': 'zoo-pt',
                'aligned': 'zoo-it',
                'method': 'instruction tuning',
                'note': 'mirrors the Gemma pre-training confound (P2/P3): base is a raw pretrained '
                        'checkpoint'}}
reference = 'zoo-it'
inference = {'batch_size': 16,
             'max_new_tokens': 64,
             'prompt_variants': ['concise', 'plain'],
             'concise_datasets': ['synth-vqa', 'synth-text', 'vqav2', 'textvqa'],
             'shard': '0/1',
             'chunk_size': 64,
             'device': 'auto'}
analysis = {'bootstrap': 2000, 'min_denominator': 5, 'ci': 0.95}

# %%
import pandas as pd

import vlmrobust as vr

P = vr.params.from_notebook(globals(), params_file)
RUN = P["run"]
pd.set_option("display.max_colwidth", 80)
print("models:", vr.params.run_models(P), "| prompt variants:", P["inference"]["prompt_variants"],
      "| shard:", P["inference"].get("shard", "0/1"))

# %%
throughput = vr.inference.run(P)
vr.artifacts.write_table(throughput.set_index("model"), RUN, "inference_throughput")
throughput

# %%
preds = vr.inference.load_predictions(RUN)
print(f"{len(preds)} predictions stored")
preds.groupby(["model", "dataset", "prompt_variant"]).size().unstack("prompt_variant")

# %% [markdown]
# ## Sample responses per model and condition
#
# One item per dataset, clean and at the highest severity of each corruption.

# %%
top = preds["severity"].max()
one = preds.groupby("dataset")["sample_id"].transform("first")
show = preds[(preds["sample_id"] == one) & preds["severity"].isin([0, top])
             & (preds["prompt_variant"] == preds["prompt_variant"].iloc[0])]
show.pivot_table(index=["dataset", "corruption", "severity"], columns="model", values="response", aggfunc="first")

# %% [markdown]
# The exact prompt each model saw for one multiple-choice item:

# %%
mcq = preds[preds["option_probs"].notna()]
if len(mcq):
    r = mcq.iloc[0]
    print(r["model"], "|", r["dataset"], r["sample_id"], "\n", r["prompt"], "\n->", r["response"],
          "\noption probabilities:", dict(zip(r["option_letters"], [round(x, 3) for x in r["option_probs"]])),
          f"\nletter mass: {r['letter_mass']:.3f}")

# %%
vr.provenance.colophon()
