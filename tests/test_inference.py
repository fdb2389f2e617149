"""Inference on tiny random Gemma-3 checkpoints built here: load (fp32 and NF4) -> prompt ->
batched generate -> option probabilities -> store -> kill and resume -> batch-size invariance."""

import numpy as np
import pandas as pd
import pytest

from tinymodels import make_tiny_gemma3
from vlmrobust import artifacts, corruptions, data, inference, models, prompts


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return make_tiny_gemma3(tmp_path_factory.mktemp("ckpt") / "tiny")


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    spec = {"source": str(tiny_dir), "family": "gemma3", "prompt_style": "chat", "dtype": "float32",
            "quantization": "none"}
    return models.load("tiny", spec, "test")


@pytest.fixture(scope="module")
def run_setup(tmp_path_factory):
    """A run directory with samples and a manifest (2 items x 3 datasets, clean + 1 corruption)."""
    out = tmp_path_factory.mktemp("outputs")
    mp = pytest.MonkeyPatch()
    mp.setenv("VLMROBUST_OUTPUTS", str(out))
    samples = pd.concat([data.load_benchmark(d, 2, seed=1) for d in ("synth-vqa", "synth-mcq", "synth-text")],
                        ignore_index=True)
    artifacts.write_parquet(samples, artifacts.path("t", artifacts.SAMPLES))
    manifest = corruptions.generate(samples, out / "t" / "corruptions", ("gaussian_noise",), [3],
                                    workers=1, progress=False)
    yield {"out": out, "samples": samples, "manifest": manifest}
    mp.undo()


def test_loads_through_auto_classes_with_local_revision(tiny):
    assert type(tiny.model).__name__ == "Gemma3ForConditionalGeneration"
    assert type(tiny.processor).__name__ == "Gemma3Processor"
    assert tiny.revision.startswith("local-") and tiny.device == "cpu"
    assert tiny.processor.tokenizer.padding_side == "left"


def test_nf4_quantisation_on_cpu(tiny_dir):
    spec = {"source": str(tiny_dir), "family": "gemma3", "prompt_style": "chat", "dtype": "float32",
            "quantization": "nf4"}
    lm = models.load("tiny-nf4", spec, "test")
    assert "Linear4bit" in models.describe(lm)["linear_layers"]
    from PIL import Image

    out = inference.generate_batch(lm, [Image.new("RGB", (224, 224), "red")],
                                   [prompts.build(lm.processor, "chat", "gemma3", "What color?")], 4)
    assert isinstance(out[0]["response"], str) and 0 <= out[0]["new_tokens"] <= 4


def test_prompts_chat_and_completion(tiny):
    chat = prompts.build(tiny.processor, "chat", "gemma3", "What color is the circle?", concise=True)
    assert chat.startswith("<bos><start_of_turn>user\n<start_of_image>What color is the circle?\n"
                           + prompts.CONCISE) and chat.endswith("<start_of_turn>model\n")
    comp = prompts.build(tiny.processor, "completion", "gemma3", "How many?", concise=False)
    assert comp == "<start_of_image>Question: How many?\nAnswer:"
    mcq = prompts.question_text("Which?", ["cat", "dog"], hint="Look.")
    assert mcq == "Look.\nWhich?\nA. cat\nB. dog\n" + prompts.MCQ_INSTRUCTION
    assert prompts.variants_for("synth-vqa", ["concise", "plain"], ["synth-vqa"]) == ["concise", "plain"]
    assert prompts.variants_for("synth-mcq", ["concise", "plain"], ["synth-vqa"]) == ["concise"]


def test_chat_style_without_template_fails_before_weights_load(tmp_path):
    d = make_tiny_gemma3(tmp_path / "notemplate", chat_template=False)
    (d / "chat_template.jinja").unlink(missing_ok=True)
    with pytest.raises(models.ModelError, match="no chat template"):
        models.check("m", {"source": str(d), "prompt_style": "chat"}, "test")


