"""What the run report shows, in the paper's order: sections that name their tables and figures.

A section lists the run's tables and figures (by the names the notebooks save them under)
and the paper's counterparts (its table numbers, and the figures notebook 09 redraws from its
published numbers). Analyses register their own sections: every module of
``vlmrobust.analyses`` may define ``REPORT = [Section(...), ...]``, and the report collects
them, so a new analysis appears without editing a template.
"""

from __future__ import annotations

import importlib
import pkgutil
from ..analyses.section import Section


CORE = [
    Section(1.0, "Figure 1: an image under Gaussian noise, and all 19 corruptions", "01_corruptions",
            "The run's Figure 1 and the corruption grid (severities 3 and 5).",
            figures=("figure1_gaussian_noise", "corruptions_all19_sev3_sev5")),
    Section(0.5, "The demo zoo: its controls and goals", "00_demo_zoo",
            "Only in runs with the demo zoo: the controls judged by the degradation endpoint (accuracy lost "
            "to corruption by the base minus by the aligned model, per held-out item), its goals, its training.",
            tables=("zoo_endpoint", "zoo_goals", "zoo_training", "zoo_vision_probe", "zoo_accuracy"),
            figures=("zoo_endpoint", "zoo_controls", "zoo_loss_curves", "zoo_accuracy_under_corruption",
                     "zoo_clean_accuracy_by_prompt")),
    Section(90.0, "Audit of the paper's published numbers", "09_paper_audit",
            "Every derived number of the paper recomputed from its primary ones, with printed-precision "
            "intervals: the findings.", tables=("paper_audit_summary", "paper_audit")),
]


def all_sections() -> list[Section]:
    """The core sections and every analysis module's ``REPORT``, sorted into the paper's order."""
    from .. import analyses

    found = list(CORE)
    for info in pkgutil.iter_modules(analyses.__path__):
        mod = importlib.import_module(f"{analyses.__name__}.{info.name}")
        found.extend(getattr(mod, "REPORT", []))
    return sorted(found, key=lambda s: s.order)
