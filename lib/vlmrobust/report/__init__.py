"""The run report: ``outputs/<run>/report/index.html``, the paper regenerated beside its published numbers.

- ``sections``  what the report shows, in the paper's order (analyses declare their own sections:
                ``analyses.section.Section``)
- ``html``      the page's pieces: tables, embedded figures, one stylesheet, no CDN
- ``build``     assembles the page and exports the executed notebooks to HTML

``python -m vlmrobust.report --params params/demo.yaml`` (``make report``) builds it; the
runner builds it at the end of every full run.
"""

from .build import build, export_notebooks
from ..analyses.section import Section
from .sections import all_sections

__all__ = ["build", "export_notebooks", "Section", "all_sections"]
