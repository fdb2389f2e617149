"""What "the same numbers" means across CPU kinds: the demo on the shipped zoo with torch's kernels for
another vector width, compared with the published run (``make verify``'s rules).

torch picks its CPU kernels by the processor's vector width (AVX2 on many AMD EPYC, AVX-512 on Intel
Xeon and recent EPYC), and so do the libraries it calls for matrix products (oneDNN, MKL);
``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA`` and ``MKL_ENABLE_INSTRUCTIONS`` make a CPU use a narrower
kind in all three, so one machine can run both. Runs every notebook into a temporary outputs folder and writes
``results/demo/cpu-kinds.json`` (quoted by docs/performance.md): how many predictions of how many
differ, per model, and which tables move.

    python benchmarks/cpu_kinds.py [--capability avx2]

About ten minutes on a 2-core CPU; run it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--capability", default="avx2", help="ATEN_CPU_CAPABILITY of the run (default avx2)")
    a = ap.parse_args()
    import torch

    from vlmrobust import verify
    from vlmrobust.provenance import describe_cpu
    from vlmrobust.zoo.config import recipe_hash

    published = torch.backends.cpu.get_cpu_capability()
    with tempfile.TemporaryDirectory() as tmp:
        isa = {"ATEN_CPU_CAPABILITY": a.capability, "ONEDNN_MAX_CPU_ISA": a.capability.upper(),
               "MKL_ENABLE_INSTRUCTIONS": a.capability.upper()}
        env = {**os.environ, "VLMROBUST_OUTPUTS": tmp, "VLMROBUST_PROGRESS": "lines", **isa}
        probe = subprocess.run([sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"],
                               env=env, capture_output=True, text=True, check=True).stdout.strip()
        r = subprocess.run([sys.executable, "-m", "vlmrobust.runner", "--params", "params/demo.yaml"], cwd=ROOT,
                           env=env, capture_output=True, text=True)
        if r.returncode not in (0,):
            raise SystemExit(f"the run failed:\n{(r.stdout + r.stderr)[-3000:]}")
        os.environ["VLMROBUST_OUTPUTS"] = tmp
        result = verify.verify("demo")
    preds = result["predictions"]
    out = {"machine": describe_cpu(), "zoo": recipe_hash(), "published": published,
           "other": probe, "environment": isa,
           "compared": preds["compared"], "differ": preds["differ"], "differ_by_model": preds["differ_by_model"],
           "examples": preds["examples"], "tables_compared": result["tables_compared"],
           "tables_differ": [t["table"] for t in result["tables"] if t["status"] == "differs"],
           "table_details": {t["table"]: t["detail"] for t in result["tables"] if t["status"] == "differs"}}
    path = ROOT / "results" / "demo" / "cpu-kinds.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
