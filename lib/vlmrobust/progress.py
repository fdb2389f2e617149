"""Progress bars that reach the terminal of ``make reproduce``, and stay in the notebook otherwise.

A notebook run by papermill has no terminal: its output goes into the executed notebook, so a
user watching ``make reproduce`` saw nothing for the 14 minutes of zoo training. The runner
sets ``VLMROBUST_PROGRESS`` before it starts the kernels, which inherit the runner's own
standard error (``sys.__stderr__`` inside the kernel), and the library's long loops draw their
bars there:

- ``tty``: a live bar (the runner's standard error is an interactive terminal);
- ``lines``: one plain line every ``VLMROBUST_PROGRESS_INTERVAL`` seconds (default 20) and one at
  the end, for CI logs and redirected output (no carriage-return storms);
- unset (JupyterLab, tests calling the library): tqdm's default, in the notebook.
"""

from __future__ import annotations

import os
import sys

ENV = "VLMROBUST_PROGRESS"
INTERVAL_ENV = "VLMROBUST_PROGRESS_INTERVAL"


class _Lines:
    """A file for tqdm: each refresh becomes one line (no carriage returns)."""

    def __init__(self, f):
        self.f = f

    def write(self, s: str) -> None:
        s = s.replace("\r", "").strip()
        if s:
            self.f.write(s + "\n")

    def flush(self) -> None:
        self.f.flush()


def mode() -> str | None:
    return os.environ.get(ENV)


def bar(iterable=None, **kwargs):
    """``tqdm(iterable, **kwargs)`` drawn where the run's user can see it (see the module docstring)."""
    from tqdm import tqdm

    m = mode()
    if m == "tty":
        return tqdm(iterable, file=sys.__stderr__, mininterval=0.5, dynamic_ncols=True, **kwargs)
    if m == "lines":
        # maxinterval: no refresh forced by tqdm's monitor thread, which repeats a stale line per interval
        return tqdm(iterable, file=_Lines(sys.__stderr__), mininterval=float(os.environ.get(INTERVAL_ENV, 20)),
                    maxinterval=1e9, ascii=True, ncols=100, **kwargs)
    from tqdm.auto import tqdm as auto

    return auto(iterable, **kwargs)


def configure_for(stream) -> str:
    """Called by the runner before kernels start: ``tty`` or ``lines`` from its own standard error
    (an explicit ``VLMROBUST_PROGRESS`` in the environment wins)."""
    os.environ.setdefault(ENV, "tty" if getattr(stream, "isatty", lambda: False)() else "lines")
    return os.environ[ENV]
