"""Keep every notebook's ``parameters`` cell equal to ``params/demo.yaml``.

The notebooks' source of truth is their py:percent script (jupytext pairs it with
the ``.ipynb``). ``python -m vlmrobust.notebook_cells`` rewrites the body of the
cell tagged ``parameters`` in each script from the demo params; ``make sync``
runs it and then ``jupytext --sync``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from . import paths
from .params import parameters_cell

HEADER = '# %% tags=["parameters"]'


def rewrite(script: Path, params_file: str = "params/demo.yaml") -> bool:
    """Replace the parameters cell's body; return True when the file changed."""
    text = script.read_text()
    start = text.find(HEADER)
    if start < 0:
        raise ValueError(f"{script}: no cell tagged parameters")
    body_start = start + len(HEADER) + 1
    m = re.compile(r"^# %%", re.M).search(text, body_start)
    end = m.start() if m else len(text)
    new = text[:body_start] + parameters_cell(params_file) + "\n\n" + text[end:]
    if new != text:
        script.write_text(new)
        return True
    return False


def main() -> int:
    scripts = sorted(paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py"))
    for s in scripts:
        print(("updated " if rewrite(s) else "ok      ") + str(s.relative_to(paths.ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
