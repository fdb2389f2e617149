"""What an analysis declares for the run report: one section (a leaf module). Analyses declare their
sections (``REPORT = [Section(...)]``) here, and the report collects them: the report depends on the
analyses, never the other way round."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    order: float  # position in the paper's order (tables and figures by number; appendix and extras after)
    title: str
    notebook: str  # the notebook that makes it, e.g. "03_scoring"
    text: str = ""
    tables: tuple[str, ...] = ()  # run tables (outputs/<run>/tables/<name>.csv)
    figures: tuple[str, ...] = ()  # run figures (outputs/<run>/figures/<name>.png)
    paper_tables: tuple[int, ...] = ()  # the paper's tables as printed (vlmrobust.paper.raw_table)
    paper_figures: tuple[str, ...] = field(default=())  # redrawn from the published numbers (notebook 09)
