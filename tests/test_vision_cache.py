"""vision_cache: the same predictions as without it, each image encoded once per tower, bounded memory."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from tinymodels import make_tiny_gemma3
from vlmrobust import inference, models, prompts, vision_cache


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    root = tmp_path_factory.mktemp("vc")
    return make_tiny_gemma3(root / "a", seed=0), make_tiny_gemma3(root / "b", seed=1)


def _load(path):
    return models.load("m", {"source": str(path), "family": "gemma3", "prompt_style": "chat", "dtype": "float32"},
                       "test", "cpu")


def _images(colours):
    out = []
    for c in colours:
        buf = io.BytesIO()
        Image.new("RGB", (224, 224), c).save(buf, format="PNG")
        out.append(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return out


def _run(lm, images):
    texts = [prompts.build(lm.processor, "chat", "gemma3", q, opts, concise=True)
             for q, opts in [("What color?", []), ("Which shape?", ["circle", "square"])] * (len(images) // 2)]
    return inference.generate_batch(lm, images, texts, 5, [len(o) for o in [[], [1, 2]] * (len(images) // 2)])


def test_cached_predictions_equal_uncached_and_each_image_is_encoded_once(ckpts):
    images = _images(["red", "navy", "red", "navy"])  # the batch itself repeats each image
    plain = _run(_load(ckpts[0]), images)
    cache = vision_cache.VisionCache(64)
    lm = _load(ckpts[0])
    assert vision_cache.attach(lm.model, cache)
    first = _run(lm, images)
    assert cache.stats()["misses"] == 2 and cache.stats()["hits"] == 0  # duplicates in a batch: once
    again = _run(lm, images)
    assert cache.stats()["misses"] == 2 and cache.stats()["hits"] == 4
    for a, b, c in zip(plain, first, again):
        assert a["response_raw"] == b["response_raw"] == c["response_raw"]
        if a["option_probs"]:
            assert np.allclose(a["option_probs"], b["option_probs"], atol=1e-6)
            assert np.allclose(a["option_probs"], c["option_probs"], atol=1e-6)


def test_a_second_model_with_the_same_tower_hits_and_another_tower_never_does(ckpts):
    cache = vision_cache.VisionCache(64)
    images = _images(["olive", "teal"])
    one, same, other = _load(ckpts[0]), _load(ckpts[0]), _load(ckpts[1])
    for lm in (one, same, other):
        vision_cache.attach(lm.model, cache)
    _run(one, images)
    _run(same, images)
    assert (cache.stats()["hits"], cache.stats()["misses"]) == (2, 2)
    plain_other = _run(_load(ckpts[1]), images)
    cached_other = _run(other, images)
    assert (cache.stats()["hits"], cache.stats()["misses"]) == (2, 4)  # different weights: no hit
    assert [r["response_raw"] for r in cached_other] == [r["response_raw"] for r in plain_other]


def test_calls_asking_for_more_than_the_last_state_bypass_the_cache(ckpts):
    cache = vision_cache.VisionCache(64)
    lm = _load(ckpts[0])
    vision_cache.attach(lm.model, cache)
    tower = vision_cache.find_tower(lm.model)
    px = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        out = tower(pixel_values=px, output_hidden_states=True)
    assert out.hidden_states is not None and cache.stats()["misses"] == 0


def test_memory_is_bounded_least_recently_used_first():
    cache = vision_cache.VisionCache(max_mb=3 / 1024)  # 3 KB: three 1 KB entries
    for i in range(4):
        cache.put(("t", str(i)), torch.zeros(256))  # 1 KB each
    assert cache.get(("t", "0")) is None and cache.get(("t", "3")) is not None
    assert cache.stats()["entries"] == 3 and cache.bytes <= cache.max_bytes
    cache.get(("t", "1"))  # 1 is now the most recently used: 2 goes first
    cache.put(("t", "4"), torch.zeros(256))
    assert cache.get(("t", "2")) is None and cache.get(("t", "1")) is not None
