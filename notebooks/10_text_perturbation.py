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
# # 10 · Misleading text in the prompt: a second robustness axis
#
# The fourth seed (RL-fine-tuned VLMs and chain-of-thought) reports that a misleading caption or a
# wrong hint in the prompt cuts accuracy and confidence. Users of aligned models meet that in practice
# (a wrong alt text, a leading question), and the paper's own explanation of its defocus reversal,
# "the aligned model uses language priors to fill in mildly degraded images", is a claim about exactly
# this: text should matter **more** when the image is worse, and more so for the aligned model.
#
# Design (`vlmrobust.perturb`, `docs/methods.md` section 8): two prompt variants on top of the
# concise prompt, asked on clean images and at the highest severity of every corruption:
#
# * `mislead`: a line before the question asserting a wrong value of exactly what is asked
#   ("Caption: The square is blue." for a yellow square; "Hint: the answer is <distractor>." for MCQ);
# * `truthful`: the same line with the right value, the control (a model that never saw such a line in
#   training may be thrown by any line).
#
# The wrong value is one no annotator gave, chosen by a stable hash, so the same item gets the same
# claim on every machine. Reference ("none") = the concise answer in the same image condition.

# %% tags=["parameters"]
params_file = "params/demo.yaml"  # the run: make injects its own params file here
overrides = {}  # e.g. {"benchmark": {"n": 20}}: merged into the file, then validated

# %%
import pandas as pd

import vlmrobust as vr

P = vr.params.load(params_file, overrides)
RUN = P["run"]
T = vr.analyses.text_perturbation
CI = P["analysis"]["ci"]
scores = vr.artifacts.read(RUN, vr.artifacts.SCORES)
t = T.item_table(scores)
inf = P["inference"]
print(f"text variants {inf['text_variants']} at severities {inf['text_severities'] or 'clean and the highest'} on "
      f"{inf['text_items'] or 'all'} items per dataset: {t['item'].nunique()} items, {len(t)} item-conditions per model")

# %% [markdown]
# What a model sees: one item of each dataset, its question and both lines.

# %%
preds = vr.inference.load_predictions(RUN)
show = preds[preds["prompt_variant"].isin(vr.prompts.TEXT_VARIANTS) & (preds["severity"] == 0)]
first = show.groupby("dataset")["sample_id"].transform("first")
show = show[(show["sample_id"] == first) & (show["model"] == show["model"].iloc[0])] if len(show) else show
for r in show.itertuples():
    print(f"[{r.dataset} · {r.prompt_variant}] claim {r.claim!r}\n{r.prompt}\n-> {r.response!r}\n")

# %% [markdown]
# ## Effects per model and image condition
#
# `d_mislead` = acc(mislead) - acc(none), `d_truthful` likewise (paired item-bootstrap intervals);
# `flip_rate` = share of the answers right under none that mislead makes wrong; `adopt_*` = share of
# answers equal to the asserted wrong value, under mislead and under none (its baseline); `dp_y`,
# `dp_w` = mean change of the gold and of the asserted option's probability (MCQ).

# %%
eff = T.effects(t, P)
vr.artifacts.write_table(eff, RUN, "text_perturbation", index=False)
pooled = eff[eff["image"].isin([T.CLEAN_LABEL, T.CORRUPTED])]
pooled[["model", "dataset", "image", "n", "acc_none", "acc_mislead", "acc_truthful", "d_mislead", "d_mislead_lo",
        "d_mislead_hi", "d_truthful", "flip_rate", "adopt_none", "adopt_mislead", "dp_y", "dp_w"]].round(3)

# %% [markdown]
# ## The 2x2: image corruption x misleading text
#
# A_IT with I = 1 for a corrupted image and T = 1 for the misleading line;
# Int = (A11 - A10) - (A01 - A00) is negative when the caption hurts more on a corrupted image. T = 0 is
# reported two ways (column `reference`): the **truthful** line, so that the contrast isolates the
# misleading *content*, and **no line**, so that it measures a caption line at all (a truthful line can
# cost a model as much as a wrong one). Pooled over datasets, the GEE has a dataset term.
# The interval is a paired item bootstrap of item-level contrasts; the GEE column is the same
# interaction on the log-odds scale (`y ~ img * text`, clustered by item), which does not depend on
# how close the cells are to the floor. Cells where every answer is right or every one wrong have no
# GEE estimate (perfect separation).

# %%
inter = T.interaction_table(t, P)
vr.artifacts.write_table(inter, RUN, "text_interaction", index=False)
inter.drop(columns=["gee_se"]).round(3)

# %%
cells = T.cells_for_figure(t, P)
fig = vr.plots.text_interaction(cells, "Accuracy with and without text in the prompt, clean and corrupted "
                                "(all datasets pooled)")
vr.plots.save(fig, RUN, "figure_text_2x2")

# %% [markdown]
# ## The paper's hypothesis, tested: does the aligned model lean on text more when the image is worse?
#
# Per pair: Int(aligned) - Int(base) over the items both models answered, with a paired bootstrap
# interval and a sign-flip p-value, against each reference. The section 4.6 explanation predicts a
# **negative** value (the aligned model's caption damage grows more under corruption); against the
# truthful line it is about misleading content, which is what the explanation is about.

# %%
tw = T.three_way(t, P)
vr.artifacts.write_table(tw, RUN, "text_three_way", index=False)
tw.round(3)

# %%
pooled3 = tw[tw["dataset"] == T.ALL]
for r in pooled3.itertuples():
    side = ("supports" if r.ci_hi < 0 else "contradicts" if r.ci_lo > 0 else "neither supports nor contradicts")
    print(f"{r.label}, against {r.reference}: Int(aligned) - Int(base) = {r.diff:+.3f} [{r.ci_lo:+.3f}, "
          f"{r.ci_hi:+.3f}], p = {r.p_sign_flip:.3f}: {side} the hypothesis")

# %% [markdown]
# **Reading the demo.** The zoo's models never saw a caption or hint line in training, so *any* line is
# out of distribution: compare `d_truthful` with `d_mislead` before calling a drop "being misled". A
# model that is misled, rather than merely disturbed, adopts the asserted value more often under
# `mislead` than under none. The interaction and three-way tables say whether the damage grows with
# corruption; their intervals, not the point values, carry the conclusion.
