"""The statistics every analysis shares, on scipy and statsmodels wherever they have it.

- ``tests``     Wilson intervals, exact McNemar, sign-flip permutation, paired differences,
                multiplicity adjustment (Holm, BH; never a silent default), the intersection-union
                test, Cochran's Q
- ``resample``  the paired item bootstrap (vectorised) and equivalence by two one-sided tests
- ``power``     sample size, minimum detectable effects, exact McNemar power, the simulated power of
                the severity-reversal tests
- ``models``    GEE logistic interaction model and the Bayesian mixed logistic model (VB)
"""

from .models import gee_interaction, mixed_vb, separated_cells
from .power import (connor_mde, connor_n, independent_mde, independent_power, mcnemar_power_exact, mde_table,
                    min_significant_delta, n_for_power, power_reversal, reversal_pvalues)
from .resample import (bootstrap_mean, equivalent, item_bootstrap, percentile_interval, resample_indices,
                       tost_bootstrap)
from .tests import adjust, cochran_q, iut, mcnemar_exact, paired_counts, paired_diff_ci, sign_flip, wilson

__all__ = ["gee_interaction", "mixed_vb", "separated_cells", "connor_mde", "connor_n", "independent_mde",
           "independent_power", "mcnemar_power_exact", "mde_table", "min_significant_delta", "n_for_power",
           "power_reversal", "reversal_pvalues", "bootstrap_mean", "equivalent", "item_bootstrap", "percentile_interval", "resample_indices", "tost_bootstrap", "adjust", "cochran_q", "iut",
           "mcnemar_exact", "paired_counts", "paired_diff_ci", "sign_flip", "wilson"]
