"""One module per analysis notebook: scores in, tidy frames out (the notebooks show and narrate).

- ``section``    what an analysis declares for the run report (a leaf; the report imports it)
- ``outcomes``   item-level outcomes of a pair lined up for paired statistics (shared)
- ``degradation`` the confirmatory endpoint: accuracy lost to corruption, base minus aligned, per item
                 (notebooks 00 and 07)
- ``ce_tables``  notebook 03: clean accuracy, CE / mCE / Rel. mCE (both forms) with intervals,
                 Tables 2-5, 7, 9-11 of the paper for this run
- ``severity``   notebook 04: Table 6, Figures 5 and 7, the reversal scan, its power
- ``confound``   notebook 05: format compliance, the verbosity A/B, denominator sensitivity,
                 format-controlled Rel. mCE
- ``probit``     notebook 06: probit lines, effective robustness, the pair contrast
- ``structure``  notebook 08: RAS, behaviour quadrants, destructive/corrective, discriminative subset
- ``ethics``     notebook 07: intervals, paired tests and their families, power and noise band,
                 mixed model beside GEE, subgroups, Table 2's granularity
- ``text_perturbation``  notebook 10: misleading text in the prompt, alone and with corruption
- ``claims``     notebook 12: every claim of the paper with its verdict from the printed tables
- ``ledger``     notebook 12: the claim ledger, the run's verdict beside the paper's
- ``safety``     notebook 11: refusal under corruption: RR, ORR, selectivity, SCE / OCE, the pair's dSCE
"""

from . import ce_tables, claims, confound, degradation, ethics, ledger, safety, outcomes, probit, severity, structure, text_perturbation

__all__ = ["ce_tables", "claims", "confound", "degradation", "ethics", "ledger", "safety", "outcomes", "probit", "severity", "structure", "text_perturbation"]
