"""Figures: the paper's figures and the ones that make a result obvious.

Functions take tidy data and return a matplotlib ``Figure``; ``save`` writes PNG and PDF
under ``outputs/<run>/figures/``. Notebooks only call them.

- ``core``      notebooks 00-03 and 09: Figures 1-4 and 6, the corruption grid, the zoo's curves
- ``severity``  notebook 04: Figures 5 and 7 (accuracy against severity), the reversal forest, power
- ``probit``    notebook 06: clean vs corrupted accuracy on probit axes
- ``ethics``    notebook 07: subgroup effects and minimum detectable effects
- ``structure`` notebook 08: RAS quadrants, destructive/corrective heat maps, discriminative power
- ``claims``    notebook 12: the claim ledger's verdicts at a glance
- ``endpoint``  notebooks 00 and 07: the degradation endpoint per pair and dataset (a forest)
- ``confound``  notebooks 05 and 10: format compliance, the verbosity A/B, CE against base accuracy,
                the image x misleading-text interaction
"""

from .core import (accuracy_by_condition, accuracy_lost_by_seed, accuracy_lost_by_severity, control_intervals, corruption_grid, loss_curves, paired_bars, radar_pairs, rel_bars, save,
                   severity_strip)
from .confound import ce_vs_base_accuracy, compliance_bars, text_interaction, verbosity_ab
from .claims import claim_matrix
from .endpoint import endpoint_forest
from .ethics import mde_curves, subgroup_effects
from .probit import probit_grid, probit_paper
from .structure import destructive_corrective, kappa_hist, ras_quadrants
from .severity import figure5, figure7, power_curves, reversal_forest
from .safety import dsce_forest, refusal_by_severity, rr_orr_paths

__all__ = ["dsce_forest", "refusal_by_severity", "rr_orr_paths", "claim_matrix", "endpoint_forest", "accuracy_by_condition", "accuracy_lost_by_seed", "accuracy_lost_by_severity", "control_intervals", "corruption_grid", "loss_curves", "paired_bars", "radar_pairs", "rel_bars",
           "save", "severity_strip", "mde_curves", "subgroup_effects", "figure5", "figure7", "power_curves",
           "reversal_forest", "probit_grid", "probit_paper",
           "destructive_corrective", "kappa_hist", "ras_quadrants", "ce_vs_base_accuracy", "compliance_bars",
           "text_interaction", "verbosity_ab"]
