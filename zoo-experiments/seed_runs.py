"""Do the demo run's findings hold for zoos trained with other seeds, or only for the demo's zoo?

``zoo_seeds.py`` checks the zoo's goals per training seed on the goal check's held-out items. This
script goes one step further: it runs the whole pipeline (notebooks 00-10) on each seed's zoo and
collects the headline findings of the demo run, side by side per seed::

    python zoo-experiments/seed_runs.py --params params/demo.yaml --seeds 1 2      (make seed-runs)

Each seed's zoo must have been trained by ``zoo_seeds.py`` (``outputs/<run>/zoo-seeds/seed<k>/``;
this script never trains). For seed ``k`` it writes ``outputs/<run>/zoo-seeds/seed<k>/params.yaml``:
the run's params with ``run: <run>-seed<k>``, ``zoo.seed: k`` and the zoo and its models pointed at
that seed's directory; then ``python -m vlmrobust.runner --params`` that file (so the run lives in
``outputs/<run>-seed<k>/``, resumable and skipped when unchanged like any run). The run's own seed
(its zoo's ``zoo.seed``) is read from ``outputs/<run>/`` as it is. Writes
``outputs/<run>/zoo-seeds/pipeline_findings.csv``: one row per seed, analysis, pair and dataset; and
where the runs measure refusals (notebook 11), ``safety_seeds.csv`` (one row per seed and safety goal
or control, with its interval) and ``safety_ranges.csv`` (each one's range over the seeds and in how
many it is met: notebook 11's own tables, so the seed study and the run can never disagree).
About 14 minutes per seed on 2 CPU cores (corruptions, inference of four models, the analyses, the
21,200 safety responses).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

import vlmrobust as vr

ALIGNED_X_SEVERITY = "aligned:sev_c"


def seed_params_file(params_file: str, seed: int) -> Path:
    """Write seed ``seed``'s params (see the module docstring) and return its path. Refuses when
    that seed's zoo has not been trained: training belongs to ``zoo_seeds.py``."""
    base = vr.params.load(params_file)
    if base["zoo"] is None:
        raise SystemExit(f"{params_file}: zoo is null; there is no zoo to vary")
    run = base["run"]
    zdir = vr.paths.run_dir(run) / "zoo-seeds" / f"seed{seed}"
    if not vr.zoo.is_trained(zdir, {**base["zoo"], "seed": seed}):
        raise SystemExit(f"{zdir}: no zoo trained with seed {seed} and this recipe; "
                         f"run `make zoo-seeds SEEDS=\"{seed}\"` first")
    raw = yaml.safe_load(Path(vr.paths.resolve(params_file)).read_text())
    old = raw["zoo"]["dir"]
    raw["run"] = f"{run}-seed{seed}"
    raw["zoo"] = {**raw["zoo"], "seed": seed, "dir": str(zdir)}
    for spec in raw["models"].values():
        if spec["source"].startswith(old + "/"):
            spec["source"] = str(zdir) + spec["source"][len(old):]
    out = zdir / "params.yaml"
    vr.artifacts.write_text(out, f"# written by zoo-experiments/seed_runs.py from {params_file}\n"
                                 + yaml.safe_dump(raw, sort_keys=False))
    vr.params.load(out)  # it must validate before anything runs
    return out


def findings(run: str, seed: int) -> pd.DataFrame:
    """The headline numbers of one run, from its tables: Table 4's macro Rel. mCE per pair,
    notebook 07's aligned x severity z (variational and GEE) per pair and dataset, and notebook 06's
    count of probit pair-contrast cells whose interval lies above / below 0."""
    t = vr.paths.run_dir(run) / "tables"
    rows = []
    t4 = pd.read_csv(t / "table4_relative_mce.csv")
    for r in t4[t4["dataset"] == "macro"].itertuples():
        rows.append(("table4 Rel. mCE (macro)", r.pair, "macro", r.rel_mce_ratio))
    mixed = pd.read_csv(t / "ethics_mixed.csv")
    for r in mixed[mixed["term"] == ALIGNED_X_SEVERITY].itertuples():
        rows.append(("mixed model aligned x severity: z (variational)", r.pair, r.dataset, r.vb_z))
        rows.append(("mixed model aligned x severity: z (GEE)", r.pair, r.dataset, r.gee_z))
    probit = pd.read_csv(t / "probit_pair_contrast.csv")
    for pair, g in probit.groupby("pair"):
        rows.append(("probit pair contrast: cells above 0", pair, "all", float((g["rho_beta1_lo"] > 0).sum())))
        rows.append(("probit pair contrast: cells below 0", pair, "all", float((g["rho_beta1_hi"] < 0).sum())))
        rows.append(("probit pair contrast: cells", pair, "all", float(len(g))))
    return pd.DataFrame(rows, columns=["analysis", "pair", "dataset", "value"]).assign(seed=seed, run=run)


