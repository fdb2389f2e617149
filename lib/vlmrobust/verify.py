"""Does a run reproduce the published one? Its tables, column by column, against ``results/<run>/``.

The compendium publishes the demo run's results beside the shipped zoo: every table
(``results/demo/tables/*.csv``) and every prediction (``results/demo/predictions.parquet``). A
reader's ``make reproduce`` ends by comparing their run with them (``make verify`` alone does it
again), and the report shows the verdict at its top. The rules, per column:

- **exact**: integers, booleans and text (counts, labels, responses, verdicts) must be equal;
- **floats**: equal within ``FLOAT_TOLERANCE`` (absolute 1e-6): the analyses are deterministic given
  their seeds, so on the machine kind that made the published run they agree to the last digit;
- **excluded**: wall-clock columns (``TIMING``) and the variational mixed model's columns
  (``EXCLUDED``: its optimiser's float noise moves z in the fifth digit between runs).

Predictions are compared one by one (model, item, condition, prompt variant): where two answers of
a model are nearly tied, a CPU with other vector instructions (AVX2 against AVX-512) can pick the
other one. ``verify`` then says how many predictions of how many differ and which tables moved,
so a reader knows what "the same" means.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from . import artifacts, paths

RESULTS = paths.ROOT / "results"
FLOAT_TOLERANCE = 1e-6
TIMING = re.compile(r"seconds|elapsed|items_per_s|per_second|items/s")
EXCLUDED = {"ethics_mixed": re.compile(r"(^|_)vb(_|$)|variational")}  # table -> excluded columns
EXCLUDED_TABLES = ("inference_throughput", "zoo_training")  # timings with a few counts beside them
PREDICTION_KEY = ["model", "dataset", "sample_id", "corruption", "severity", "prompt_variant"]
PREDICTION_COLUMNS = PREDICTION_KEY + ["response", "score"]
VERDICT = "verify.json"


def expected_dir(run: str) -> Path:
    return RESULTS / run


def excluded(table: str, column: str) -> bool:
    rule = EXCLUDED.get(table)
    return bool(TIMING.search(column)) or bool(rule and rule.search(column))


def column_kind(series: pd.Series) -> str:
    return "float" if pd.api.types.is_float_dtype(series) else "exact"


def _same(kind: str, a: pd.Series, b: pd.Series) -> np.ndarray:
    """Row-wise agreement of two columns (NaN equals NaN)."""
    if kind == "float":
        x, y = pd.to_numeric(a, errors="coerce").to_numpy(float), pd.to_numeric(b, errors="coerce").to_numpy(float)
        return np.isclose(x, y, rtol=0, atol=FLOAT_TOLERANCE, equal_nan=True)
    x, y = a.astype(object).to_numpy(), b.astype(object).to_numpy()
    both_missing = pd.isna(a).to_numpy() & pd.isna(b).to_numpy()
    return both_missing | np.array([str(u) == str(v) for u, v in zip(x, y)], bool)


def _show(value) -> str:
    return repr(value.item() if hasattr(value, "item") else value)


def compare_table(name: str, expected: pd.DataFrame, actual: pd.DataFrame) -> dict:
    """One table's verdict: ``status`` match / differs, the differing columns and where they first differ."""
    if name in EXCLUDED_TABLES:
        return {"table": name, "status": "excluded", "columns": "", "detail": "timings (not compared)"}
    if list(expected.columns) != list(actual.columns):
        gone = [c for c in expected.columns if c not in actual.columns]
        new = [c for c in actual.columns if c not in expected.columns]
        return {"table": name, "status": "differs", "columns": ", ".join(gone + new),
                "detail": f"columns differ (missing: {gone or 'none'}; new: {new or 'none'})"}
    if len(expected) != len(actual):
        return {"table": name, "status": "differs", "columns": "",
                "detail": f"{len(actual)} rows where the published table has {len(expected)}"}
    bad, details, skipped = [], [], []
    for col in expected.columns:
        if excluded(name, col):
            skipped.append(col)
            continue
        kind = column_kind(expected[col])
        ok = _same(kind, expected[col], actual[col])
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            bad.append(col)
            details.append(f"{col} ({kind}): {int((~ok).sum())} of {len(ok)} rows, first row {i}: "
                           f"{_show(actual[col].iloc[i])} where published {_show(expected[col].iloc[i])}")
    note = f"; not compared: {', '.join(skipped)}" if skipped else ""
    return {"table": name, "status": "differs" if bad else "match", "columns": ", ".join(bad),
            "detail": ("; ".join(details) if bad else "every compared column equal") + note}


def compare_tables(expected: Path, actual: Path, actual_names: list[str] | None = None) -> pd.DataFrame:
    """Every published table against the run's (and the run's tables the published run lacks).
    ``actual_names``: the tables the run's notebooks wrote (``artifacts.current_tables``); a file
    outside it is left over from older code and counts as not written."""
    rows = []
    written = {p.stem for p in actual.glob("*.csv")}
    if actual_names is not None:
        written &= set(actual_names)
    names = sorted({p.stem for p in expected.glob("*.csv")} | written)
    for name in names:
        e, a = expected / f"{name}.csv", actual / f"{name}.csv"
        if name not in written:
            rows.append({"table": name, "status": "missing", "columns": "", "detail": "the run did not write it"})
        elif not e.exists():
            rows.append({"table": name, "status": "new", "columns": "", "detail": "not in the published results"})
        else:
            rows.append(compare_table(name, _read_csv(e), _read_csv(a)))
    return pd.DataFrame(rows, columns=["table", "status", "columns", "detail"])


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def published_predictions(scores: pd.DataFrame) -> pd.DataFrame:
    """The prediction columns that are published (``results/<run>/predictions.parquet``), in key order."""
    return scores[PREDICTION_COLUMNS].sort_values(PREDICTION_KEY, kind="stable").reset_index(drop=True)


