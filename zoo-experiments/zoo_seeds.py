"""Are the demo zoo's goals properties of its recipe, or of one lucky training run?

Trains the zoo with several seeds (``zoo.seed``; everything else as in the params file), runs
notebook 00's goal check on each (the same held-out items for every seed: only the training
differs) and reports each goal's range over the seeds, and whether it holds for all of them::

    python zoo-experiments/zoo_seeds.py --params params/demo.yaml --seeds 0 1 2     (make zoo-seeds)

Each seed's zoo is cached under ``outputs/<run>/zoo-seeds/seed<k>/`` by its config hash (the
run's own zoo is reused for the seed it was trained with), so a second call only re-evaluates.
Writes ``outputs/<run>/zoo-seeds/goals.csv`` (one row per seed and goal), ``ranges.csv`` (one
row per goal), ``controls.csv``, ``endpoint.csv`` (the degradation endpoint per seed, pair and task),
``detection.csv`` (the endpoint's detection rate on the positive control, its power, and on the
negative control, its false-positive rate), ``accuracy_lost.csv`` (per model and severity, and the planted
contrast ``po-aug - po``: ``zoo.planted_difference``), its picture ``accuracy_lost.png`` and
``seeds.json`` (weights hashes, probe, seconds per seed),
rewritten after each seed, so an interrupted study keeps the seeds it finished.
Not part of ``make test``: each seed trains for about 20 minutes on 2 CPU cores (seed 0 is the
shipped zoo, installed by notebook 00).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import pandas as pd

import vlmrobust as vr


def seed_params(params_file: str, seed: int) -> tuple[dict, str]:
    """The run's params with the zoo trained from ``seed``: its own directory unless the run's zoo
    already is that seed's (same config hash), and the zoo models re-pointed at it."""
    base = vr.params.load(params_file)
    if base["zoo"] is None:
        raise SystemExit(f"{params_file}: zoo is null; there is no zoo to train with other seeds")
    own = vr.zoo.zoo_dir(base)
    cfg = {**base["zoo"], "seed": seed}
    if vr.zoo.is_trained(own, cfg):
        return vr.params.load(params_file, {"zoo": {"seed": seed}}), str(own)
    p = vr.zoo.retrain.params_with_zoo_at(params_file, f"{{run_dir}}/zoo-seeds/seed{seed}", {"seed": seed})
    return p, str(vr.zoo.zoo_dir(p))


