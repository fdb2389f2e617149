"""Run the numbered notebooks headlessly through papermill, in order, for one params file.

``make reproduce`` (and every per-notebook target) calls::

    python -m vlmrobust.runner --params params/demo.yaml [--only 01_corruptions ...]

which is equivalent to running, for each notebook in numeric order::

    papermill notebooks/NN_x.ipynb outputs/<run>/notebooks/NN_x.ipynb \
        -p params_file params/demo.yaml -k python3

Only ``params_file`` is injected: the notebook loads, fills and validates the file
itself (``vr.params.load(params_file, overrides)``). The params file is validated
first (a bad key fails in about a second, before any kernel starts), and so are each
notebook's inputs (``artifacts.NEEDS``): a stage run out of order says which stage to
run first. The first failing cell stops the run; its traceback is printed and the
partially executed notebook is kept in ``outputs/<run>/notebooks/`` for inspection.
``outputs/<run>/provenance.json`` keeps the last execution of every notebook (updated
as each one finishes), with the tables each one wrote: a table a notebook stops writing is
removed at its next execution, and never published or compared. Long steps draw progress bars in the terminal (``progress``),
each notebook's status and time is printed as it finishes, and a summary of what was
produced closes the run.

A full run skips the notebooks that have not changed since their last successful execution
(``fingerprint``: notebook sources, library, params, package versions), so a re-run after
changing nothing only rebuilds the report; ``--force`` (``make reproduce FORCE=1``) executes
every notebook. ``--only`` always executes what it names.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import artifacts, fingerprint, paths, progress, provenance
from . import params as params_mod

KERNEL = "python3"


def notebooks(only: list[str] | None = None) -> list[Path]:
    """The numbered notebooks in order; ``only`` selects by name or number prefix."""
    found = sorted(paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    if not only:
        return found
    picked = []
    for sel in only:
        match = [nb for nb in found if nb.stem == sel or nb.stem.startswith(sel + "_") or nb.stem[:2] == sel]
        if not match:
            names = ", ".join(nb.stem for nb in found)
            raise SystemExit(f"no notebook matches {sel!r}; notebooks: {names}")
        picked.extend(m for m in match if m not in picked)
    return sorted(picked)


def execute(nb: Path, out: Path, params_file: str, log_output: bool = False, timeout: int | None = None) -> None:
    """One notebook through papermill (raises ``PapermillExecutionError`` on a failing cell)."""
    import papermill as pm

    out.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(nb), str(out), parameters={"params_file": params_file},
                        kernel_name=KERNEL, cwd=str(paths.ROOT), log_output=log_output,
                        progress_bar=False, execution_timeout=timeout)


def summarise(run: str, timings: list[dict]) -> str:
    rd = paths.run_dir(run)
    lines = [f"\nRun '{run}' -> {rd}"]
    for t in timings:
        lines.append(f"  {t['notebook']:<28} {t['status']:<7} {t['seconds']:7.1f} s")
    groups = {"tables": ("tables", "*"), "figures": ("figures", "*.png"), "notebooks": ("notebooks", "*.ipynb")}
    for label, (sub, pat) in groups.items():
        files = sorted((rd / sub).glob(pat)) if (rd / sub).exists() else []
        if files:
            names = ", ".join(f.name for f in files[:8]) + (" ..." if len(files) > 8 else "")
            lines.append(f"  {label:<9} {len(files):3d} in {rd / sub}: {names}")
    other = sorted(f for f in rd.glob("*") if f.is_file())
    other += sorted(d for d in rd.glob("*") if d.is_dir() and d.name not in groups)
    if other:
        lines.append("  other     " + ", ".join(f.name + ("/" if f.is_dir() else "") for f in other))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vlmrobust.runner", description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default="params/demo.yaml", help="params file (default params/demo.yaml)")
    ap.add_argument("--only", nargs="*", help="notebooks to run (names or number prefixes)")
    ap.add_argument("--log-output", action="store_true", help="stream cell output to the terminal")
    ap.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds")
    ap.add_argument("--force", action="store_true",
                    help="execute every notebook, also those unchanged since their last successful run")
    a = ap.parse_args(argv)

    try:
        p = params_mod.load(a.params)
    except params_mod.ParamsError as e:
        print(f"params error: {e}", file=sys.stderr)
        return 2
    run = p["run"]
    todo = notebooks(a.only)
    if a.only:  # a single stage: are its inputs there? (a full run makes them in order)
        first = [nb for nb in todo if not (nb.stem.startswith("00_") and p["zoo"] is None)][:1]
        missing = [m for nb in first for m in artifacts.missing_inputs(run, nb.stem, p["zoo"] is not None)]
        if missing:
            print(f"{first[0].stem} cannot run yet:\n  " + "\n  ".join(missing), file=sys.stderr)
            return 2
    saved_mode = os.environ.get(progress.ENV)
    progress.configure_for(sys.stderr)
    try:
        return _run_all(run, p, a, todo)
    finally:  # the kernels are done with it; do not leak the mode into the caller's process
        if saved_mode is None:
            os.environ.pop(progress.ENV, None)


def _run_all(run: str, p: dict, a, todo: list[Path]) -> int:
    out_dir = paths.run_dir(run) / "notebooks"
    from papermill.exceptions import PapermillExecutionError

    status, timings = 0, []
    fingerprints = fingerprint.notebook_fingerprints(notebooks(), p)  # all notebooks: --only records the same
    last = provenance.last_executions(run)
    may_skip = not a.only and not a.force  # only a full run skips, and only an unchanged prefix
    for k, nb in enumerate(todo, 1):
        t0, started = time.monotonic(), provenance.now()
        if nb.stem.startswith("00_") and p["zoo"] is None:
            print(f"[{run}] {nb.stem} skipped: params name no demo zoo (zoo: null)", flush=True)
            timings.append({"notebook": nb.stem, "status": "skipped", "seconds": 0.0})
            continue
        before = last.get(nb.stem, {})
        may_skip = may_skip and before.get("status") == "ok" and (out_dir / nb.name).exists() \
            and before.get("fingerprint") == fingerprints[nb.stem]
        if may_skip:
            print(f"[{run}] ({k}/{len(todo)}) {nb.stem} unchanged since {before.get('started')}: not re-run "
                  "(FORCE=1 re-runs it)", flush=True)
            timings.append({"notebook": nb.stem, "status": "cached", "seconds": 0.0})
            continue
        print(f"[{run}] ({k}/{len(todo)}) {nb.stem} ...", flush=True)
        wall0 = time.time()
        try:
            execute(nb, out_dir / nb.name, a.params, a.log_output, a.timeout)
            state = "ok"
        except PapermillExecutionError as e:
            state = "FAILED"
            print(f"\n{nb.name} failed at cell {e.exec_count}: {e.ename}: {e.evalue}\n", file=sys.stderr)
            print("".join(e.traceback) if isinstance(e.traceback, list) else e.traceback, file=sys.stderr)
            print(f"\nThe partially executed notebook is {out_dir / nb.name}", file=sys.stderr)
        entry = {"notebook": nb.stem, "status": state, "started": started,
                 "seconds": round(time.monotonic() - t0, 1), "fingerprint": fingerprints[nb.stem]}
        if state == "ok":  # each table's owner; what the notebook wrote last time and no longer writes goes
            entry["tables"] = artifacts.tables_written_since(run, wall0)
            stale = artifacts.remove_tables(run, set(before.get("tables", [])) - set(entry["tables"]))
            if stale:
                print(f"[{run}] {nb.stem} no longer writes {', '.join(stale)}: removed from tables/", flush=True)
        timings.append(entry)
        provenance.record(run, p, a.params, entry)
        print(f"[{run}] ({k}/{len(todo)}) {nb.stem} {state} in {entry['seconds']:.0f} s", flush=True)
        if state != "ok":
            status = 1
            break
    if status == 0 and not a.only:  # a full run ends with its check against the published run, then its report
        from . import report, verify

        if verify.expected_dir(run).is_dir():
            print(verify.summary(verify.verify(run)), flush=True)
        print(f"[{run}] report: {report.build(run, p)}", flush=True)
    print(summarise(run, timings))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