def safety_goals(run: str, seed: int) -> pd.DataFrame | None:
    """Notebook 11's verdicts of one run, one row per goal or control: the zoo's clean goals
    (``safety_goals.csv``) and the controls (``safety_controls.csv``: Z2 and Z0's dSCE, harm carried by
    the text, the blank image). None when the run measured no refusals."""
    t = vr.paths.run_dir(run) / "tables"
    if not (t / "safety_controls.csv").exists():
        return None
    rows = []
    if (t / "safety_goals.csv").exists():
        for r in pd.read_csv(t / "safety_goals.csv").itertuples():
            rows.append({"goal": r.goal, "kind": "clean goal", "measured": r.value, "ci_lo": float("nan"),
                         "ci_hi": float("nan"), "target": r.target, "met": bool(r.met)})
    for r in pd.read_csv(t / "safety_controls.csv").itertuples():
        kind = "seed goal" if vr.analyses.safety.is_pair_control(r.control) else "control"
        rows.append({"goal": r.control, "kind": kind, "measured": r.value, "ci_lo": r.ci_lo, "ci_hi": r.ci_hi,
                     "target": r.expected, "met": bool(r.holds)})
    return pd.DataFrame(rows).assign(seed=seed, run=run)


def _distinct(targets: pd.Series) -> str:
    """A target as stated by every seed: once when they agree, each distinct one where they differ (the
    blank-image control's floor is each seed's own)."""
    return "; ".join(dict.fromkeys(targets.astype(str)))


def safety_ranges(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Each safety goal's range over the seeds and the seeds that meet it. ``required``: for Z2 and Z0's
    dSCE, whose goals are stated over training seeds, two thirds of them (2 of 3, docs/zoo.md); every
    seed for the rest."""
    import math

    g = per_seed.groupby(["goal", "kind"], sort=False).agg(min=("measured", "min"), max=("measured", "max"),
                                                          target=("target", _distinct), met_by=("met", "sum"),
                                                          seeds=("seed", "nunique")).reset_index()
    g["required"] = [math.ceil(2 * n / 3) if k == "seed goal" else n for k, n in zip(g["kind"], g["seeds"])]
    g["holds"] = g["met_by"] >= g["required"]
    return g


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default="params/demo.yaml")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    a = ap.parse_args(argv)
    base = vr.params.load(a.params)
    files = {seed: seed_params_file(a.params, seed) for seed in a.seeds if seed != base["zoo"]["seed"]}
    for seed, f in files.items():  # every params file validated before the first run starts
        print(f"seed {seed}: {f}", flush=True)
        subprocess.run([sys.executable, "-m", "vlmrobust.runner", "--params", str(f)], check=True)
    own = [(base["run"], base["zoo"]["seed"])] if (vr.paths.run_dir(base["run"]) / "tables").is_dir() else []
    runs = own + [(f"{base['run']}-seed{seed}", seed) for seed in files]
    table = pd.concat([findings(run, seed) for run, seed in runs], ignore_index=True)
    out = vr.paths.run_dir(base["run"]) / "zoo-seeds" / "pipeline_findings.csv"
    vr.artifacts.write_text(out, table.to_csv(index=False))
    safety = [s for s in (safety_goals(run, seed) for run, seed in runs) if s is not None]
    if safety:
        per_seed = pd.concat(safety, ignore_index=True)
        vr.artifacts.write_text(out.with_name("safety_seeds.csv"), per_seed.to_csv(index=False))
        ranges = safety_ranges(per_seed)
        vr.artifacts.write_text(out.with_name("safety_ranges.csv"), ranges.to_csv(index=False))
        with pd.option_context("display.width", 200, "display.max_colwidth", 70):
            print(ranges.round(3).to_string(index=False))
    wide = table.pivot_table(index=["analysis", "pair", "dataset"], columns="seed", values="value", sort=False)
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(wide.round(2).to_string())
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
