#!/usr/bin/env python3
"""Print the Binder link (and its badge's Markdown) for this clone's GitHub remote.

    python tools/binder_url.py            (make binder-url)

Binder builds a repository from its public URL, so the link is the remote's: ``origin`` by default,
``--remote NAME`` for another. A clone without a GitHub remote gets a message saying so.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

NOTEBOOK = "notebooks/03_scoring.ipynb"  # what the link opens in JupyterLab


def github_path(url: str) -> str | None:
    """``owner/name`` of a GitHub remote URL (https or ssh), or None for another host."""
    m = re.match(r"^(?:https://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com/)"
                 r"([^/]+)/([^/]+?)(?:\.git)?/?$", url.strip())
    return f"{m.group(1)}/{m.group(2)}" if m else None


def binder_url(path: str, ref: str = "HEAD", notebook: str = NOTEBOOK) -> str:
    return f"https://mybinder.org/v2/gh/{path}/{ref}?urlpath=lab/tree/{notebook}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--remote", default="origin")
    ap.add_argument("--ref", default="HEAD", help="branch, tag or commit Binder builds (default HEAD)")
    a = ap.parse_args(argv)
    r = subprocess.run(["git", "remote", "get-url", a.remote], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"binder-url: this clone has no git remote '{a.remote}'; Binder builds a public GitHub "
              f"repository, so push the compendium to GitHub and add it as '{a.remote}' "
              f"(git remote add {a.remote} https://github.com/<owner>/<name>)", file=sys.stderr)
        return 2
    path = github_path(r.stdout)
    if path is None:
        print(f"binder-url: remote '{a.remote}' is {r.stdout.strip()}, not a GitHub repository; Binder's "
              "gh/ provider needs one", file=sys.stderr)
        return 2
    url = binder_url(path, a.ref)
    print(url)
    print(f"[![Binder](https://mybinder.org/badge_logo.svg)]({url})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
