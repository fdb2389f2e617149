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
# # 00 · The demo zoo: tiny Gemma-3 VLMs trained offline
#
# The paper compares base and aligned checkpoints of real VLMs. Without a GPU or the hub, the
# compendium trains its own: tiny models of the real Gemma-3 architecture
# (`Gemma3ForConditionalGeneration`, a SigLIP vision tower and a Gemma-3 text model, about
# 1 M parameters), with a lineage that mirrors how real models are made:
#
# | stage | made by | mirrors |
# | --- | --- | --- |
# | (vision) | dense supervised pretraining of the vision tower: which object is centred in each image-token cell, its size, the sign's word; the temporary head is discarded | the pretrained SigLIP encoder a real VLM starts from |
# | `pt` | caption pretraining | a raw pretrained checkpoint (`gemma-3-4b-pt`) |
# | `it` | instruction tuning from `pt`: verbose answers unless asked to be concise | an SFT / instruction-tuned model |
# | `po` | preference optimisation from `it` (DPO + SFT, MPO-style) on the rendered images | `InternVL2.5-2B-MPO` |
# | `po-aug` | `po`'s recipe exactly, but the preference pairs' images carry ImageNet-C corruptions that the run does not evaluate (contrast, fog, Gaussian blur, impulse, shot and speckle noise, pixelate, saturate) | the paper's hypothesis (section 4.4): preference data exposes a model to more image conditions |
#
# The demo's pairs are the instrument's controls, so that a reader can see the pipeline find an
# effect that is there and find none where there is none:
#
# | pair | base, aligned | control | what it must show |
# | --- | --- | --- | --- |
# | Z0 | it, po | negative | no robustness effect is planted: the degradation endpoint's intervals contain 0 |
# | Z2 | it, po-aug | positive | a planted robustness effect: `it` loses more accuracy to corruption than `po-aug` (intervals above 0) |
# | Z1 | pt, it | the confound | the paper's Gemma pre-training confound: a raw checkpoint that does not answer in format |
#
# `po-aug`'s augmentations (`zoo.po_aug_images`, `vlmrobust/zoo/augment.py`) are corruptions the run
# does not evaluate (the params check refuses a suite that contains one), so the effect has to
# transfer to the evaluated ones. The zoo's own PIL/numpy augmentations (`po_aug_images: own`, the
# first design) transferred to Gaussian noise only; the README compares the two over seeds. Models
# are saved with `save_pretrained` and later loaded by notebook 02 exactly like a hub checkpoint.
#
# The trained zoo ships with the compendium (`zoo-weights/<config hash>/`, with the SHA-256 digest of
# every file): this notebook checks it and copies it into the run's folder, so every reader gets the
# same weights, and the same numbers, in seconds. It trains (about 20 minutes on two CPU cores) only
# when the params change the recipe, i.e. when no shipped zoo has the run's config hash;
# `make zoo-train` retrains the shipped recipe from scratch and compares the result with it.
# This notebook is skipped by `make reproduce` when the params name no zoo (paper runs).

# %% tags=["parameters"]
params_file = "params/demo.yaml"  # the run: make injects its own params file here
overrides = {}  # e.g. {"benchmark": {"n": 20}}: merged into the file, then validated

# %%
from IPython.display import Markdown, display

import vlmrobust as vr

P = vr.params.load(params_file, overrides)
RUN = P["run"]
CFG = P["zoo"]  # the zoo's settings, every key filled and checked by params.load
ZOO = vr.zoo.zoo_dir(P)
print(f"zoo directory {ZOO}; config hash {vr.zoo.config_hash(CFG)}")
{k: v for k, v in CFG.items() if k != "dir"}

# %% [markdown]
# ## The zoo: shipped (checked and installed), or trained pt -> it -> po and po-aug

# %%
info, how = vr.zoo.obtain(ZOO, CFG)
import pandas as pd  # noqa: E402

curves = {"vision": info["vision"], **info["stages"]}  # vision pretraining is part of pt's checkpoint
stages = pd.DataFrame([{"stage": k, "steps": v["steps"], "seconds": v["seconds"],
                        "weights sha256[:16]": v.get("weights", "(in pt)"),
                        "final loss (mean of last 20)": sum(v["loss"][-20:]) / len(v["loss"][-20:])}
                       for k, v in curves.items()]).set_index("stage")
