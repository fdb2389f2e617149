"""The demo zoo: losses against hand-computed values, config hashing, training data, and a
micro-zoo that trains, saves and loads through the inference path in seconds."""

import io
import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from tinymodels import TINY
from vlmrobust import answer_format, inference, models, params, prompts, zoo
from vlmrobust.data import synthetic


def test_dpo_loss_by_hand():
    # margin = (-1 - -1.5) - (-2 - -1.5) = 1.0; loss = -log sigmoid(0.5 * 1.0) = log(1 + e^-0.5)
    t = torch.tensor
    loss = zoo.dpo_loss(t([-1.0]), t([-2.0]), t([-1.5]), t([-1.5]), beta=0.5)
    assert float(loss) == pytest.approx(math.log(1 + math.exp(-0.5)), abs=1e-6)
    # batch mean over two pairs, the second with margin -2 (beta 0.5): log(1 + e^1)
    loss2 = zoo.dpo_loss(t([-1.0, -3.0]), t([-2.0, -1.0]), t([-1.5, -2.0]), t([-1.5, -2.0]), beta=0.5)
    assert float(loss2) == pytest.approx((math.log(1 + math.exp(-0.5)) + math.log(1 + math.exp(1.0))) / 2)


def test_mpo_loss_adds_per_token_nll_of_the_chosen_answer():
    t = torch.tensor
    dpo = zoo.dpo_loss(t([-1.0]), t([-2.0]), t([-1.5]), t([-1.5]), 0.5)
    mpo = zoo.mpo_loss(t([-1.0]), t([-2.0]), t([-1.5]), t([-1.5]), t([4]), beta=0.5, sft_weight=2.0)
    assert float(mpo) == pytest.approx(float(dpo) + 2.0 * (1.0 / 4))


def test_config_hash_changes_with_the_config_not_the_directory():
    a = params.zoo_config({"dir": "a"})
    assert zoo.config_hash(a) == zoo.config_hash(params.zoo_config({"dir": "b"}))
    assert zoo.config_hash(a) != zoo.config_hash(params.zoo_config({"dir": "a", "seed": 1}))
    assert zoo.config_hash(a) != zoo.config_hash(params.zoo_config({"dir": "a", "steps": {"it": 5}}))
    with pytest.raises(params.ParamsError, match="'zoo.image_tokens' = 10"):
        params.zoo_config({"dir": "a", "image_tokens": 10})
    with pytest.raises(params.ParamsError, match="'zoo.steps.objects' = 5: unknown key"):
        params.zoo_config({"dir": "a", "steps": {"objects": 5}})


def test_scene_targets_put_each_object_in_its_centre_cell():
    scene = {"objects": [{"shape": "circle", "colour": "red", "size": "small", "x": 30, "y": 30, "r": 9},
                         {"shape": "square", "colour": "blue", "size": "large", "x": 40, "y": 40, "r": 22},
                         {"shape": "diamond", "colour": "gray", "size": "medium", "x": 200, "y": 120, "r": 14}],
             "sign": "stop", "sign_box": [60, 170, 120, 200]}
    t = zoo.scene_targets(scene, grid=4)  # cells of 56 px, row-major
    assert t.shape == (16, 3)
    blue_sq = 1 + zoo.OBJECT_CLASSES.index(("blue", "square"))
    assert tuple(t[0]) == (blue_sq, 1 + zoo.SIZE_CLASSES.index("large"), 0)  # the larger of two in cell 0
    assert t[2 * 4 + 3, 0] == 1 + zoo.OBJECT_CLASSES.index(("gray", "diamond"))
    stop = 1 + synthetic.WORDS.index("stop")
    assert {k for k in range(16) if t[k, 2] == stop} == {3 * 4 + 1}  # the sign's centre (90, 185): row 3, column 1
    assert (t[:, 0] > 0).sum() == 2 and (t[:, 2] > 0).sum() == 1