def test_missing_local_checkpoint_and_uncached_hub_id(monkeypatch):
    with pytest.raises(models.ModelError, match="Train the demo zoo first"):
        models.check("zoo-it", {"source": "{run_dir}/zoo/it", "prompt_style": "chat"}, "nope")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(models.ModelError, match="not in the local Hugging Face cache.*models.qw.source"):
        models.check("qw", {"source": "Qwen/Qwen2-VL-2B-Instruct", "prompt_style": "chat"}, "x")
    with pytest.raises(models.ModelError, match="unresolved"):
        models.check("g7", {"source": "x", "prompt_style": "chat", "unresolved": "no such model"}, "x")


def test_quantization_check_rejects_unknown_device():
    with pytest.raises(models.ModelError, match="cannot run 'nf4' on device 'nodevice'"):
        models.check_quantization("nf4", "nodevice")


def test_option_probabilities(tiny, run_setup):
    s = run_setup["samples"]
    row = s[s["dataset"] == "synth-mcq"].iloc[0]
    img = corruptions.load_image(run_setup["manifest"].iloc[0], run_setup["out"] / "t" / "corruptions")
    text = prompts.build(tiny.processor, "chat", "gemma3", row["question"], list(row["options"]))
    out = inference.generate_batch(tiny, [img], [text], 3, [4])[0]
    assert out["option_letters"] == "ABCD"
    assert sum(out["option_probs"]) == pytest.approx(1.0, abs=1e-5)
    assert 0 < out["letter_mass"] <= 1
    ids = inference.letter_token_ids(tiny.processor.tokenizer, "ABCD")
    assert all(len(v) >= 1 for v in ids.values())


def test_batched_generation_equals_batch_size_one(tiny, run_setup):
    m, s = run_setup["manifest"], run_setup["samples"]
    root = run_setup["out"] / "t" / "corruptions"
    rows = m.merge(s[["dataset", "sample_id", "question", "options"]], on=["dataset", "sample_id"]).head(6)
    images = [corruptions.load_image(r, root) for _, r in rows.iterrows()]
    texts = [prompts.build(tiny.processor, "chat", "gemma3", r["question"], list(r["options"]), concise=True)
             for _, r in rows.iterrows()]
    nopts = [len(r["options"]) for _, r in rows.iterrows()]
    assert len(set(map(len, texts))) > 1  # different lengths -> real left padding
    batched = inference.generate_batch(tiny, images, texts, 6, nopts)
    single = [inference.generate_batch(tiny, [im], [t], 6, [k])[0] for im, t, k in zip(images, texts, nopts)]
    assert [b["response"] for b in batched] == [x["response"] for x in single]
    for b, x in zip(batched, single):
        if b["option_probs"] is not None:
            assert np.allclose(b["option_probs"], x["option_probs"], atol=1e-4)


def test_plan_and_shards(run_setup):
    s, m = run_setup["samples"], run_setup["manifest"]
    full = inference.plan(s, m, ["concise", "plain"], ["synth-vqa", "synth-text"])
    # vqa and text: 2 items x 2 conditions x 2 variants; mcq: 2 x 2 x 1
    assert len(full) == 2 * 2 * 2 * 2 + 2 * 2
    parts = [inference.plan(s, m, ["concise", "plain"], ["synth-vqa", "synth-text"], f"{i}/3") for i in range(3)]
    keys = [set(map(tuple, p[inference.ITEM_KEY].itertuples(index=False))) for p in parts]
    assert sum(len(k) for k in keys) == len(full)
    assert set().union(*keys) == set(map(tuple, full[inference.ITEM_KEY].itertuples(index=False)))
    with pytest.raises(inference.InferenceError):
        inference.parse_shard("3/3")


class Killed(Exception):
    pass


