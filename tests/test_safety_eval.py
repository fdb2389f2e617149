"""The run's safety measurement: items, the blank control, the work plan, labels, and the ledger's rows."""

import hashlib

import pandas as pd
import pytest
from PIL import Image

from vlmrobust import params, safety_eval
from vlmrobust.analyses import ledger
from vlmrobust.data import safety


@pytest.fixture(scope="module")
def items():
    p = params.load("params/smoke.yaml")
    return safety_eval.load_items(p)


def test_items_are_the_eval_split_with_design_columns(items):
    assert len(items) == 8 and set(items["split"]) == {"eval"}
    assert items["harmful"].tolist() == (items["expected"] == "refuse").tolist()
    assert set(items["item_type"]) == set(safety.ITEM_TYPES)
    odd = params.load("params/smoke.yaml")
    odd["safety"] = {**odd["safety"], "n": 7}  # bypassing the params check: the loader refuses too
    with pytest.raises(safety_eval.SafetyError, match="safety.n = 7"):
        safety_eval.load_items(odd)


def test_blank_control_is_a_grey_image_for_each_harm_in_the_image_item(items, tmp_path):
    m = safety_eval.blank_manifest(items, tmp_path)
    want = items[items["harm"] == "image"]
    assert sorted(m["sample_id"]) == sorted(want["sample_id"]) and set(m["corruption"]) == {safety_eval.BLANK}
    for r in m.itertuples():
        data = (tmp_path / r.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r.sha256
        img = Image.open(tmp_path / r.path)
        assert img.size == (224, 224) and img.getcolors() == [(224 * 224, safety_eval.BLANK_GREY)]
    assert safety_eval.blank_manifest(items, tmp_path).equals(m)  # written once, the same rows again


def test_work_asks_every_item_once_per_condition_with_the_concise_prompt(items):
    manifest = pd.DataFrame([{"dataset": r.dataset, "sample_id": r.sample_id, "corruption": c, "severity": s,
                              "path": f"{r.sample_id}-{c}", "sha256": "x"}
                             for r in items.itertuples() for c, s in (("none", 0), ("gaussian_noise", 5))])
    w = safety_eval.work(items, manifest)
    assert len(w) == 2 * len(items) and set(w["prompt_variant"]) == {safety_eval.VARIANT}
    assert not w.duplicated(["sample_id", "corruption", "severity"]).any()


def test_labels_put_inability_before_refusal_and_read_probe_answers(items):
    probe = items[items["item_type"] == "probe"].iloc[0]
    harm = items[items["harmful"]].iloc[0]
    responses = pd.DataFrame([
        {"model": "m", "dataset": harm["dataset"], "sample_id": harm["sample_id"], "corruption": "none",
         "severity": 0, "response": "I can't help with that."},
        {"model": "m", "dataset": harm["dataset"], "sample_id": harm["sample_id"], "corruption": "defocus_blur",
         "severity": 5, "response": "Sorry, the image is too blurry."},
        {"model": "m", "dataset": probe["dataset"], "sample_id": probe["sample_id"], "corruption": "none",
         "severity": 0, "response": f"{probe['answer'].capitalize()}."}])
    d = safety_eval.label(responses, items)
    assert d["label"].tolist() == ["refuse", "inability", "comply"]
    assert d["probe_correct"].iloc[2] == 1 and pd.isna(d["probe_correct"].iloc[0])
    assert d["said_yes"].iloc[2] == float(probe["answer"] == "yes")


def _sce_row(pid, est, lo, hi):
    return {"pair": pid, "corruption": "all", "severity": 5, "sce_aligned": est, "sce_aligned_lo": lo,
            "sce_aligned_hi": hi, "sce_base": 0.0, "sce_base_lo": 0.0, "sce_base_hi": 0.0, "dsce": est,
            "dsce_lo": lo, "dsce_hi": hi, "items": 100}


def test_ledger_rows_say_whether_the_aligned_models_refusals_survive():
    p = params.load("params/demo.yaml")
    t = pd.DataFrame([_sce_row("Z0", 0.01, -0.02, 0.04), _sce_row("Z1", 0.3, 0.2, 0.4),
                      _sce_row("Z2", 0.03, -0.01, 0.08)])
    rows = {r["id"]: r for r in ledger.safety_rows({"safety_sce_severity": t}, p)}
    assert rows["X-safety-Z0"]["run_status"] == ledger.SUPPORTED
    assert rows["X-safety-Z1"]["run_status"] == ledger.CONTRADICTED
    assert rows["X-safety-Z2"]["run_status"] == ledger.UNDECIDABLE
    assert all(r["paper_status"] == ledger.UNTESTABLE for r in rows.values())
    none = ledger.safety_rows({}, p)
    assert {r["run_status"] for r in none} == {ledger.UNTESTABLE}
    full = ledger.ledger({"safety_sce_severity": t}, p)
    assert "20 claims of the paper" in ledger.summary(full) and "3 rows of the extensions" in ledger.summary(full)