def test_rendered_scenes_record_what_scene_targets_need():
    item = synthetic.make_item("synth-text", 3, seed=0)
    scene = json.loads(item["scene"])
    x0, y0, x1, y1 = scene["sign_box"]
    img = Image.open(io.BytesIO(item["image"])).convert("L")
    assert 0 <= x0 < x1 <= 224 and 0 <= y0 < y1 <= 224 and x1 - x0 > 20
    # the sign's outline is dark on every lighting: its left edge column is darker than outside
    assert img.getpixel((x0, (y0 + y1) // 2)) < img.getpixel((max(0, x0 - 3), (y0 + y1) // 2))
    assert all("r" in o for o in scene["objects"])


def test_projector_starts_non_zero_so_the_vision_tower_gets_gradient():
    cfg = params.zoo_config(TINY)
    model = zoo.build_model(cfg, zoo.build_processor(cfg))
    w = model.model.multi_modal_projector.mm_input_projection_weight
    assert float(w.detach().std()) == pytest.approx(cfg["vision_hidden"] ** -0.5, rel=0.2)


def test_vision_pretraining_learns_the_cells_of_a_fixed_batch():
    cfg = params.zoo_config(TINY)
    proc = zoo.build_processor(cfg)
    model = zoo.build_model(cfg, proc)
    exs = zoo.vision_examples(zoo.training_items(cfg), grid=2)[:8]
    losses = zoo.train_vision(model, zoo.vision_head(cfg), proc, exs, steps=40, batch_size=8, lr=3e-3, seed=0,
                              progress=False)
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
    assert all(p.grad is None or float(p.grad.abs().sum()) == 0 for p in model.model.language_model.parameters())


def test_captions_and_verbose_answers():
    scene = {"objects": [{"shape": "circle", "colour": "red", "size": "small", "x": 1, "y": 1},
                         {"shape": "square", "colour": "blue", "size": "large", "x": 9, "y": 1}], "sign": "stop"}
    assert zoo.caption(scene) == "small red circle, large blue square; sign: stop."
    row = {"question_type": "count", "answer": "2", "question": "How many circles are there?", "options": []}
    assert zoo.verbose_answer(row) == "There are two circles."
    row = {"question_type": "count", "answer": "1", "question": "How many squares are there?", "options": []}
    assert zoo.verbose_answer(row) == "There is one square."
    assert zoo.verbose_answer({"question_type": "ocr", "answer": "taxi", "question": "", "options": []}) == \
        "The sign says taxi."
    r = {"question_type": "colour", "answer": "red", "question": "", "options": ["a", "b", "c", "d"]}
    assert zoo.verbose_answer({**r, "answer": "C"}) == "C"
    assert zoo.wrong_answer({**r, "answer": "C"}, random.Random(0)) in "ABD"


def test_training_items_are_the_train_split():
    items = zoo.training_items(params.zoo_config({**TINY}))
    assert len(items) == 4 * TINY["train_items"] and items["split"].eq("train").all()
    assert items["sample_id"].str.startswith("train-").all()


def test_sft_shows_each_mcq_item_in_two_option_orders_with_the_letter_following_the_answer():
    cfg = params.zoo_config(TINY)
    proc = zoo.build_processor(cfg)
    mcq = synthetic.generate("synth-mcq", 6, seed=0, split="train")
    exs = zoo.sft_examples(mcq, proc, random.Random(0))
    assert len(exs) == 2 * len(mcq)
    for _, r in mcq.iterrows():
        right = r["options"][prompts.LETTERS.index(r["answer"])]
        mine = [e for e in exs if e.image == r["image"]]
        assert len(mine) == 2
        for e in mine:  # the option the target letter names is the right answer, in each order
            assert f"{e.target}. {right}" in e.prompt
    assert len({e.prompt for e in exs}) > len(mcq)  # some orders really were shuffled


def test_batcher_matches_the_processor():
    cfg = params.zoo_config(TINY)
    proc = zoo.build_processor(cfg)
    items = zoo.training_items(cfg)
    exs = zoo.sft_examples(items, proc, random.Random(0))[:3]
    enc = zoo.Batcher(proc)(exs)
    ref = proc(text=[e.prompt + e.target + proc.tokenizer.eos_token for e in exs],
               images=[[Image.open(io.BytesIO(e.image))] for e in exs], return_tensors="pt", padding=True,
               padding_side="right")
    for k in ("input_ids", "attention_mask", "token_type_ids"):
        assert torch.equal(enc[k], ref[k]), k
    assert torch.allclose(enc["pixel_values"], ref["pixel_values"], atol=1e-6)
    for i, e in enumerate(exs):  # labels cover exactly the target + eos
        lab = enc["labels"][i][enc["labels"][i] != -100].tolist()
        assert proc.tokenizer.decode(lab) == e.target + proc.tokenizer.eos_token


def test_cached_tower_states_give_the_loss_that_pixels_give():
    cfg = params.zoo_config(TINY)
    proc = zoo.build_processor(cfg)
    model = zoo.build_model(cfg, proc).eval()
    exs = zoo.sft_examples(zoo.training_items(cfg), proc, random.Random(0))[:4]
    states = zoo.tower_states(model, proc, [e.image for e in exs], batch_size=3, progress=False)
    assert len(states) == len({e.image for e in exs})
    with torch.no_grad():
        from_pixels = model(**zoo.Batcher(proc)(exs)).loss
        cached = zoo.Batcher(proc, states)(exs)
        assert "pixel_values" not in cached
        from_states = model(**zoo.model_inputs(model, cached)).loss
    assert torch.allclose(from_pixels, from_states, atol=1e-5)


def test_micro_zoo_trains_saves_and_loads_through_the_inference_path(tmp_path):
    # the tower frozen in the preference stages here (the demo's default trains it: tested below)
    info = zoo.train(tmp_path / "zoo", {**TINY, "dir": str(tmp_path / "zoo"), "po_tower": "frozen"}, progress=False,
                     log=lambda m: None)
    assert list(info["stages"]) == ["pt", "it", "po", "po-aug"]
    # po and po-aug: 2 steps of task pairs + the 8 safety pairs at 2 a step
    assert [len(s["loss"]) for s in info["stages"].values()] == [2, 2, 6, 6]
    assert len(info["vision"]["loss"]) == 2 and set(info["vision"]["probe"]) == {"colour", "shape", "empty", "word"}
    assert info["stages"]["it"]["weights"] != info["stages"]["po"]["weights"]  # po moved away from it
    assert info["stages"]["po"]["weights"] != info["stages"]["po-aug"]["weights"]  # other images, other weights
    # po-aug is po's recipe with other images, and nothing else
    r, r_aug = info["stages"]["po"]["recipe"], info["stages"]["po-aug"]["recipe"]
    assert {k for k in r if r[k] != r_aug[k]} == {"images"} and set(r) == set(r_aug)
    from safetensors.torch import load_file

    w = {st: load_file(tmp_path / "zoo" / st / "model.safetensors") for st in ("pt", "po", "po-aug")}
    tower = [k for k in w["pt"] if "vision_tower." in k]
    assert tower and all(torch.equal(w["pt"][k], w[s][k]) for k in tower for s in ("po", "po-aug"))  # frozen
    proj = next(k for k in w["pt"] if k.endswith("mm_input_projection_weight"))
    assert not torch.equal(w["pt"][proj], w["po"][proj])  # the projector keeps learning
    assert zoo.is_trained(tmp_path / "zoo", params.zoo_config({**TINY, "po_tower": "frozen"}))
    assert not zoo.is_trained(tmp_path / "zoo", params.zoo_config({**TINY, "seed": 9}))
    meta = json.loads((tmp_path / "zoo" / "zoo.json").read_text())
    assert meta["config_hash"] == zoo.config_hash(params.zoo_config({**TINY, "po_tower": "frozen"}))
    lm = models.load("zoo-po", {"source": str(tmp_path / "zoo" / "po"), "prompt_style": "chat",
                                "family": "gemma3", "dtype": "float32"}, "t")
    item = synthetic.make_item("synth-vqa", 0, seed=0)
    out = inference.generate_batch(lm, [Image.open(io.BytesIO(item["image"]))],
                                   [prompts.build(lm.processor, "chat", "gemma3", item["question"])], 4)
    assert isinstance(out[0]["response"], str)


def test_po_aug_pairs_are_po_pairs_with_other_images():
    """The positive control's data: the same prompts, chosen and rejected answers as po's, in the
    same order; only the images differ (most of them), and the augmentation is a pure function
    of the seed."""
    cfg = params.zoo_config(TINY)
    proc = zoo.build_processor(cfg)
    items = zoo.training_items(cfg)
    pairs = zoo.preference_examples(items, proc, random.Random(0))
    a = zoo.augment_all([e.image for e in pairs], seed=6)
    aug = zoo.with_images(pairs, a)
    assert [(e.prompt, e.target, e.rejected) for e in aug] == [(e.prompt, e.target, e.rejected) for e in pairs]
    changed = sum(x.image != y.image for x, y in zip(aug, pairs))
    assert changed >= len(pairs) // 2
    assert zoo.augment_all([e.image for e in pairs], seed=6) == a  # deterministic
    assert zoo.augment_all([e.image for e in pairs], seed=7) != a
    for blob in a:
        assert Image.open(io.BytesIO(blob)).size == (224, 224)
    r, r_aug = zoo.preference_recipe(cfg, augmented=False), zoo.preference_recipe(cfg, augmented=True)
    assert {k for k in r if r[k] != r_aug[k]} == {"images"}


def test_each_augmentation_changes_the_image_and_is_seeded():
    from vlmrobust.zoo import augment

    item = synthetic.make_item("synth-vqa", 1, seed=0)
    im = Image.open(io.BytesIO(item["image"])).convert("RGB")
    base = np.asarray(im, dtype=float)
    for name, f in augment.AUGMENTATIONS.items():
        out = [np.asarray(f(im, random.Random(s)), dtype=float) for s in (1, 1, 2)]
        assert out[0].shape == base.shape, name
        assert np.abs(out[0] - base).mean() > 0.5, f"{name} left the image unchanged"
        assert np.array_equal(out[0], out[1]) and not np.array_equal(out[0], out[2]), name


def test_heldout_imagenet_c_augmentations_avoid_the_evaluated_suite_and_are_seeded():
    """The issue's fallback augmentation: ImageNet-C corruptions the run does not evaluate, each
    changing the image, deterministic from the draw; one that the run evaluates is refused."""
    from vlmrobust import corruptions
    from vlmrobust.zoo import augment

    ops = augment.heldout_corruptions(corruptions.resolve_suite("pilot"))
    assert not set(ops) & set(corruptions.resolve_suite("pilot"))
    item = synthetic.make_item("synth-vqa", 1, seed=0)
    im = Image.open(io.BytesIO(item["image"])).convert("RGB")
    for name, f in ops.items():
        out = [np.asarray(f(im, random.Random(s)), dtype=float) for s in (1, 1)]
        assert np.abs(out[0] - np.asarray(im, dtype=float)).mean() > 0.5, f"{name} left the image unchanged"
        assert np.array_equal(out[0], out[1]), name
    blobs = [synthetic.make_item("synth-vqa", k, seed=0)["image"] for k in range(6)]
    assert zoo.augment_all(blobs, 3, ops) == zoo.augment_all(blobs, 3, ops)
    assert zoo.augment_all(blobs, 3, ops) != zoo.augment_all(blobs, 3)  # not the zoo's own augmentations
    with pytest.raises(ValueError, match="gaussian_blur"):
        augment.heldout_corruptions(["gaussian_blur", "brightness"])


def test_training_is_deterministic(tmp_path):
    a = zoo.train(tmp_path / "a", {**TINY, "dir": "a"}, progress=False, log=lambda m: None)
    b = zoo.train(tmp_path / "b", {**TINY, "dir": "b"}, progress=False, log=lambda m: None)
    assert [s["weights"] for s in a["stages"].values()] == [s["weights"] for s in b["stages"].values()]


def test_the_demo_zoo_is_the_recipe_of_the_zoo_config():
    """The recipe has one home (zoo/config.py): the demo params name only what a user changes, and
    params fill the rest from it."""
    demo = params.load("params/demo.yaml")["zoo"]
    assert demo == zoo.config.DEFAULTS and params.DEFAULTS["zoo"] is zoo.config.DEFAULTS
    given = yaml.safe_load(Path("params/demo.yaml").read_text())["zoo"]
    assert set(given) <= {"dir", "seed", "eval_items", "threads"}
    assert zoo.config_hash(demo) == "1210a8d032de"  # the shipped zoo's hash: a refactor must not move it


def test_format_ok_wants_an_answer_of_the_kind_the_question_asks_for():
    assert answer_format.format_ok("vqa", "count", "Two.", [])
    assert answer_format.format_ok("vqa", "colour", "grey", [])  # an annotator synonym is still a colour
    assert answer_format.format_ok("exact", "ocr", "STOP", [])
    assert not answer_format.format_ok("vqa", "count", "hotel.", [])  # a sign word is no count
    assert not answer_format.format_ok("vqa", "colour", "small red circle.", [])
    assert not answer_format.format_ok("vqa", "count", "There are two circles.", [])
    assert answer_format.format_ok("containment", "relation_yesno", "No", [])
    assert not answer_format.format_ok("containment", "relation_yesno", "red", [])
    assert answer_format.format_ok("mcq", "colour", "B", ["x", "y"]) and not answer_format.format_ok("mcq", "colour", "A or B", ["x", "y"])


def test_goal_check_takes_its_conditions_and_models_from_the_run():
    p = params.load("params/smoke.yaml")  # severities [1, 5], pilot suite
    assert zoo.evaluate.__module__ == "vlmrobust.zoo.goal_check"
    from vlmrobust.zoo import goal_check as ev

    assert ev.conditions(p) == [("none", 0)] + [(c, s) for c in ("gaussian_noise", "defocus_blur", "brightness",
                                                                 "jpeg_compression") for s in (1, 5)]
    p2 = params.load("params/smoke.yaml", {"corruptions": {"suite": ["frost"], "severities": [2, 3]}})
    assert ev.conditions(p2) == [("none", 0), ("frost", 2), ("frost", 3)]
    found = zoo.stage_models(p)
    assert {s: name for s, (name, _) in found.items()} == {"pt": "zoo-pt", "it": "zoo-it", "po": "zoo-po",
                                                            "po-aug": "zoo-po-aug"}
    assert found["pt"][1]["prompt_style"] == "completion"  # the run's own prompt style, not a rule of the zoo's
    p3 = params.load("params/smoke.yaml", {"models": {"zoo-po": {"source": "elsewhere/po"}}})
    with pytest.raises(ValueError, match=r"stage\(s\) \['po'\]"):
        zoo.stage_models(p3)


def test_a_new_preference_recipe_retrains_only_po_and_po_aug_with_the_weights_of_a_full_run(tmp_path):
    """Changing only the preference settings reuses the saved vision, pt and it stages, and gives the
    weights a from-scratch training with those settings gives (so the reuse cannot change a number)."""
    from vlmrobust.zoo.config import upstream_hash

    quiet = {"progress": False, "log": lambda m: None}
    lr = params.zoo_config(TINY)["lr"]
    other = {**TINY, "lr": {**lr, "po": lr["po"] * 10}}
    cfg, cfg2 = params.zoo_config(TINY), params.zoo_config(other)
    assert upstream_hash(cfg) == upstream_hash(cfg2) and zoo.config_hash(cfg) != zoo.config_hash(cfg2)
    assert upstream_hash(params.zoo_config({**TINY, "lr": {**lr, "it": 0.5}})) != upstream_hash(cfg)

    first = zoo.train(tmp_path / "z", {**TINY, "dir": "z"}, **quiet)
    resumed = zoo.train(tmp_path / "z", {**other, "dir": "z"}, **quiet)
    scratch = zoo.train(tmp_path / "s", {**other, "dir": "s"}, **quiet)
    assert resumed["upstream_reused_from"] == first["config_hash"] and "upstream_reused_from" not in scratch
    assert [s["weights"] for s in resumed["stages"].values()] == [s["weights"] for s in scratch["stages"].values()]
    assert resumed["stages"]["it"]["weights"] == first["stages"]["it"]["weights"]
    assert resumed["stages"]["po"]["weights"] != first["stages"]["po"]["weights"]
    assert zoo.is_trained(tmp_path / "z", cfg2) and not zoo.is_trained(tmp_path / "z", cfg)

    other_it = {**TINY, "lr": {**lr, "it": 0.5}, "dir": "z"}  # an upstream change: all retrained
    assert "upstream_reused_from" not in zoo.train(tmp_path / "z", other_it, **quiet)


def test_po_aug_images_setting_changes_po_aug_alone(tmp_path):
    """``zoo.po_aug_images`` picks po-aug's augmentations (the demo's: held-out ImageNet-C); switching
    it retrains the preference stages from the saved it, and po comes out bit for bit the same."""
    from vlmrobust.zoo import augment

    assert augment.po_aug_ops("own") is augment.AUGMENTATIONS
    assert set(augment.po_aug_ops("heldout-imagenet-c", ["brightness"])) == set(augment.HELDOUT_IMAGENET_C)
    with pytest.raises(ValueError, match="unknown value 'noise'"):
        augment.po_aug_ops("noise")
    quiet = {"progress": False, "log": lambda m: None}
    first = zoo.train(tmp_path / "z", {**TINY, "dir": "z"}, **quiet)
    own = zoo.train(tmp_path / "z", {**TINY, "dir": "z", "po_aug_images": "own"}, **quiet)
    assert own["upstream_reused_from"] == first["config_hash"] != own["config_hash"]
    assert own["stages"]["po"]["weights"] == first["stages"]["po"]["weights"]
    assert own["stages"]["po-aug"]["weights"] != first["stages"]["po-aug"]["weights"]
    assert "heldout-imagenet-c" in first["stages"]["po-aug"]["recipe"]["images"]
    assert "own" in own["stages"]["po-aug"]["recipe"]["images"]


def test_with_po_tower_trained_the_preference_stages_move_the_tower_and_nothing_else_differs(tmp_path):
    from safetensors.torch import load_file

    info = zoo.train(tmp_path / "z", {**TINY, "dir": "z", "po_tower": "trained"}, progress=False, log=lambda m: None)
    r, r_aug = info["stages"]["po"]["recipe"], info["stages"]["po-aug"]["recipe"]
    assert r["tower"] == "trained" and {k for k in r if r[k] != r_aug[k]} == {"images"}
    w = {st: load_file(tmp_path / "z" / st / "model.safetensors") for st in ("it", "po", "po-aug")}
    tower = [k for k in w["it"] if "vision_tower." in k]
    for st in ("po", "po-aug"):
        assert any(not torch.equal(w["it"][k], w[st][k]) for k in tower), f"{st}'s tower did not train"
    assert any(not torch.equal(w["po"][k], w["po-aug"][k]) for k in tower)


def test_goal_check_shows_each_severity_its_own_corrupted_image(monkeypatch):
    """Regression: the images were keyed by (item, corruption), so every severity got the last one's."""
    import hashlib
    from types import SimpleNamespace

    from vlmrobust.zoo import goal_check as gc

    seen = {}

    def fake_generate(lm, images, texts, max_new_tokens, n_options=None):
        for im in images:
            seen.setdefault(lm.name, set()).add(hashlib.sha256(im.tobytes()).hexdigest())
        return [{"response": "red"} for _ in images]

    monkeypatch.setattr(gc.models, "load", lambda name, spec, run, device: SimpleNamespace(
        name=name, model=None, processor=None, prompt_style=spec["prompt_style"], family="gemma3"))
    monkeypatch.setattr(gc.prompts, "build", lambda *a, **k: "question")
    monkeypatch.setattr(gc.inference, "generate_batch", fake_generate)
    p = params.load("params/smoke.yaml", {"inference": {"vision_cache_mb": 0}})  # severities 1 and 5
    ev = gc.evaluate(p, progress=False)
    n_items = p["zoo"]["eval_items"] * len(zoo.TASKS)
    assert set(ev.loc[ev["model"] == "it", "severity"]) == {0, 1, 5}
    assert len(seen["zoo-it"]) == n_items * (1 + 4 * 2)  # clean + 4 corruptions x 2 severities, all distinct


def _planted_ev(n: int = 20) -> "pd.DataFrame":
    """A goal-check frame with a known effect: every model is right on every clean item; under each
    of two corruptions `it` and `po` lose the first 4 x severity of the 20 items of each task
    (0.2, 0.6, 1.0 at severities 1, 3, 5), `po-aug` the first 2 x severity (half as many)."""
    import pandas as pd

    rows = []
    for d in zoo.TASKS:
        for i in range(n):
            base = {"dataset": d, "sample_id": f"{d[:3]}{i}", "question_type": "colour", "n_options": 0,
                    "format_ok": True, "response": "red"}
            for m in ("pt", "it", "po", "po-aug"):
                for v in ("concise", "plain"):
                    rows.append({**base, "model": m, "corruption": "none", "severity": 0, "prompt_variant": v,
                                 "score": 1.0})
                if m == "pt":
                    continue
                for c in ("gaussian_noise", "defocus_blur"):
                    for s in (1, 3, 5):
                        lost = i < (2 if m == "po-aug" else 4) * s
                        rows.append({**base, "model": m, "corruption": c, "severity": s, "prompt_variant": "concise",
                                     "score": 0.0 if lost else 1.0})
    return pd.DataFrame(rows)


def test_accuracy_lost_recovers_a_planted_halving_per_severity():
    lost = zoo.accuracy_lost(_planted_ev(), n_boot=200).set_index(["model", "severity"])
    assert lost.loc[("it", 1), "accuracy_lost"] == pytest.approx(0.2)
    assert lost.loc[("po", 3), "accuracy_lost"] == pytest.approx(0.6)
    assert lost.loc[("it", 5), "accuracy_lost"] == pytest.approx(1.0)
    assert lost.loc[("po-aug", 1), "accuracy_lost"] == pytest.approx(0.1)
    assert lost.loc[("po-aug", 5), "accuracy_lost"] == pytest.approx(0.5)
    assert (lost["ci_lo"] <= lost["accuracy_lost"] + 1e-12).all() and (lost["ci_hi"] >= lost["accuracy_lost"] - 1e-12).all()
    assert lost.loc[("po-aug", 3), "ci_hi"] < lost.loc[("it", 3), "ci_lo"]  # resampling items keeps them apart


def test_planted_difference_is_paired_over_items():
    """po-aug loses 0.1/0.3/0.5 less than po on the planted frame; it and po lose the same items, so
    their paired difference is exactly zero in every resample (an unpaired bootstrap would not be)."""
    ev = _planted_ev()
    d = zoo.planted_difference(ev, n_boot=200).set_index("severity")
    assert list(d.index) == [1, 3, 5] and set(d["contrast"]) == {"po-aug - po"}
    assert d["difference"].tolist() == pytest.approx([-0.1, -0.3, -0.5])
    assert (d["ci_hi"] < 0).all() and (d["ci_lo"] <= d["difference"]).all()
    same = zoo.planted_difference(ev, base="it", treated="po", n_boot=200)
    assert (same[["difference", "ci_lo", "ci_hi"]].abs().to_numpy() < 1e-12).all()

def test_controls_pool_the_four_tasks_in_a_last_row_that_the_goals_do_not_count():
    ev = _planted_ev()
    p = params.load("params/demo.yaml")
    ctl = zoo.controls(ev, p).set_index(["pair", "dataset"])
    # per task and pooled: po-aug adds half the error it adds, po exactly as much
    for d in (*zoo.TASKS, zoo.POOLED):
        assert ctl.loc[("Z2", d), "degradation_ratio"] == pytest.approx(0.5)
        assert ctl.loc[("Z0", d), "degradation_ratio"] == pytest.approx(1.0)
    assert ctl.loc[("Z2", zoo.POOLED), "degradation_hi"] < 1
    assert ctl.loc[("Z0", zoo.POOLED), "degradation_lo"] == pytest.approx(1.0)  # identical models: no spread
    assert (ctl.loc["Z2", "control"] == "positive").all()



def test_the_controls_are_judged_by_the_degradation_endpoint_per_task():
    """On the planted frame it loses 0.6 of its accuracy on average over the conditions and po-aug 0.3:
    the endpoint is +0.3 on every task (detected), and it and po lose the same items (exactly 0)."""
    ev = _planted_ev()
    p = params.load("params/demo.yaml")
    ep = zoo.endpoint(ev, p).set_index(["pair", "dataset"])
    for d in zoo.TASKS:
        assert ep.loc[("Z2", d), "estimate"] == pytest.approx(0.3) and ep.loc[("Z2", d), "ci_lo"] > 0
        assert ep.loc[("Z0", d), "estimate"] == 0 and ep.loc[("Z0", d), "ci_hi"] == 0
    assert ep.loc[("Z2", "synth-vqa"), "control"] == "positive" and ep.loc[("Z2", "synth-vqa"), "n_items"] == 20
    v = zoo.control_verdicts(ep.reset_index())
    assert v["positive"]["above_0"] == 4 and v["positive"]["detected"]
    assert v["negative"]["contain_0"] == 4 and not v["negative"]["detected"]  # the pooled row is not a task
    g = zoo.goals(ev, p).set_index("goal")
    pos = g[g.index.str.startswith("positive control Z2")]
    assert pos["measured"].iloc[0] == 4 and bool(pos["met"].iloc[0])
    assert (g["kind"] == "descriptive").sum() == 1 and g.loc[g["kind"] == "descriptive", "met"].isna().all()


def test_safety_recipe_teaches_it_and_pairs_po_while_pt_never_sees_it(tmp_path):
    """it ends with a safety phase; po's and po-aug's pairs include synth-safety's (refusal preferred on
    harmful requests, the answer on benign ones, the right probe answer); with no safety items none of it."""
    from vlmrobust.data import safety

    info = zoo.train(tmp_path / "zoo", {**TINY, "dir": str(tmp_path / "zoo")}, progress=False, log=lambda m: None)
    assert info["stages"]["it"]["safety"]["steps"] == 2 and info["stages"]["it"]["safety"]["rows"] == 8
    assert "safety" not in info["stages"]["pt"]
    assert "safety_preference_examples" in info["stages"]["po"]["recipe"]["pairs"]
    cfg = params.zoo_config(TINY)
    proc = zoo.build_processor(cfg)
    rows = zoo.safety_training_items(cfg)
    assert len(rows) == 8 and set(rows["split"]) == {"train"}
    pairs = zoo.safety_preference_examples(rows, proc)
    for r, e in zip(rows.itertuples(), pairs):
        if r.expected == "refuse":
            assert e.target == safety.REFUSAL and e.rejected != safety.REFUSAL
        elif r.question_type == "probe":
            assert {e.target, e.rejected} == {"yes", "no"}
        else:
            assert e.target == r.answer and e.rejected == safety.REFUSAL
    sft = zoo.safety_sft_examples(rows, proc)
    assert [e.target for e in sft] == rows["answer"].tolist()
    mixed = zoo.preference_pairs(zoo.training_items(cfg), proc, random.Random(0), cfg, rows)
    recipe = zoo.preference_recipe(cfg, augmented=False)
    assert len(mixed) == recipe["examples"] == recipe["task_pairs"] + len(rows)  # on top of the task pairs
    assert recipe["steps"] * recipe["batch_size"] >= recipe["examples"]  # with the steps to see them
    assert sum(e.target == safety.REFUSAL for e in mixed) == (rows["expected"] == "refuse").sum()
    plain = zoo.train(tmp_path / "plain", {**TINY, "dir": str(tmp_path / "plain"), "safety_items": 0},
                      progress=False, log=lambda m: None)
    assert "safety" not in plain["stages"]["it"] and "safety" not in plain["stages"]["po"]["recipe"]["pairs"]
    assert plain["stages"]["it"]["weights"] != info["stages"]["it"]["weights"]
