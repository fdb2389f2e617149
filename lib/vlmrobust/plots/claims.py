"""The claim ledger at a glance: one row per claim, the verdict from the paper's tables and from the run."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

COLOURS = {"supported": "#4c9a5f", "contradicted": "#c0504d", "not decidable": "#e3b448",
           "not testable here": "#bdbdbd"}


def claim_matrix(ledger, title: str):
    """Two columns of coloured cells (the paper's tables, this run) per claim, with the claim's id and words."""
    from ..analyses.claims import STATUSES

    code = {s: i for i, s in enumerate(STATUSES)}
    grid = np.array([[code[p], code[r]] for p, r in zip(ledger["paper_status"], ledger["run_status"])])
    fig, ax = plt.subplots(figsize=(11, 0.34 * len(ledger) + 1.6))
    ax.imshow(grid, cmap=ListedColormap([COLOURS[s] for s in STATUSES]), vmin=-0.5, vmax=len(STATUSES) - 0.5,
              aspect="auto")
    for i in range(len(ledger)):
        for j, col in enumerate(("paper_status", "run_status")):
            ax.text(j, i, ledger[col].iloc[i], ha="center", va="center", fontsize=7)
    labels = [f"{cid}: {claim[:70] + ('...' if len(claim) > 70 else '')}" for cid, claim in
              zip(ledger["id"], ledger["claim"])]
    ax.set_yticks(range(len(ledger)), labels, fontsize=7)
    ax.set_xticks([0, 1], ["the paper's printed tables", "this run"], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
