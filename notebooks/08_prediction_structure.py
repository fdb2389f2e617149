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
# # 08 · Prediction structure: the Robustness Alignment Score
#
# Accuracy counts right answers; it does not say *how* a model's belief changes when the image is
# corrupted. For multiple-choice items the inference stored the probability of every option letter at
# the first generated position, so we can look below accuracy (the BENCH-C seed): does a corruption make
# the model more uncertain (dS), worse calibrated (dC), confidently wrong?
#
# * S: normalised entropy of the option distribution; C = |1{argmax = answer} - max p|.
# * RAS = -dC - [dC]+ [-dS]+ - [dS]+ [-dC]+. **Our reading of the seed's eq. 10**: its printed "+"
#   between the two penalty brackets, read literally (RAS = -dC - |dC| - |dS|, never positive),
#   contradicts the seed's own stated range [-2, 1] and its positive RAS values; reading the brackets as
#   products gives exactly [-2, 1] (a test checks the range over random distributions).
# * Quadrants: degraded (uncertainty and calibration error up), overconfident (calibration error up,
#   uncertainty not), hesitant (uncertainty up only), stable.
# * Destructive RAS over items the model got right on the clean image, corrective over those it got
#   wrong (the seed's Figure 6).
# * Every summary on all items, and on the items whose letter mass (the share of the next-token
#   distribution on the option letters) is at least 0.5 in both conditions: a base model that does not
#   answer with a letter has a letter distribution that is mostly noise.
#
# Items with missing probabilities are excluded and counted, never imputed.

# %% tags=["parameters"]
params_file = "params/demo.yaml"  # the run: make injects its own params file here
overrides = {}  # e.g. {"benchmark": {"n": 20}}: merged into the file, then validated

# %%
import numpy as np

import vlmrobust as vr

P = vr.params.load(params_file, overrides)
RUN = P["run"]
ST = vr.analyses.structure
scores = vr.artifacts.read(RUN, vr.artifacts.SCORES)
samples = vr.artifacts.read(RUN, vr.artifacts.SAMPLES)
t, coverage = ST.item_table(scores, P)
vr.artifacts.write_table(coverage, RUN, "ras_coverage", index=False)
print(f"{len(t)} (model, item, corrupted condition) rows on the run's multiple-choice datasets")
coverage

# %% [markdown]
# ## Table 1 analogue: accuracy, RAS, uncertainty and calibration per model
#
# `argmax_agrees_text`: how often the option with the highest probability is right exactly when the
# parsed text answer is right. Where it is low, the text and the probabilities tell different stories
# (typically a model that does not answer in the letter format).

# %%
if t.empty:
    print("this run has no multiple-choice dataset with stored option probabilities: nothing to analyse")
else:
    kap = ST.kappa(t)
    summ = ST.summary(t, kap)
    vr.artifacts.write_table(summ, RUN, "table_ras_summary", index=False)
    display(summ[summ["weighting"] == "unweighted"].round(3))  # noqa: F821

# %% [markdown]
# ## Behaviour quadrants
#
# One point per item and corrupted condition (the seed's Figure 4).

# %%
if not t.empty:
    vr.artifacts.write_table(ST.quadrant_counts(t), RUN, "ras_quadrants", index=False)
    fig = vr.plots.ras_quadrants(t, "Change in uncertainty vs change in calibration error, per model")
    vr.plots.save(fig, RUN, "figure_ras_quadrants")
    display(t.pivot_table(index="model", columns="quadrant", values="ras", aggfunc="size", fill_value=0))  # noqa: F821

# %% [markdown]
# ## Destructive and corrective RAS (the seed's Figure 6)

# %%
if not t.empty:
    dc = ST.destructive_corrective(t)
    vr.artifacts.write_table(dc, RUN, "ras_destructive_corrective", index=False)
    fig = vr.plots.destructive_corrective(dc, "Mean RAS per model and corruption")
    vr.plots.save(fig, RUN, "figure_ras_destructive_corrective")

# %% [markdown]
# ## Does alignment change RAS? The pair contrast
#
# RAS(aligned) - RAS(base) per pair and dataset, with a paired item-bootstrap interval.

# %%
if not t.empty:
    contrast = ST.pair_contrast(t, P)
    vr.artifacts.write_table(contrast, RUN, "ras_pair_contrast", index=False)
    display(contrast.round(3))  # noqa: F821

# %% [markdown]
# ## Discriminative power and a discriminative subset
#
# kappa(q): the mean over corruptions and models of the Gini impurity of the item's top-1 predictions
# across severities (with 3 severities and 4 options at most 0.889). The selectors are the run's own
# models, which is circular (BENCH-C's selectors were disjoint from the models it evaluated): the
# summary above reports kappa-weighted and unweighted results side by side for that reason. The greedy
# subset trades discriminative power against diversity; its embeddings here are **offline substitutes**
# (a 16 x 16 grey thumbnail for the image, a hashed bag of words for question and options) for the
# seed's ViT-B/32 and SBERT, which the offline demo cannot download; `ST.greedy_subset` takes any embedding.

# %%
if not t.empty:
    fig = vr.plots.kappa_hist(kap, "Discriminative power of the items")
    vr.plots.save(fig, RUN, "figure_kappa_hist")
    items = samples.assign(key=samples["dataset"] + "|" + samples["sample_id"].astype(str)).set_index("key")
    keys = (kap["dataset"] + "|" + kap["sample_id"].astype(str)).tolist()
    emb = {"image (thumbnail substitute)": np.stack([ST.thumbnail_embedding(items.loc[k, "image"]) for k in keys]),
           "text (hashed words substitute)": np.stack([ST.hashed_words_embedding(
               f"{items.loc[k, 'question']} {' '.join(map(str, items.loc[k, 'options']))}") for k in keys])}
    subset = ST.greedy_subset(keys, kap["kappa"].to_numpy(), emb)
    vr.artifacts.write_table(subset, RUN, "discriminative_subset", index=False)
    print(f"{int(subset['kept'].sum()) if len(subset) else 0} of {len(keys)} items kept "
          f"({int((kap['kappa'] == 0).sum())} with kappa = 0 dropped first)")

# %%
vr.provenance.colophon()