def test_store_kill_and_resume_without_duplicates(tiny, run_setup, tmp_path):
    s, m = run_setup["samples"], run_setup["manifest"]
    work = inference.plan(s, m, ["concise", "plain"], ["synth-vqa", "synth-text"])
    store = inference.PredictionStore(tmp_path / "pred", "tiny")
    root = run_setup["out"] / "t" / "corruptions"

    def die(n):
        if n == 2:
            raise Killed

    with pytest.raises(Killed):
        inference.run_model(tiny, work, store, root, batch_size=3, max_new_tokens=3, chunk_size=3,
                            progress=False, after_chunk=die)
    partial = store.read()
    assert 0 < len(partial) < len(work)
    (store.root / "synth-mcq").mkdir(parents=True, exist_ok=True)
    (store.root / "synth-mcq" / ".part-x.parquet.tmp123").write_bytes(b"half a file")  # killed mid-write
    stats = inference.run_model(tiny, work, store, root, batch_size=3, max_new_tokens=3, chunk_size=3,
                                progress=False)
    assert stats["already_done"] == len(partial)
    df = store.read()
    assert len(df) == len(work) and not df.duplicated(inference.KEY).any()
    assert set(df.columns) >= {"prompt", "response", "response_raw", "generation", "new_tokens", "latency_s", "image_sha256", "revision",
                               "option_probs", "letter_mass", "dtype", "quantization", "backend"}
    assert df.loc[df["dataset"] == "synth-mcq", "option_probs"].notna().all()
    again = inference.run_model(tiny, work, store, root, 3, 3, 3, progress=False)
    assert again["run"] == 0


def test_predictions_made_on_a_replaced_image_are_dropped_and_made_again(tiny, run_setup, tmp_path):
    """Regenerated corrupted images (e.g. a redesigned dataset under the same sample ids) make the
    stored predictions of those keys stale: they leave the store and are predicted again."""
    s, m = run_setup["samples"], run_setup["manifest"]
    work = inference.plan(s, m, ["concise"], [])
    store = inference.PredictionStore(tmp_path / "pred", "tiny")
    root = run_setup["out"] / "t" / "corruptions"
    inference.run_model(tiny, work, store, root, 3, 3, 50, progress=False)
    before = store.read()
    # pretend two images were regenerated since: the manifest (hence the work) names other files
    moved = work.copy()
    for i, j in ((0, 1), (2, 3)):
        moved.loc[moved.index[i], ["path", "sha256"]] = work.loc[work.index[j], ["path", "sha256"]].to_numpy()
    stats = inference.run_model(tiny, moved, store, root, 3, 3, 50, progress=False)
    assert stats["stale_dropped"] == 2 and stats["run"] == 2 and stats["already_done"] == len(work) - 2
    after = store.read()
    assert len(after) == len(before) and not after.duplicated(inference.KEY).any()
    by_key = after.set_index(inference.ITEM_KEY)["image_sha256"]
    for i in (0, 2):
        k = tuple(moved.iloc[i][inference.ITEM_KEY])
        assert by_key.loc[k] == moved.iloc[i]["sha256"]
    again = inference.run_model(tiny, moved, store, root, 3, 3, 50, progress=False)
    assert again["run"] == 0 and again["stale_dropped"] == 0

def test_image_that_changed_since_the_manifest_is_refused(tiny, run_setup, tmp_path):
    import shutil

    root = tmp_path / "corr"
    shutil.copytree(run_setup["out"] / "t" / "corruptions", root)
    s, m = run_setup["samples"], run_setup["manifest"]
    work = inference.plan(s, m, ["concise"], [])
    victim = root / work.iloc[0]["path"]
    victim.write_bytes((root / work.iloc[1]["path"]).read_bytes())
    with pytest.raises(corruptions.CorruptionError, match="sha256 does not match the manifest"):
        inference.run_model(tiny, work, inference.PredictionStore(tmp_path / "p", "tiny"), root, 2, 2, 2,
                            progress=False)


def test_missing_manifest_is_reported_before_loading(outputs):
    import vlmrobust.params as P

    p = P.load("params/smoke.yaml")
    with pytest.raises(artifacts.MissingArtifact, match="run 01_corruptions"):
        inference.run(p, progress=False)


