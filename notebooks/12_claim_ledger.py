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
# # 12 · The claim ledger: which of the paper's claims hold?
#
# One row per claim of the paper: its words (short, with the section), what would make it hold, and two
# verdicts, each one of *supported*, *contradicted*, *not decidable* (the evidence says which n would
# decide it) or *not testable here* (the evidence says why):
#
# * **from the paper's own printed tables**: printed numbers only, so the same on every machine. Most of
#   the paper's claims rest on 10-50 items per condition, where a difference of 0.1 cannot be
#   significant; the ledger says how many items would decide each;
# * **from this run**: in paper mode the same pair; in the demo, the zoo pair that plays the paper
#   pair's part (its role is stated: the negative control, or the pre-training confound). Pair effects
#   are judged by the confirmatory degradation endpoint (`docs/methods.md` section 1).
#
# The definitions and the decision rules are `vlmrobust.analyses.claims` (the paper's side) and `vlmrobust.analyses.ledger` (this run's).

# %% tags=["parameters"]
params_file = "params/demo.yaml"  # the run: make injects its own params file here
overrides = {}  # e.g. {"benchmark": {"n": 20}}: merged into the file, then validated

# %%
import pandas as pd
from IPython.display import Markdown, display

import vlmrobust as vr

P = vr.params.load(params_file, overrides)
RUN = P["run"]
C = vr.analyses.ledger
tables = C.load_tables(RUN)
print(f"run tables read: {', '.join(sorted(tables))}")

# %%
ledger = C.ledger(tables, P)
vr.artifacts.write_table(ledger, RUN, "claims", index=False)
counts = pd.crosstab(ledger["paper_status"], ledger["run_status"], margins=True)
display(Markdown(C.summary(ledger)))
counts

# %% [markdown]
# ## The ledger

# %%
with pd.option_context("display.max_colwidth", None):
    display(ledger[["id", "claim", "paper_status", "run_status"]])

# %% [markdown]
# ## The evidence, claim by claim

# %%
display(Markdown(C.evidence_markdown(ledger)))

# %%
fig = vr.plots.claim_matrix(ledger, title=f"The paper's claims: verdict from its printed tables and from run "
                                          f"'{RUN}'")
vr.plots.save(fig, RUN, "claims_ledger")

# %%
vr.provenance.colophon()