def compare_predictions(expected: pd.DataFrame, actual: pd.DataFrame) -> dict:
    """How many of the published predictions the run gives differently (by response), per model."""
    m = expected.merge(actual[PREDICTION_COLUMNS], on=PREDICTION_KEY, how="outer", suffixes=("_pub", "_run"),
                       indicator=True)
    both = m[m["_merge"] == "both"]
    differ = both[both["response_pub"].astype(str) != both["response_run"].astype(str)]
    return {"published": len(expected), "compared": len(both), "differ": len(differ),
            "missing": int((m["_merge"] == "left_only").sum()), "new": int((m["_merge"] == "right_only").sum()),
            "differ_by_model": {k: int(v) for k, v in differ.groupby("model").size().items()},
            "examples": differ.head(5)[PREDICTION_KEY + ["response_pub", "response_run"]].astype(str)
            .to_dict("records")}


def verify(run: str, expected: Path | None = None) -> dict:
    """Compare ``outputs/<run>`` with the published results; writes ``outputs/<run>/verify.json``."""
    expected = Path(expected) if expected else expected_dir(run)
    if not expected.is_dir():
        raise FileNotFoundError(f"no published results for run '{run}' at {expected}")
    tables = compare_tables(expected / "tables", paths.run_dir(run) / "tables", artifacts.current_tables(run))
    preds = None
    if (expected / "predictions.parquet").exists() and artifacts.path(run, artifacts.SCORES).exists():
        preds = compare_predictions(pd.read_parquet(expected / "predictions.parquet"),
                                    artifacts.read(run, artifacts.SCORES))
    compared = tables[tables["status"].isin(["match", "differs"])]
    ok = bool((tables["status"].isin(["match", "excluded", "new"])).all() and (preds is None or
              (preds["differ"] == 0 and preds["missing"] == 0)))
    result = {"run": run, "published": str(expected), "verdict": "reproduced" if ok else "differs",
              "tables_compared": len(compared), "tables_match": int((compared["status"] == "match").sum()),
              "tables": tables.to_dict("records"), "predictions": preds, "float_tolerance": FLOAT_TOLERANCE}
    artifacts.write_text(paths.run_dir(run) / VERDICT, json.dumps(result, indent=1, default=str))
    return result


SEED_STUDY = ("goals.csv", "ranges.csv", "controls.csv", "endpoint.csv", "detection.csv", "detection_per_seed.csv",
              "accuracy_lost.csv", "seeds.json", "accuracy_lost.png",
              "pipeline_findings.csv", "safety_seeds.csv", "safety_ranges.csv")  # the last three: make seed-runs


def publish(run: str, dest: Path | None = None) -> Path:
    """Make ``outputs/<run>`` the published results: its tables, its predictions and, when the seed
    study ran (``make zoo-seeds``), the study's files. Used after the shipped zoo changes
    (``make publish``); the tables it replaces stay in git's history."""
    import shutil

    dest = Path(dest) if dest else expected_dir(run)
    src = paths.run_dir(run)
    if not (src / "tables").is_dir() or not artifacts.path(run, artifacts.SCORES).exists():
        raise FileNotFoundError(f"{src} has no finished run to publish; run make reproduce first")
    if (dest / "tables").exists():
        shutil.rmtree(dest / "tables")
    (dest / "tables").mkdir(parents=True)
    current = artifacts.current_tables(run)
    for csv in sorted((src / "tables").glob("*.csv")):
        if current is None or csv.stem in current:  # never a table left over from older code
            shutil.copy2(csv, dest / "tables" / csv.name)
    artifacts.write_parquet(published_predictions(artifacts.read(run, artifacts.SCORES)), dest / "predictions.parquet")
    seeds = src / "zoo-seeds"
    for name in SEED_STUDY:
        if (seeds / name).exists():
            (dest / "zoo-seeds").mkdir(exist_ok=True)
            shutil.copy2(seeds / name, dest / "zoo-seeds" / name)
    return dest


def summary(result: dict) -> str:
    """The short verdict a person reads: which tables match, which differ and where."""
    lines = [f"verify {result['run']} against {result['published']}: {result['verdict'].upper()}",
             f"  tables: {result['tables_match']} of {result['tables_compared']} match "
             f"(floats within {result['float_tolerance']:g}, everything else exactly)"]
    p = result["predictions"]
    if p is not None:
        lines.append(f"  predictions: {p['differ']} of {p['compared']} differ"
                     + (f" ({', '.join(f'{m} {k}' for m, k in p['differ_by_model'].items())})" if p["differ"] else "")
                     + (f"; {p['missing']} published ones missing" if p["missing"] else ""))
    for t in result["tables"]:
        if t["status"] in ("differs", "missing"):
            lines.append(f"  {t['status']}: {t['table']}: {t['detail']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from . import params

    ap = argparse.ArgumentParser(prog="python -m vlmrobust.verify", description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default="params/demo.yaml")
    ap.add_argument("--expected", default=None, help="published results folder (default results/<run>)")
    ap.add_argument("--publish", action="store_true", help="make the run's results the published ones instead")
    a = ap.parse_args(argv)
    run = params.load(a.params)["run"]
    if a.publish:
        print(f"published {paths.run_dir(run)} -> {publish(run, a.expected)}")
        return 0
    try:
        result = verify(run, a.expected)
    except FileNotFoundError as e:
        print(f"verify: {e}", file=sys.stderr)
        return 2
    print(summary(result))
    return 0 if result["verdict"] == "reproduced" else 1


if __name__ == "__main__":
    raise SystemExit(main())
