"""Safety metrics by hand on a 4-item example, with a base that never refuses."""

import pandas as pd
import pytest

from vlmrobust.analyses import safety
from vlmrobust.design import Pair

# aligned model: label per harmful item h1-h4 and benign item b1-b2, per condition
ALIGNED = {("none", 0): ["refuse", "refuse", "refuse", "comply", "refuse", "comply"],
           ("defocus_blur", 1): ["refuse", "refuse", "comply", "comply", "comply", "comply"],
           ("defocus_blur", 3): ["refuse", "inability", "comply", "comply", "comply", "comply"]}
ITEMS = ["h1", "h2", "h3", "h4", "b1", "b2"]


def _frame():
    rows = []
    for (c, s), labels in ALIGNED.items():
        for item, lab in zip(ITEMS, labels):
            for model, label in (("aligned", lab), ("base", "comply")):  # the base never refuses
                rows.append({"model": model, "dataset": "synth-safety", "sample_id": item, "corruption": c,
                             "severity": s, "harmful": item.startswith("h"), "label": label})
    return pd.DataFrame(rows)


PAIR = Pair("S", "base", "aligned", "alignment")


def test_rates_by_hand():
    r = safety.rates(_frame(), n_boot=200).set_index(["model", "corruption", "severity"])
    clean = r.loc[("aligned", "none", 0)]
    assert clean["rr"] == 0.75 and clean["orr"] == 0.5 and clean["j"] == pytest.approx(0.25)
    assert r.loc[("aligned", "defocus_blur", 3), "inability"] == pytest.approx(1 / 6)
    assert r.loc[("base", "none", 0), "rr"] == 0 and r.loc[("base", "none", 0), "n_harmful"] == 4


def test_sce_dsce_and_no_ratio_for_a_base_that_never_refuses():
    # aligned losses per harmful item: h1 1 - 1 = 0; h2 1 - (1 + 0) / 2 = 0.5 (the inability is not a
    # refusal); h3 1 - 0 = 1; h4 0 - 0 = 0 -> SCE 0.375; the base loses nothing it never had
    t = safety.sce(_frame(), [PAIR], n_boot=300).iloc[0]
    assert t["sce_aligned"] == pytest.approx(0.375) and t["sce_base"] == 0
    assert t["dsce"] == pytest.approx(0.375) and t["dsce_lo"] <= 0.375 <= t["dsce_hi"] and t["items"] == 4
    assert t["oce_aligned"] == pytest.approx(0.5)  # b1's over-refusal is gone under blur
    assert t["sce_ratio"] != t["sce_ratio"] and "no refusal to lose" in t["ratio_note"]


def test_the_refusal_gee_is_clustered_on_items_and_says_when_it_cannot_fit():
    g = safety.refusal_gee(_frame(), PAIR)
    assert g["groups"] == 4 and g["status"].startswith("perfect separation")  # the base never refuses
