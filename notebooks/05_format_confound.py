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
# # 05 · The format and pre-training confounds: is Rel. mCE measuring robustness?
#
# Two of the paper's claims are about its instrument rather than its models:
#
# * **C2, the verbosity mismatch.** Aligned models answer in sentences; strict scorers (exact match,
#   the VQA accuracy) count a right sentence as wrong. The paper appends "Answer with a single word or
#   short phrase only." (our `concise` prompt) and says this fixes it. The runs store the prompt without
#   it (`plain`) beside it, so the fix can be measured.
# * **Section 4.5, the Gemma confound.** A raw pretrained base that does not answer in the QA format
#   scores near zero, and then Rel. mCE compares format following, not robustness.
#
# This notebook asks, per model and pair: how often is the answer in the expected form (A)? what does
# the concise instruction change, and does it remove the format loss (B)? where does eq. 1's
# denominator stop measuring robustness (C)? and does Rel. mCE keep its verdict when format is
# controlled for (D)? Methods: `docs/methods.md` section 4; the library is
# `vlmrobust.analyses.confound`, whose docstring states the project's choices ([P]).

# %% tags=["parameters"]
params_file = "params/demo.yaml"  # the run: make injects its own params file here
overrides = {}  # e.g. {"benchmark": {"n": 20}}: merged into the file, then validated

# %%
import pandas as pd

from IPython.display import Markdown, display

import vlmrobust as vr

P = vr.params.load(params_file, overrides)
RUN = P["run"]
C = vr.analyses.confound
CI = P["analysis"]["ci"]
scores = vr.artifacts.read(RUN, vr.artifacts.SCORES)
samples = vr.artifacts.read(RUN, vr.artifacts.SAMPLES)
F = C.with_format(scores, samples)
pairs = vr.design.pairs(P)
print("pairs:", "; ".join(p.label for p in pairs), "| prompt variants:", sorted(F["prompt_variant"].unique()))

# %% [markdown]
# ## A. Answer-format compliance
#
# In format means: on the synthetic benchmark, one answer of the kind the question type asks for (a
# colour for a colour question, a number for a count, a sign word for a sign; `answer_format`); on the
# hub's open-ended sets, 1-3 words after VQA normalisation; for MCQ, a response from which a letter
# can be parsed (and, from the logits, letters holding at least half of the next-token probability).
# Clean images, with Wilson intervals; the table `format_compliance` has every condition.

# %%
comp = C.compliance(F, CI)
vr.artifacts.write_table(comp, RUN, "format_compliance", index=False)
summary = C.compliance_summary(F, CI)
summary.pivot_table(index="model", columns=["dataset", "prompt_variant", "image"], values="comp_text").round(2)

# %%
fig = vr.plots.compliance_bars(C.labelled(summary, P), f"Answers in the expected form (clean images, Wilson {CI:.0%})")
vr.plots.save(fig, RUN, "figure_confound_compliance")

# %% [markdown]
# ## B. The verbosity A/B (the paper's C2)
#
# Per pair, on the datasets asked both ways: each model's accuracy with (`concise`) and without
# (`plain`) the instruction and a sign-flip p of the per-item difference (the corrupted conditions are
# averaged inside each item first: `n` counts items, `rows` the answers averaged); a lenient score (the
# answer occurs in the response) beside the strict one, so that the format loss FL = lenient - strict
# can be read directly; and the gap G = acc(aligned) - acc(base) under each prompt, with the
# difference in differences `did = G_plain - G_concise` (item bootstrap). The paper does not say in
# which direction the mismatch "inflates" the gap, so the sign is reported, not assumed.
#
# "The fix eliminates the format loss" is an equivalence claim: it holds when the aligned model's FL
# under `concise` is shown to be within +-`analysis.equivalence_margin` of 0 by two one-sided tests (its
# 90 % interval inside the margin). An interval that merely contains 0 is absence of evidence.

# %%
ab = C.verbosity_ab(F, P)
vr.artifacts.write_table(ab, RUN, "verbosity_ab", index=False)
cols = ["pair", "dataset", "image", "n", "rows", "acc_plain_b", "acc_concise_b", "p_verb_b", "acc_plain_a",
        "acc_concise_a", "p_verb_a", "gap_plain", "gap_concise", "did", "did_lo", "did_hi", "fl_plain_a", "fl_concise_a",
        "fl_tost_lo_a", "fl_tost_hi_a", "fix_removes_format_loss"]
if len(ab):
    clean = ab[ab["image"] == "clean"]
    display(Markdown(
        "Equivalence (TOST, margin {:.2f}) of the aligned model's format loss to 0 under the concise prompt, clean "
        "items: ".format(float(clean["tost_margin"].iloc[0])) + "; ".join(
            f"{r.pair} {r.dataset} FL {r.fl_concise_a:+.3f}, 90 % CI [{r.fl_tost_lo_a:+.3f}, {r.fl_tost_hi_a:+.3f}]: "
            f"{'equivalent' if r.fl_equivalent_a else 'not shown equivalent'}" for r in clean.itertuples()) + "."))
