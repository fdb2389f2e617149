"""``make verify``: a run's tables and predictions against the published ones, with stated tolerances."""

import json

import pandas as pd
import pytest

from vlmrobust import artifacts, verify

TABLE = pd.DataFrame({"pair": ["Z0", "Z2"], "n_items": [100, 100], "estimate": [0.0123456, -0.05],
                      "direction": ["interval contains 0", "aligned loses less"]})
SCORES = pd.DataFrame({"model": ["m"] * 3, "dataset": ["X"] * 3, "sample_id": ["1", "2", "3"],
                       "corruption": ["none"] * 3, "severity": [0] * 3, "prompt_variant": ["concise"] * 3,
                       "response": ["red", "two", "STOP"], "score": [1.0, 0.0, 1.0]})


def _published(tmp_path):
    pub = tmp_path / "results" / "demo"
    (pub / "tables").mkdir(parents=True)
    TABLE.to_csv(pub / "tables" / "endpoint.csv", index=False)
    verify.published_predictions(SCORES).to_parquet(pub / "predictions.parquet")
    return pub


def _run(outputs, table=TABLE, scores=SCORES):
    tables = outputs / "demo" / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    table.to_csv(tables / "endpoint.csv", index=False)
    artifacts.write_parquet(scores, outputs / "demo" / artifacts.SCORES)


def test_a_copy_of_the_published_results_verifies(tmp_path, outputs):
    pub = _published(tmp_path)
    _run(outputs)
    r = verify.verify("demo", pub)
    assert r["verdict"] == "reproduced" and r["tables_match"] == 1 and r["predictions"]["differ"] == 0
    assert json.loads((outputs / "demo" / verify.VERDICT).read_text())["verdict"] == "reproduced"


def test_one_changed_prediction_fails_naming_the_table_and_column(tmp_path, outputs):
    pub = _published(tmp_path)
    _run(outputs, table=TABLE.assign(n_items=[100, 99]), scores=SCORES.assign(response=["red", "three", "STOP"]))
    r = verify.verify("demo", pub)
    assert r["verdict"] == "differs" and r["predictions"]["differ"] == 1
    assert r["predictions"]["differ_by_model"] == {"m": 1}
    text = verify.summary(r)
    assert "predictions: 1 of 3 differ" in text
    assert "differs: endpoint: n_items (exact): 1 of 2 rows, first row 1: 99 where published 100" in text


@pytest.mark.parametrize("change, kind, ok", [
    (1e-7, "float", True),     # within the stated float tolerance
    (1e-5, "float", False),    # outside it
])
def test_float_columns_are_equal_within_the_tolerance(change, kind, ok):
    other = TABLE.assign(estimate=TABLE["estimate"] + change)
    assert verify.column_kind(TABLE["estimate"]) == kind
    assert (verify.compare_table("t", TABLE, other)["status"] == "match") is ok


def test_counts_and_text_are_exact_and_nan_equals_nan():
    assert verify.column_kind(TABLE["n_items"]) == "exact" and verify.column_kind(TABLE["direction"]) == "exact"
    changed = TABLE.assign(direction=["interval contains 0", "aligned loses more"])
    assert verify.compare_table("t", TABLE, changed)["columns"] == "direction"
    with_nan = TABLE.assign(estimate=[float("nan"), -0.05])
    assert verify.compare_table("t", with_nan, with_nan.copy())["status"] == "match"


def test_timing_and_variational_columns_are_excluded_and_said_so():
    t = pd.DataFrame({"dataset": ["X"], "z_gee": [2.0], "z_vb": [2.5], "seconds_vb": [1.0]})
    other = t.assign(z_vb=2.50004, seconds_vb=3.0)
    r = verify.compare_table("ethics_mixed", t, other)
    assert r["status"] == "match" and "not compared: z_vb, seconds_vb" in r["detail"]
    assert verify.compare_table("ethics_mixed", t, t.assign(z_gee=2.1))["columns"] == "z_gee"
    assert verify.compare_table("zoo_training", t, other)["status"] == "excluded"


def test_a_missing_table_or_changed_columns_differ(tmp_path, outputs):
    pub = _published(tmp_path)
    _run(outputs, table=TABLE.drop(columns="direction"))
    (outputs / "demo" / "tables" / "extra.csv").write_text("a\n1\n")
    r = verify.verify("demo", pub)
    by = {t["table"]: t for t in r["tables"]}
    assert by["endpoint"]["status"] == "differs" and "direction" in by["endpoint"]["columns"]
    assert by["extra"]["status"] == "new" and r["verdict"] == "differs"


def test_the_published_mixed_model_has_item_slopes_in_every_fitted_cell():
    """The published demo's mixed model carries random item slopes for alignment (the fix for
    counting an item's 24 conditions as independent), in every pair x dataset it fitted."""
    mixed = pd.read_csv(verify.expected_dir("demo") / "tables" / "ethics_mixed.csv")
    fitted = mixed[mixed["vb_status"] == "ok"]
    assert len(fitted) >= 3 * 4 * 3 * 0.75  # 3 pairs x 4 datasets x 3 terms, most of them fitted
    assert fitted["vb_random"].str.contains("item:aligned sd").all()