def detection(endpoints: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per control, over the seeds: in how many the degradation endpoint detects an effect (interval
    above 0 on >= 2 tasks). For the positive control that is the demo instrument's power, for the
    negative control its false-positive rate."""
    rows = []
    for seed, ep in endpoints.groupby("seed"):
        for role, v in vr.zoo.control_verdicts(ep).items():
            rows.append({"seed": seed, "control": role, "pair": v["pair"], "tasks_above_0": v["above_0"],
                         "tasks_containing_0": v["contain_0"], "detected": v["detected"],
                         "pooled_above_0": v["pooled_above_0"]})
    per_seed = pd.DataFrame(rows)
    rates = []
    for rule, col in (("interval above 0 on >= 2 of 4 tasks (the goal)", "detected"),
                      ("pooled interval above 0 (descriptive)", "pooled_above_0")):
        r = per_seed.groupby(["control", "pair"]).agg(seeds=("seed", "nunique"), detected_in=(col, "sum"))
        rates.append(r.reset_index().assign(rule=rule))
    rate = pd.concat(rates, ignore_index=True)
    rate["rate"] = rate["detected_in"] / rate["seeds"]
    rate["reads_as"] = ["power (detection rate)" if c == "positive" else "false-positive rate" for c in rate["control"]]
    return per_seed, rate[["rule", "control", "pair", "seeds", "detected_in", "rate", "reads_as"]]


def write(out, goal_rows: list, control_rows: list, lost_rows: list, facts: dict,
          endpoint_rows: list | None = None) -> pd.DataFrame:
    """The study's files for the seeds done so far; returns the ranges table."""
    if endpoint_rows:
        endpoints = pd.concat(endpoint_rows, ignore_index=True)
        vr.artifacts.write_text(out / "endpoint.csv", endpoints.to_csv(index=False))
        per_seed, rate = detection(endpoints)
        vr.artifacts.write_text(out / "detection.csv", rate.to_csv(index=False))
        vr.artifacts.write_text(out / "detection_per_seed.csv", per_seed.to_csv(index=False))
    goals = pd.concat(goal_rows, ignore_index=True)
    ranges = goals[goals["kind"] == "goal"].groupby("goal", sort=False).agg(min=("measured", "min"), max=("measured", "max"),
                                                   target=("target", "first"), met_by=("met", "sum"))
    ranges["seeds"] = len(goal_rows)
    ranges["holds_for_all"] = ranges["met_by"] == len(goal_rows)
    vr.artifacts.write_text(out / "goals.csv", goals.to_csv(index=False))
    vr.artifacts.write_text(out / "ranges.csv", ranges.to_csv())
    vr.artifacts.write_text(out / "controls.csv", pd.concat(control_rows, ignore_index=True).to_csv(index=False))
    lost = pd.concat(lost_rows, ignore_index=True)
    vr.artifacts.write_text(out / "accuracy_lost.csv", lost.to_csv(index=False))
    draw(lost, out)
    vr.artifacts.write_text(out / "seeds.json", json.dumps(facts, indent=1))
    return ranges


def draw(lost: pd.DataFrame, out) -> None:
    """``accuracy_lost.png``: what each model loses and the planted contrast, one column per seed."""
    import matplotlib.pyplot as plt

    fig = vr.plots.accuracy_lost_by_seed(lost, title="Zoo seed study: accuracy lost to the corruptions "
                                                     "(held-out items, 95% item-bootstrap intervals)")
    fig.savefig(out / "accuracy_lost.png", dpi=130, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default="params/demo.yaml")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    a = ap.parse_args(argv)
    vr.progress.configure_for(sys.stderr)
    run = vr.params.load(a.params)["run"]
    out = vr.paths.run_dir(run) / "zoo-seeds"
    goal_rows, control_rows, lost_rows, endpoint_rows, facts = [], [], [], [], {}
    for seed in a.seeds:
        p, zdir = seed_params(a.params, seed)
        t = time.perf_counter()
        trained = vr.zoo.is_trained(vr.zoo.zoo_dir(p), p["zoo"])
        info = (json.loads((vr.zoo.zoo_dir(p) / "zoo.json").read_text()) if trained
                else vr.zoo.train(vr.zoo.zoo_dir(p), p["zoo"]))
        ev = vr.zoo.evaluate(p)
        g = vr.zoo.goals(ev, p).assign(seed=seed)
        goal_rows.append(g)
        control_rows.append(vr.zoo.controls(ev, p).assign(seed=seed))
        endpoint_rows.append(vr.zoo.endpoint(ev, p).assign(seed=seed))
        lost = vr.zoo.accuracy_lost(ev, seed=p["seed"])
        planted = vr.zoo.planted_difference(ev, seed=p["seed"]).rename(columns={"contrast": "model", "difference": "accuracy_lost"})
        lost_rows.append(pd.concat([lost, planted], ignore_index=True).assign(seed=seed))
        facts[seed] = {"dir": zdir, "config_hash": info["config_hash"], "reused": trained,
                       "training_seconds": info["seconds_total"], "seconds_with_goal_check": round(time.perf_counter() - t, 1),
                       "weights": {s: v["weights"] for s, v in info["stages"].items()}, "probe": info["vision"]["probe"]}
        judged = g[g["kind"] == "goal"]
        print(f"seed {seed}: {int(judged['met'].sum())} of {len(judged)} goals met ({zdir})", flush=True)
        ranges = write(out, goal_rows, control_rows, lost_rows, facts, endpoint_rows)  # after every seed: kept if interrupted
    with pd.option_context("display.width", 200, "display.max_colwidth", 90):
        print(ranges.round(3).to_string())
        print(pd.read_csv(out / "detection.csv").to_string(index=False))
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
