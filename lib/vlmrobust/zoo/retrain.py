"""``make zoo-train``: retrain the shipped recipe from scratch on this machine and compare with the shipped zoo.

The shipped zoo is one training run of the recipe on one CPU. Retraining it elsewhere gives other
weights (floating-point sums differ between CPU kinds, so the weights hashes differ too), and the
question a reader can ask is whether the *recipe* gives the same instrument: does the retrained zoo
meet the same goals, with values inside the range the recipe gives over training seeds
(``make zoo-seeds``, published in ``results/<run>/zoo-seeds/ranges.csv``)?

    python -m vlmrobust.zoo.retrain --params params/demo.yaml          (make zoo-train)
    python -m vlmrobust.zoo.retrain --params params/demo.yaml --ship   (make zoo-ship)

The retrained zoo goes to a scratch folder (``outputs/<run>/zoo-train/<config hash>/``, reused when
already trained there), never over the run's zoo. ``--ship`` then makes it the shipped zoo
(``shipped.ship``): use it after a change of the recipe, followed by ``make reproduce`` and
``make publish`` so that the published results are the new zoo's.
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from .. import artifacts, paths, progress
from .. import params as params_mod
from .config import config_hash

SEED_RANGE_SLACK = 0.0  # a retrained value inside [min, max] over the seeds is "within the seed range"


def params_with_zoo_at(params_file: str, where: str, zoo: dict | None = None) -> dict:
    """The run's params with the zoo in ``where`` (a params path, ``{run_dir}`` allowed) and the run's
    zoo models pointed at its stages; ``zoo``: further zoo settings (e.g. another seed)."""
    base = params_mod.load(params_file)
    if base["zoo"] is None:
        raise SystemExit(f"{params_file}: zoo is null; there is no zoo to train")
    old = base["zoo"]["dir"]
    models = {name: {"source": spec["source"].replace(old, where)} for name, spec in base["models"].items()
              if spec["source"].startswith(old + "/")}
    return params_mod.load(params_file, {"zoo": {**(zoo or {}), "dir": where}, "models": models})


def compare_goals(retrained: pd.DataFrame, shipped: pd.DataFrame | None, ranges: pd.DataFrame | None) -> pd.DataFrame:
    """Goal by goal: the shipped zoo's value, the retrained one's, the seed range, and whether the
    retrained value is inside it and meets the goal like the shipped zoo."""
    out = retrained[["goal", "target", "measured", "met"]].rename(columns={"measured": "retrained",
                                                                           "met": "retrained_met"})
    if shipped is not None:
        out = out.merge(shipped[["goal", "measured", "met"]].rename(columns={"measured": "shipped",
                                                                             "met": "shipped_met"}),
                        on="goal", how="left")
    if ranges is not None:
        out = out.merge(ranges.reset_index()[["goal", "min", "max"]].rename(columns={"min": "seed_min",
                                                                                    "max": "seed_max"}),
                        on="goal", how="left")
        v, lo, hi = (pd.to_numeric(out[c], errors="coerce") for c in ("retrained", "seed_min", "seed_max"))
        out["within_seed_range"] = ((v >= lo - SEED_RANGE_SLACK) & (v <= hi + SEED_RANGE_SLACK)).where(lo.notna())
    return out


def _published(run: str, name: str, index_col=None) -> pd.DataFrame | None:
    from ..verify import expected_dir

    p = expected_dir(run) / name
    return pd.read_csv(p, index_col=index_col) if p.exists() else None


def main(argv: list[str] | None = None) -> int:
    from . import goal_check, shipped, training

    ap = argparse.ArgumentParser(prog="python -m vlmrobust.zoo.retrain", description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default="params/demo.yaml")
    ap.add_argument("--ship", action="store_true", help="make the retrained zoo the shipped one (zoo-weights/)")
    a = ap.parse_args(argv)
    progress.configure_for(sys.stderr)
    base = params_mod.load(a.params)
    run, h = base["run"], config_hash(base["zoo"])
    p = params_with_zoo_at(a.params, f"{{run_dir}}/zoo-train/{h}")
    scratch = goal_check.zoo_dir(p)
    if training.is_trained(scratch, p["zoo"]):
        info = json.loads((scratch / "zoo.json").read_text())
        print(f"reusing the zoo retrained in {scratch} (delete it to train again)")
    else:
        print(f"retraining the zoo {h} from scratch into {scratch} (about 20 minutes on 2 CPU cores)")
        info = training.train(scratch, p["zoo"])
    out = paths.run_dir(run) / "zoo-train"
    ev = goal_check.evaluate(p)
    goals = goal_check.goals(ev, p)
    artifacts.write_text(out / "goals.csv", goals.to_csv(index=False))
    artifacts.write_text(out / "endpoint.csv", goal_check.endpoint(ev, p).to_csv(index=False))
    table = compare_goals(goals[goals["kind"] == "goal"], _published(run, "tables/zoo_goals.csv"),
                          _published(run, "zoo-seeds/ranges.csv", index_col=0))
    artifacts.write_text(out / "compare.csv", table.to_csv(index=False))
    ship_dir = shipped.shipped_dir(p["zoo"])
    ship_weights = json.loads((ship_dir / "zoo.json").read_text())["stages"] if ship_dir else {}
    with pd.option_context("display.width", 220, "display.max_colwidth", 70):
        print(table.round(3).to_string(index=False))
    print("\nweights hashes (retrained vs shipped):")
    for stage, v in info["stages"].items():
        print(f"  {stage:7s} {v['weights']}  {ship_weights.get(stage, {}).get('weights', '(none shipped)')}")
    print("Weights hashes differ between CPU kinds (vector width changes floating-point sums), so a retrain "
          "matches the shipped hashes only on the machine kind that trained them; the goals above are what "
          "should agree.")
    if "within_seed_range" in table:
        inside = table["within_seed_range"].dropna()
        print(f"{int(inside.sum())} of {len(inside)} goals inside the seed range; "
              f"{int(table['retrained_met'].sum())} of {len(table)} met (shipped: "
              f"{int(table['shipped_met'].sum()) if 'shipped_met' in table else '?'})")
    if a.ship:
        dest = shipped.ship(scratch, p["zoo"])
        print(f"shipped: {dest}. Next: make reproduce, then make publish (the published results are the "
              "shipped zoo's).")
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
