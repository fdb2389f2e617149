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
params_file = "params/demo.yaml"  # the run: make injects its own params file here
overrides = {}  # e.g. {"benchmark": {"n": 20}}: merged into the file, then validated

# %%
import pandas as pd

import vlmrobust as vr

P = vr.params.load(params_file, overrides)
RUN = P["run"]
pd.set_option("display.max_colwidth", 80)
print("models:", vr.design.run_models(P), "| prompt variants:", P["inference"]["prompt_variants"],
      "| shard:", P["inference"]["shard"])

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