vr.artifacts.write_table(stages, RUN, "zoo_training")
print(f"the run's zoo: {how}; its training took {info['seconds_total']:.0f} s"
      + (" when it was made (the shipped zoo's record)" if how == "shipped" else ""))
stages

# %%
fig = vr.plots.loss_curves(curves)
vr.plots.save(fig, RUN, "zoo_loss_curves")

# %% [markdown]
# What the vision tower learned before any text: per-cell accuracy of the (discarded)
# pretraining head on held-out scenes (the word: which of the six words, read on the sign's
# centre cell). Chance: colour 1/6, shape 1/4, word 1/6.

# %%
probe = pd.Series(info["vision"]["probe"], name="held-out cell accuracy").to_frame()
vr.artifacts.write_table(probe, RUN, "zoo_vision_probe")
probe.round(3)

# %% [markdown]
# ## Does the zoo behave like the paper's models?
#
# Held-out evaluation items (a different seed stream from the training split), clean and under
# the run's corruptions at every severity (the demo: the four pilot corruptions at 1, 3 and 5;
# `pt` on clean items only: it enters no control), run through the pipeline's own pieces: the
# corruptions and seeds of notebook 01, the prompt variants and prompt style each model gets in
# notebook 02, the paper's scorers of notebook 03.

# %%
ev = vr.zoo.evaluate(P)
CI = P["analysis"]["ci"]
acc = vr.metrics.accuracy_table(ev.assign(cond=ev["corruption"] + "/" + ev["prompt_variant"]),
                                by=["model", "dataset", "cond"], ci=CI)
table = acc.pivot_table(index=["model", "cond"], columns="dataset", values="acc")
table["mean"] = table.mean(axis=1)
vr.artifacts.write_table(table, RUN, "zoo_accuracy")
table.round(3)

# %% [markdown]
# ### The controls: the degradation endpoint
#
# The controls are judged by the compendium's confirmatory endpoint (`analyses.degradation`): per
# held-out item, the accuracy the base model loses to the run's corruptions (clean minus the mean
# over every corruption and severity) minus the accuracy the aligned model loses, averaged over
# items, with a paired item-bootstrap interval (items resampled with all their conditions). Above 0:
# the aligned model loses less. The positive control Z2 is detected where the interval is above 0
# on at least two of the four tasks; the negative control Z0 should have intervals containing 0.
# Whatever the clean accuracies, this reads robustness only.

# %%
ep = vr.zoo.endpoint(ev, P)
vr.artifacts.write_table(ep, RUN, "zoo_endpoint", index=False)
fig = vr.plots.endpoint_forest(ep, title=f"Zoo controls on held-out items: degradation endpoint ({CI:.0%} paired "
                                         "item-bootstrap intervals)",
                               label_of={p: f"{p} ({c})" for p, c in zip(ep["pair"], ep["control"])})
vr.plots.save(fig, RUN, "zoo_endpoint")
verdict = vr.zoo.control_verdicts(ep)
pos, neg = verdict["positive"], verdict["negative"]
display(Markdown(
    f"**Positive control {pos['pair']}**: the interval is above 0 on {pos['above_0']} of {pos['tasks']} tasks: "
    f"{'detected' if pos['detected'] else 'not detected'} (the rule: at least 2). "
    f"**Negative control {neg['pair']}**: {neg['contain_0']} of {neg['tasks']} intervals contain 0; above 0 on "
    f"{neg['above_0']} ({'a false positive by the same rule' if neg['detected'] else 'no false positive'})."))
ep.round(3)

# %% [markdown]
# ### The paper's ratio form, described
#
# Rel. mCE of each zoo pair on the held-out items, with its paired item-bootstrap interval,
# computed by notebook 03's own function (`analyses.ce_tables.bootstrap`, the run's reference
# `it`): the paper's metric, reported but not used to judge the controls.
#
# Two readouts from the same resamples help to read it. `ratio_if_undegraded` (the crosses) is the
# Rel. mCE the aligned model would have if no corruption hurt it at all: for models this weak, most
# of the ratio form's error is clean error, so even a perfectly robust `po-aug` cannot get far below
# 1 unless its clean accuracy rises; the ratio form mixes capability with robustness (the paper's
# own confound, here in numbers). The `degradation_ratio` (right panel) is the error corruptions
# *add* to the aligned model over the error they add to the base.

