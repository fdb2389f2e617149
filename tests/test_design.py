"""The study design of a run: models, pairs, labels, the GQA-like dataset, the paper's configuration."""

from vlmrobust import design, params


def test_demo_design():
    p = params.load("params/demo.yaml")
    assert [(q.id, q.base, q.aligned) for q in design.pairs(p)] == [("Z0", "zoo-it", "zoo-po"),
                                                                    ("Z1", "zoo-pt", "zoo-it"),
                                                                    ("Z2", "zoo-it", "zoo-po-aug")]
    assert design.pairs(p)[0].label == "Z0 (preference optimisation (MPO-style))"
    assert design.run_models(p) == ["zoo-it", "zoo-po", "zoo-pt", "zoo-po-aug"]  # pair order, the reference once
    assert design.label(p, "zoo-pt") == "zoo pt (caption pretraining only)"
    assert design.gqa_like(p) == "synth-spatial"
    assert not design.is_paper_configuration(p)
    assert design.MAIN_VARIANT == "concise"


def test_paper_design_and_disabled_pairs():
    p = params.load("params/paper.yaml")
    assert design.is_paper_configuration(p) and design.gqa_like(p) == "gqa"
    assert "P3" not in [q.id for q in design.pairs(p)]  # unresolved, disabled
    assert "P3" in p["pairs"] and "P3" not in design.enabled_pairs(p)
    assert design.run_models(p)[0] == p["pairs"]["P0"]["base"]


def test_reference_outside_every_pair_is_still_evaluated():
    off = {"Z1": {"enabled": False}, "Z2": {"enabled": False}}
    p = params.load("params/demo.yaml", {"pairs": off, "reference": "zoo-pt"})
    assert design.run_models(p) == ["zoo-it", "zoo-po", "zoo-pt"]
    p = params.load("params/demo.yaml", {"pairs": off})
    assert design.run_models(p) == ["zoo-it", "zoo-po"]


def test_main_scores_keeps_the_main_variant_only():
    import pandas as pd

    s = pd.DataFrame({"prompt_variant": ["concise", "plain", "concise"], "score": [1, 0, 1]})
    assert design.main_scores(s)["score"].tolist() == [1, 1]