def test_text_variants_plan_only_their_severities_items_and_carry_their_line(run_setup):
    s, m = run_setup["samples"], run_setup["manifest"]
    text = {"variants": ["mislead", "truthful"], "severities": [0], "items": 1, "seed": 7}
    work = inference.plan(s, m, ["concise"], [], text=text)
    tv = work[work["prompt_variant"].isin(["mislead", "truthful"])]
    # 3 datasets x 1 item x clean only x 2 variants; the standard variant is untouched (2 x 3 x 2 conditions)
    assert len(tv) == 3 * 1 * 1 * 2 and (tv["severity"] == 0).all()
    assert len(work[work["prompt_variant"] == "concise"]) == 2 * 3 * 2
    assert tv["caption"].str.match(r"^(Caption|Hint): ").all() and tv["claim"].notna().all()
    assert (work.loc[work["prompt_variant"] == "concise", "caption"] == "").all()
    assert work.attrs["text_skipped"] == {(d, v): 0 for d in s["dataset"].unique() for v in text["variants"]}
    # default severities: clean and the highest the manifest has
    work = inference.plan(s, m, ["concise"], [], text={**text, "severities": None, "items": None})
    assert sorted(work.loc[work["prompt_variant"] == "mislead", "severity"].unique()) == [0, 3]


def test_text_variant_prompt_puts_the_line_first_on_the_concise_prompt(tiny, run_setup):
    r = run_setup["samples"].iloc[0]
    line = "Caption: The square is blue."
    text = prompts.build(tiny.processor, "chat", "gemma3", r["question"], [], concise=prompts.is_concise("mislead"),
                         caption=line)
    assert line + "\n" + r["question"] in text and prompts.CONCISE in text
    assert prompts.is_concise("truthful") and not prompts.is_concise("plain")


def _image(data: bytes):
    import io

    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")


def _load_dir(path, style="chat"):
    spec = {"source": str(path), "family": "gemma3", "prompt_style": style, "dtype": "float32",
            "quantization": "none"}
    return models.load("tiny", spec, "test")


@pytest.fixture(scope="module")
def bos_adding_dir(tmp_path_factory):
    """The tiny Gemma-3 with a tokenizer that adds BOS by itself, as gemma-3-4b-it's does."""
    from transformers import AutoProcessor

    d = make_tiny_gemma3(tmp_path_factory.mktemp("bos"))
    proc = AutoProcessor.from_pretrained(d)
    proc.tokenizer.add_bos_token = True
    proc.save_pretrained(d)
    return d


@pytest.mark.parametrize("style", ["chat", "completion"])
def test_exactly_one_bos_at_the_start(bos_adding_dir, run_setup, style):
    lm = _load_dir(bos_adding_dir, style)
    tok = lm.processor.tokenizer
    assert prompts.adds_bos(tok)
    seen = []
    generate = lm.model.generate

    def spy(**kw):
        seen.append(kw["input_ids"])
        return generate(**kw)

    lm.model.generate = spy
    rows = run_setup["samples"].head(2)
    texts = [prompts.build(lm.processor, style, "gemma3", q, concise=True) for q in rows["question"]]
    if style == "chat":
        assert texts[0].startswith(tok.bos_token)  # the template writes one, the tokenizer adds one
    inference.generate_batch(lm, [_image(b) for b in rows["image"]], texts, 2)
    for ids in seen[0].tolist():
        ids = [i for i in ids if i != tok.pad_token_id]  # left padding
        assert ids[0] == tok.bos_token_id and ids.count(tok.bos_token_id) == 1


def test_a_checkpoints_generation_config_does_not_change_decoding(tiny_dir, tmp_path, run_setup):
    """Qwen2-VL's hub generation_config sets repetition_penalty 1.05; sampling settings exist too.
    Decoding must be the same greedy for every checkpoint whatever its file says."""
    import shutil

    from transformers import GenerationConfig

    odd = tmp_path / "odd"
    shutil.copytree(tiny_dir, odd)
    GenerationConfig(repetition_penalty=3.0, no_repeat_ngram_size=1, do_sample=True, top_k=2, temperature=5.0,
                     max_new_tokens=1).save_pretrained(odd)
    rows = run_setup["samples"].head(3)
    images = [_image(b) for b in rows["image"]]
    texts = [prompts.build(_load_dir(tiny_dir).processor, "chat", "gemma3", q, concise=True) for q in rows["question"]]
    plain = inference.generate_batch(_load_dir(tiny_dir), images, texts, 8)
    odd_out = inference.generate_batch(_load_dir(odd), images, texts, 8)
    assert [o["response_raw"] for o in odd_out] == [o["response_raw"] for o in plain]
    assert [o["new_tokens"] for o in odd_out] == [o["new_tokens"] for o in plain]
    settings = inference.generation_settings(8, "chat")
    assert '"repetition_penalty": 1.0' in settings and '"do_sample": false' in settings