# %%
ctl = vr.zoo.controls(ev, P)
vr.artifacts.write_table(ctl, RUN, "zoo_controls", index=False)
fig = vr.plots.control_intervals(ctl, title=f"Zoo controls on held-out items, paired bootstrap {CI:.0%} "
                                            "intervals")
vr.plots.save(fig, RUN, "zoo_controls")
ctl.round(3)

# %% [markdown]
# The last row per pair pools the four tasks' items into one sample: each task's base loses only a
# few items' worth of accuracy to the corruptions, so its own degradation ratio is noisy; the pooled
# one has four times the items (reported beside the goals, which count tasks).
#
# The planted effect in its plainest form: accuracy lost to the corruptions at each severity, mean
# over the run's corruptions and the four tasks, with item-bootstrap intervals. `po-aug` should lose
# less than `po` and `it`; `po`, aligned on clean images, about as much as `it`.

# %%
lost = vr.zoo.accuracy_lost(ev, seed=P["seed"], ci=CI)
vr.artifacts.write_table(lost, RUN, "zoo_accuracy_lost", index=False)
fig = vr.plots.accuracy_lost_by_severity(lost, title=f"Zoo: accuracy lost to the corruptions (held-out items, "
                                                     f"{CI:.0%} CI)")
vr.plots.save(fig, RUN, "zoo_accuracy_lost")
lost.pivot(index="model", columns="severity", values="accuracy_lost").round(3)

# %% [markdown]
# `po` and `po-aug` differ only in the images of their training data, so the difference of what they
# lose is the planted effect itself, free of what preference optimisation on clean images does to
# robustness (which both controls against `it` carry). Paired over items: negative where `po-aug`
# loses less.

# %%
planted = vr.zoo.planted_difference(ev, seed=P["seed"], ci=CI)
vr.artifacts.write_table(planted, RUN, "zoo_planted_difference", index=False)
planted.round(3)

# %% [markdown]
# ### The goals
#
# Each goal of the zoo (`docs/zoo.md`), measured on the held-out items; the last row is the paper's
# Rel. mCE reading of the positive control, described only.

# %%
goals = vr.zoo.goals(ev, P)
vr.artifacts.write_table(goals, RUN, "zoo_goals", index=False)
judged = goals[goals["kind"] == "goal"]
display(Markdown(f"{int(judged['met'].sum())} of {len(judged)} goals met on these held-out items."))
goals

# %%
clean = acc[acc["cond"].isin(["none/concise", "none/plain"])]
fig = vr.plots.accuracy_by_condition(clean, x="dataset", hue="cond", facet="model",
                                     title=f"Zoo, clean items: concise vs plain prompt (Wilson {CI:.0%} CI)")
vr.plots.save(fig, RUN, "zoo_clean_accuracy_by_prompt")

# %%
conc = acc[acc["cond"].str.endswith("/concise")].assign(corruption=lambda d: d["cond"].str.split("/").str[0])
conc = conc.sort_values("corruption", key=lambda c: c != vr.corruptions.CLEAN, kind="stable")  # clean first
fig = vr.plots.accuracy_by_condition(conc, x="dataset", hue="corruption", facet="model",
                                     title="Zoo: clean and the run's corruptions, pooled over the run's "
                                           "severities (concise prompt)")
vr.plots.save(fig, RUN, "zoo_accuracy_under_corruption")

# %% [markdown]
# Sample responses on clean items (the same item for every model):

# %%
first = ev[ev["corruption"] == vr.corruptions.CLEAN].groupby("dataset")["sample_id"].first()
sample = ev[(ev["corruption"] == vr.corruptions.CLEAN) & ev["sample_id"].isin(first.values)]
sample.pivot_table(index=["dataset", "prompt_variant"], columns="model", values="response", aggfunc="first")

# %%
vr.provenance.colophon()
