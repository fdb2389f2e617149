"""The README's two commands as a newcomer runs them: a fresh clone, then `make reproduce` from nothing
(environment included), `make reproduce` again (nothing changed), `make test`, and Binder's
`postBuild` in a second fresh clone. Writes ``results/demo/timings.json``, which the README and the
docs quote (``vlmrobust.findings``). Goals: from nothing <= 15 minutes on a 2-core CPU (<= 20 on the
slower machines of the kind); the cached re-run seconds.

    python benchmarks/from_nothing.py [--skip-test] [--skip-postbuild]
    python benchmarks/from_nothing.py --test-only

Run it alone on the machine: every step is wall-clock time. It takes about half an hour.
``--test-only`` times `make test` alone in a fresh clone (its environment built first, untimed) and
adds it to the existing ``timings.json``: the test suite checks that the README quotes that file,
so a release measures the reproduce steps, regenerates the quotes, commits, then times the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from vlmrobust.provenance import describe_cpu  # noqa: E402

STEP = re.compile(r"^\s+(\d\d_\w+)\s+(ok|cached|skipped)\s+([\d.]+) s", re.M)


def timed(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd} ({r.returncode}):\n{(r.stdout + r.stderr)[-4000:]}")
    return seconds, r.stdout + r.stderr


def clone(into: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(into)], check=True)
    return into


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skip-test", action="store_true")
    ap.add_argument("--skip-postbuild", action="store_true")
    ap.add_argument("--test-only", action="store_true", help="time make test alone; merge into timings.json")
    a = ap.parse_args()
    env = {"VLMROBUST_PROGRESS": "lines"}
    for k in ("PYTHONPATH", "VIRTUAL_ENV", "VLMROBUST_OUTPUTS"):
        os.environ.pop(k, None)
    out = {"machine": describe_cpu(), "date": date.today().isoformat(),
           "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                    text=True).stdout.strip()}
    path = ROOT / "results" / "demo" / "timings.json"
    if a.test_only:
        with tempfile.TemporaryDirectory() as tmp:
            repo = clone(Path(tmp) / "clone")
            timed(["make", "setup"], repo, env)
            test, log = timed(["make", "test"], repo, env)
        passed = re.search(r"(\d+) passed", log)
        merged = json.loads(path.read_text())
        merged["make_test"] = {"seconds": round(test, 1), "passed": int(passed.group(1)) if passed else None,
                               "note": "environment already built (make setup); commit " + out["commit"],
                               "machine": out["machine"], "date": out["date"]}
        path.write_text(json.dumps(merged, indent=1) + "\n")
        print(json.dumps(merged["make_test"], indent=1), f"\n-> {path}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        repo = clone(Path(tmp) / "clone")
        setup, _ = timed(["make", "setup"], repo, env)
        seconds, log = timed(["make", "reproduce"], repo, env)
        stages = {"environment (make setup)": round(setup, 1)}
        stages.update({name: float(s) for name, _, s in STEP.findall(log)})
        verdict = json.loads((repo / "outputs" / "demo" / "verify.json").read_text())["verdict"]
        out["reproduce_from_nothing"] = {"seconds": round(setup + seconds, 1), "stages": stages, "verify": verdict}
        again, _ = timed(["make", "reproduce"], repo, env)
        out["reproduce_cached"] = {"seconds": round(again, 1)}
        if not a.skip_test:
            test, log = timed(["make", "test"], repo, env)
            passed = re.search(r"(\d+) passed", log)
            out["make_test"] = {"seconds": round(test, 1), "passed": int(passed.group(1)) if passed else None,
                                "note": "environment already built by the reproduce above"}
        if not a.skip_postbuild:  # Binder: a second fresh clone, its environment, then postBuild alone
            repo2 = clone(Path(tmp) / "binder")
            timed(["make", "setup"], repo2, env)
            venv_bin = str(repo2 / ".venv" / "bin")
            pb, _ = timed(["bash", "postBuild"], repo2, {**env, "PATH": venv_bin + os.pathsep + os.environ["PATH"]})
            out["postbuild"] = {"seconds": round(pb, 1)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