def test_completion_answers_end_at_the_first_newline():
    run_on = " a red circle\nQuestion: What color is the square?\nAnswer: blue"
    assert prompts.answer_text(run_on, "completion") == "a red circle"
    assert prompts.answer_text(run_on, "chat") == run_on.strip()
    assert prompts.answer_text("\nB", "completion") == "B"  # a base model that starts on a new line
    assert prompts.answer_text("\n \n", "completion") == ""  # nothing but blank lines: no answer


def test_a_broken_torchvision_is_named_before_anything_loads(tmp_path, monkeypatch):
    """The CUDA torchvision beside a CPU torch fails to import and breaks every processor import."""
    import sys

    fake = tmp_path / "torchvision"
    fake.mkdir()
    (fake / "__init__.py").write_text('raise RuntimeError("operator torchvision::nms does not exist")\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "torchvision", raising=False)
    with pytest.raises(models.ModelError, match="torchvision is installed but cannot be imported.*pip uninstall"):
        models.check("zoo-it", {"source": "google/gemma-3-4b-it", "prompt_style": "chat"}, "test", "cpu")


def test_a_gated_repository_is_not_reported_as_missing_from_the_cache(monkeypatch):
    from huggingface_hub.errors import GatedRepoError
    from transformers import AutoProcessor

    def gated(*a, **k):  # what huggingface_hub raises for a gated repo, wrapped by transformers
        err = GatedRepoError.__new__(GatedRepoError)
        OSError.__init__(err, "401 Client Error. Cannot access gated repo for url https://huggingface.co/...")
        raise OSError("You are trying to access a gated repo. Make sure to have access to it.") from err

    monkeypatch.setattr(AutoProcessor, "from_pretrained", gated)
    with pytest.raises(models.ModelError, match="gated repository.*hf auth login") as e:
        models.check("g", {"source": "google/gemma-3-4b-it", "prompt_style": "chat"}, "test", "cpu")
    assert "local Hugging Face cache" not in str(e.value)


def _images():
    from PIL import Image

    return [Image.new("RGB", (224, 224), "red")]


def _scripted(lm, script: list[int]):
    """Make the model's next token follow ``script`` (position k after the prompt -> script[k]) whatever
    its input, by overwriting its logits: a base model that never emits an end-of-sequence token."""
    import torch

    import functools

    forward = lm.model.forward
    state = {"prompt": None}

    @functools.wraps(forward)  # generate checks the forward's signature
    def scripted(*args, **kwargs):
        out = forward(*args, **kwargs)
        ids = kwargs.get("input_ids")
        if state["prompt"] is None or (ids is not None and ids.shape[1] > 1):
            state["prompt"], state["step"] = ids.shape[1], 0
        k = state["step"]
        state["step"] += 1
        logits = torch.full_like(out.logits, -1e4)
        logits[..., script[min(k, len(script) - 1)]] = 1e4
        out.logits = logits
        return out

    lm.model.forward = scripted
    return lambda: setattr(lm.model, "forward", forward)


def test_completion_prompts_stop_after_the_first_non_empty_line(tiny_dir):
    """A base model that would run on to max_new_tokens: a blank line, then 'red', a newline, then
    'blue' for ever. Generation stops right after 'red' and its newline; the answer is 'red'."""
    spec = {"source": str(tiny_dir), "family": "gemma3", "prompt_style": "completion", "dtype": "float32",
            "quantization": "none"}
    lm = models.load("tiny-pt", spec, "test")
    tok = lm.processor.tokenizer
    nl, red, blue = (tok.encode(t, add_special_tokens=False)[0] for t in ("\n", "red", "blue"))
    restore = _scripted(lm, [nl, red, nl, blue])
    try:
        text = prompts.build(lm.processor, "completion", "gemma3", "What color is it?", concise=True)
        out = inference.generate_batch(lm, [_images()[0]], [text], 64, [0])[0]
    finally:
        restore()
    assert out["response"] == "red" and out["new_tokens"] == 3 < 64
    assert out["response_raw"].strip() == "red"


def test_chat_prompts_are_not_cut_at_a_newline(tiny_dir, tiny):
    tok = tiny.processor.tokenizer
    nl, red = (tok.encode(t, add_special_tokens=False)[0] for t in ("\n", "red"))
    restore = _scripted(tiny, [red, nl, red])
    try:
        text = prompts.build(tiny.processor, "chat", "gemma3", "What color is it?", concise=True)
        out = inference.generate_batch(tiny, [_images()[0]], [text], 5, [0])[0]
    finally:
        restore()
    assert out["new_tokens"] == 5  # a chat turn ends at its end-of-turn token only


def test_an_out_of_memory_batch_is_halved_without_losing_or_repeating_an_item(tiny, run_setup, tmp_path,
                                                                              monkeypatch):
    """A fake allocator that fails on any batch of more than 2 items: run_model still answers every
    item exactly once, each with its own prompt."""
    import torch

    from vlmrobust.inference import running

    real = running.generate_batch
    sizes = []

    def flaky(lm, images, texts, max_new_tokens, n_options=None):
        sizes.append(len(texts))
        if len(texts) > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return [{**o, "response_raw": t} for o, t in zip(real(lm, images, texts, max_new_tokens, n_options), texts)]

    monkeypatch.setattr(running, "generate_batch", flaky)
    s, m = run_setup["samples"], run_setup["manifest"]
    work = inference.plan(s, m, ["concise"], [])
    store = inference.PredictionStore(tmp_path / "pred", "tiny")
    stats = inference.run_model(tiny, work, store, run_setup["out"] / "t" / "corruptions", batch_size=5,
                                max_new_tokens=2, chunk_size=64, progress=False)
    df = store.read()
    assert stats["run"] == len(work) == len(df) and not df.duplicated(inference.KEY).any()
    assert (df["response_raw"] == df["prompt"]).all()  # each answer is its own item's
    assert max(sizes) > 2 and 2 in sizes  # each batch tried whole, then halved


def test_other_errors_are_not_retried(tiny):
    from vlmrobust.inference import running

    def broken(*a, **k):
        raise ValueError("a bug, not memory")

    import unittest.mock

    with unittest.mock.patch.object(running, "generate_batch", broken), pytest.raises(ValueError, match="a bug"):
        running.generate_with_backoff(tiny, [1, 2], ["a", "b"], 2, [0, 0])


def test_pixels_reach_the_tower_in_its_dtype_under_nf4(tiny_dir, monkeypatch):
    """Under NF4 the quantized weights are uint8 and the model's dtype says little: the pixels are cast to
    the dtype the vision tower computes in (its norms'), and the modules named in quantize_skip stay
    unquantized and are recorded."""
    from PIL import Image

    from vlmrobust.inference import generation

    spec = {"source": str(tiny_dir), "family": "gemma3", "prompt_style": "chat", "dtype": "float32",
            "quantization": "nf4", "quantize_skip": ["model.vision_tower", "model.multi_modal_projector"]}
    lm = models.load("tiny-nf4-skip", spec, "test")
    kinds = {n.split(".")[1]: type(mod).__name__ for n, mod in lm.model.named_modules()
             if type(mod).__name__ in ("Linear", "Linear4bit") and n.count(".") > 1}
    assert kinds["vision_tower"] == "Linear" and kinds["language_model"] == "Linear4bit"
    assert lm.quantization_skip == "model.vision_tower, model.multi_modal_projector, lm_head"
    seen = {}
    real = lm.model.generate

    def spy(**kwargs):
        seen["dtype"] = kwargs["pixel_values"].dtype
        return real(**kwargs)

    monkeypatch.setattr(lm.model, "generate", spy)
    inference.generate_batch(lm, [Image.new("RGB", (224, 224), "red")],
                             [prompts.build(lm.processor, "chat", "gemma3", "What color?")], 2)
    assert seen["dtype"] == generation.vision_dtype(lm.model)
