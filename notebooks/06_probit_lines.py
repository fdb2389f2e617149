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
# # 06 · Probit lines: is an aligned model more robust, or just more accurate?
#
# A model that is more accurate on clean images is usually more accurate on corrupted ones too.
# "Accuracy on the line" (the probit seed) makes this precise: across models, clean and shifted
# accuracy fall close to a line once both are transformed by the probit z = Phi^-1. *Effective
# robustness* is a model's distance above that line, in accuracy units: robustness beyond what its
# clean accuracy already buys. Relative mCE mixes the two; this notebook separates them.
#
# * Points: per dataset and shift, (clean accuracy, shifted accuracy) of every model; shifts are each
#   (corruption, severity), each corruption averaged over its severities, and all corruptions.
# * The line: OLS in probit space over the fit models (`analysis.probit_fit_on`: the pairs' base
#   models, as the paper's "standard" models, or all), at least three unclipped points. Accuracies of
#   0 or 1 are clipped to 1/(2n) from the edge, drawn hollow and left out of fits.
# * ER_m = y_m - Phi(alpha + beta z(x_m)); the pair effect dER = ER_aligned - ER_base; and a
#   line-free contrast rho = [z(y_a) - z(y_b)] - beta [z(x_a) - z(x_b)] in probit units, with the
#   fitted beta and with beta = 1, computable even with three models.
# * Intervals: an item bootstrap (the same resampled items for every model), refitting the line in
#   every resample; `share_no_line` says how often a resample had no line.
#
# With few models a line is fragile (the demo has three): read the fits as a method demonstration,
# and the pair contrast as the robust quantity.

# %% tags=["parameters"]
params_file = "params/demo.yaml"  # the run: make injects its own params file here
overrides = {}  # e.g. {"benchmark": {"n": 20}}: merged into the file, then validated

# %%
from IPython.display import Markdown, display

import vlmrobust as vr

P = vr.params.load(params_file, overrides)
RUN = P["run"]
PR = vr.analyses.probit
FIT_ON = P["analysis"]["probit_fit_on"]
scores = vr.artifacts.read(RUN, vr.artifacts.SCORES)
CHANCE = PR.chance_levels(vr.artifacts.read(RUN, vr.artifacts.SAMPLES))  # multiple choice: chance-corrected
print(f"models {vr.design.run_models(P)}; lines fitted on: {FIT_ON}; chance-corrected: {CHANCE or 'none'}")

# %% [markdown]
# ## Lines per dataset and shift

# %%
fits, er, contrast, band = PR.lines(scores, P, fit_on=FIT_ON, chance=CHANCE)
vr.artifacts.write_table(fits, RUN, "probit_fits", index=False)
vr.artifacts.write_table(er, RUN, "effective_robustness", index=False)
vr.artifacts.write_table(contrast, RUN, "probit_pair_contrast", index=False)
fits[fits["shift"].isin([c for c in fits["shift"].unique() if " s" not in c])].round(3)

# %% [markdown]
# ## Figure: clean against corrupted accuracy, probit axes
#
# Per dataset (rows), per corruption averaged over severities and over all corruptions (columns;
# multiple-choice datasets in chance-corrected units, so that guessing sits at 0):
# base models are circles, aligned models triangles (hollow when clipped), an arrow runs from each
# base to its aligned model; solid: the fitted line, grey: its item-bootstrap band; dashed: y = x.
# An aligned model whose arrow ends above the line is more robust than its clean accuracy predicts.

# %%
SHIFTS = [s for s in dict.fromkeys(fits["shift"]) if " s" not in s]  # per corruption, then all
pairs_ = [(p.id, p.base, p.aligned) for p in vr.design.pairs(P)]
fig = vr.plots.probit_grid(er, fits, pairs_, P["benchmark"]["datasets"], SHIFTS,
                           f"Clean vs corrupted accuracy, probit axes (line fitted on: {FIT_ON}; grey: its "
                           f"item-bootstrap {P['analysis']['ci']:.0%} band)", band)
vr.plots.save(fig, RUN, "figure_probit_all")

# %% [markdown]
# ## Effective robustness of each pair
#
# dER with its item-bootstrap interval, and the line-free contrast rho (probit units) with the fitted
# slope and with slope 1.

# %%
contrast[contrast["shift"] == PR.ALL].round(3)

# %% [markdown]
# ## The paper's own models
#
# For GQA the paper's numbers give both coordinates: clean accuracy from Table 2, and the mean corrupted
# accuracy from Table 5's CE per corruption times the reference's error sums in Table 6 (eq. 1 solved
# for the model's errors). The line through the four base models is weighted by the inverse variance of
# each point (P0 has n = 50, the others n = 10), the unweighted line beside it; intervals come from a
# parametric bootstrap at the stated n (the paper publishes no item data). An aligned model whose clean
# accuracy lies outside the base models' range is flagged: the line is extrapolated there.

# %%
paper_pts, paper_line = PR.paper_lines(seed=P["seed"], ci=P["analysis"]["ci"])
vr.artifacts.write_table(paper_pts, RUN, "paper_probit_points", index=False)
print(f"weighted line through the paper's base models on GQA: alpha {paper_line['alpha']:.3f}, beta "
      f"{paper_line['beta']:.3f} [{paper_line['beta_lo']:.2f}, {paper_line['beta_hi']:.2f}] (unweighted beta "
      f"{paper_line['beta_ols']:.3f}, R^2 {paper_line['r2']:.3f}; {paper_line['n_points']} points)")
paper_pts.round(3)

# %%
fig = vr.plots.probit_paper(paper_pts, paper_line, "The paper's models on GQA, probit axes (line: base models)")
vr.plots.save(fig, RUN, "figure_probit_paper")

# %% [markdown]
# **Reading the paper's models this way** (generated from the table above):

# %%
al = paper_pts[paper_pts["role"] == "aligned"].set_index("pair")
EXTRAPOLATED = " (extrapolated: its clean accuracy is outside the bases' range)"
display(Markdown("\n".join(
    f"- **{pid}** ({r.model}): {'above' if r.rho_fitted_beta > 0 else 'below'} the line by "
    f"{r.rho_fitted_beta:+.2f} probit units [{r.rho_fitted_lo:+.2f}, {r.rho_fitted_hi:+.2f}]"
    f"{EXTRAPOLATED if r.extrapolated else ''}; at slope 1 "
    f"{r.rho_beta1:+.2f}. {'The interval excludes 0.' if r.rho_fitted_lo > 0 or r.rho_fitted_hi < 0 else 'The interval contains 0: a reading, not a finding.'}"
    for pid, r in al.iterrows())))

# %%
vr.provenance.colophon()