ab[cols].round(3) if len(ab) else ab

# %%
if len(ab):
    fig = vr.plots.verbosity_ab(ab, "The verbosity A/B (clean): strict accuracy without and with the concise "
                                "instruction; hollow: lenient score of the plain answer")
    vr.plots.save(fig, RUN, "figure_confound_verbosity")

# %% [markdown]
# ## C. Denominator sensitivity: where eq. 1 stops measuring robustness
#
# For one corruption with S severities, E_b = sum_s (1 - acc_b,s) is eq. 1's denominator and
# R_b = sum_s (E_b,s - e_b,0) the clean-subtracted (Hendrycks) one. As the base approaches the floor,
# E_b approaches its ceiling S, so CE = E_a / E_b drifts to the aligned model's mean corrupted error: the
# ratio becomes small *mechanically* and favours the aligned model (the paper's section 4.5 says the
# denominator becomes small; that holds only for the clean-subtracted form, finding F3). R_b meanwhile
# approaches 0 and the relative CE explodes. Per pair, dataset and corruption: the base's headroom
# 1 - E_b / S (flag `floor` below 0.10), both ratios, and each recomputed with one base item more
# right or wrong.

# %%
sens = C.denominator_sensitivity(scores, P)
vr.artifacts.write_table(sens, RUN, "denominator_sensitivity", index=False)
sens[["pair", "dataset", "corruption", "mean_acc_b", "headroom_b", "floor", "ce", "ce_base_one_more_right",
      "ce_base_one_more_wrong", "rel_den_items", "rel_ce", "rel_ce_den_minus_one", "rel_ce_den_plus_one"]].round(3)

# %%
fig = vr.plots.ce_vs_base_accuracy(sens, C.ce_curve, "CE(aligned | base) against the base's accuracy; curves: "
                                   "the same aligned errors with the base's accuracy moving; ringed: floor cells")
vr.plots.save(fig, RUN, "figure_confound_denominator")
flagged = sens[sens["floor"]]
print(f"{len(flagged)} of {len(sens)} cells have a base at the floor (headroom < {C.FLOOR_HEADROOM}): "
      + ", ".join(sorted(set(flagged['pair'] + ' ' + flagged['dataset']))))

# %% [markdown]
# ## D. Rel. mCE with format controlled for
#
# (a) `joint_compliant`: each condition's accuracy is taken over the items that **both** models of the
# pair answer in format in that condition (the reference model is restricted to the same items); a
# condition with fewer than 5 such items is dropped with its corruption (listed in `note`). Compliance
# can itself change under corruption, so this is a sensitivity analysis, not an unbiased estimate.
# (b) `logit` (MCQ only): correct when the most probable option letter (the stored option
# probabilities) is the answer, so a model that cannot produce the format is still scored on what it
# prefers. Point values come from the same `metrics.relative_mce` as notebook 03, intervals from a
# paired item bootstrap.

# %%
fc = C.format_controlled(F, P)
vr.artifacts.write_table(fc, RUN, "rel_mce_format_controlled", index=False)
fc[["pair", "dataset", "view", "share_kept", "rel_mce_ratio", "ratio_lo", "ratio_hi", "rel_mce_intra", "intra_lo",
    "intra_hi", "note"]].round(3)

# %% [markdown]
# Which verdicts change? A verdict reads the interval of Rel. mCE (intra form): below 1 "aligned more
# robust", above 1 "aligned less robust", otherwise "no difference shown".

# %%
verdicts = C.conclusions(fc)
verdicts

# %%
changed = verdicts[verdicts.filter(like="_changes").any(axis=1)]
print("pairs/datasets whose conclusion changes when format is controlled for:",
      ", ".join(changed["pair"] + " " + changed["dataset"]) if len(changed) else "none")

# %% [markdown]
# **Reading the run** (generated from the tables above). A base model that rarely answers in format sits
# at the floor, where eq. 1's denominator nears its ceiling and the ratio favours the aligned model
# mechanically; the controlled views show whether a verdict survives when format is taken out. `it` was
# trained with the concise instruction and answers `plain` prompts with sentences: the verbosity
# mismatch in miniature (table B).

# %%
floors = sens[sens["floor"]].groupby("pair").size() if len(sens) else pd.Series(dtype=int)
lines = []
for pid, g in verdicts.groupby("pair", sort=False):
    std = g["standard"].value_counts()
    flags = [c for c in g.columns if c.endswith("_changes")]
    changes = [f"{r['dataset']} ({', '.join(c[:-len('_changes')] for c in flags if r[c])})"
               for _, r in g.iterrows() if any(r[c] for c in flags)]
    lines.append(f"- **{pid}**: standard verdicts {', '.join(f'{v} on {k}' for k, v in std.items())}; "
                 f"base at the floor in {int(floors.get(pid, 0))} (dataset, corruption) cells; verdicts that change "
                 f"when format is controlled for: {', '.join(changes) or 'none'}.")
display(Markdown("\n".join(lines)))
