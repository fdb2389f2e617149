"""One module per analysis notebook: scores in, tidy frames out (the notebooks show and narrate).

- ``ce_tables``  notebook 03: clean accuracy, CE / mCE / Rel. mCE (both forms) with intervals,
                 Tables 2-5, 7, 9-11 of the paper for this run
"""

from . import ce_tables

__all__ = ["ce_tables"]
