"""``python -m vlmrobust.report --params params/demo.yaml``: (re)build the run's report."""

import argparse
import sys

from .. import params as params_mod
from . import build

ap = argparse.ArgumentParser(prog="python -m vlmrobust.report")
ap.add_argument("--params", default="params/demo.yaml")
a = ap.parse_args()
try:
    p = params_mod.load(a.params)
except params_mod.ParamsError as e:
    print(f"params error: {e}", file=sys.stderr)
    raise SystemExit(2)
print(f"report: {build(p['run'], p)}")
