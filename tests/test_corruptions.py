"""Corruptions: all 19 x 5 run; determinism in and across processes and pool vs sequential;
golden hashes under the pinned versions; resume after deletion or garbage; bad input."""

import io
import hashlib
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from vlmrobust import corruptions as C
from vlmrobust import data


@pytest.fixture(scope="module")
def small_image():
    rng = np.random.RandomState(0)
    img = (rng.rand(48, 48, 3) * 255).astype(np.uint8)
    img[10:30, 10:30] = (200, 30, 30)
    return img


def h(arr) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


def test_names_order_and_families():
    assert len(C.CORRUPTIONS) == 19 and C.CORRUPTIONS[0] == "gaussian_noise"
    assert C.CORRUPTIONS[14] == "jpeg_compression"
    assert C.CORRUPTIONS[15:] == ("speckle_noise", "gaussian_blur", "spatter", "saturate")
    assert sorted(c for cs in C.FAMILIES.values() for c in cs) == sorted(C.CORRUPTIONS)
    assert set(C.FAMILIES) == {"noise", "blur", "weather", "digital", "extra"}
    assert C.SUITES["pilot"] == ("gaussian_noise", "defocus_blur", "brightness", "jpeg_compression")
    assert len(C.SUITES["extended"]) == 11 and len(C.SUITES["imagenet-c"]) == 15
    assert len(C.SUITES["all"]) == 19


def test_all_19_by_5_run_and_keep_shape(small_image):
    for name in C.CORRUPTIONS:
        for s in range(1, 6):
            out = C.corrupt(small_image, name, s, seed=123)
            assert out.dtype == np.uint8 and out.shape == small_image.shape, (name, s)
    assert not np.array_equal(C.corrupt(small_image, "gaussian_noise", 5, 1), small_image)


def test_same_inputs_same_bytes_in_one_process_any_order(small_image):
    first = {n: h(C.corrupt(small_image, n, 3, seed=99)) for n in C.CORRUPTIONS}
    np.random.seed(12345)  # disturb the global RNG between calls
    second = {n: h(C.corrupt(small_image, n, 3, seed=99)) for n in reversed(C.CORRUPTIONS)}
    assert first == second


def test_seed_matters_for_random_corruptions(small_image):
    for name in ("gaussian_noise", "impulse_noise", "glass_blur", "spatter"):
        assert h(C.corrupt(small_image, name, 3, 1)) != h(C.corrupt(small_image, name, 3, 2)), name


SUBPROCESS_CODE = """
import hashlib, numpy as np
from vlmrobust import corruptions as C
rng = np.random.RandomState(0)
img = (rng.rand(48, 48, 3) * 255).astype(np.uint8); img[10:30, 10:30] = (200, 30, 30)
for n in ("gaussian_noise", "impulse_noise", "glass_blur", "frost", "elastic_transform"):
    print(n, hashlib.sha256(C.corrupt(img, n, 4, seed=7).tobytes()).hexdigest())
"""


def test_same_bytes_in_another_process(small_image):
    out = subprocess.run([sys.executable, "-c", SUBPROCESS_CODE], capture_output=True, text=True, check=True)
    theirs = dict(line.split() for line in out.stdout.strip().splitlines())
    ours = {n: h(C.corrupt(small_image, n, 4, seed=7)) for n in theirs}
    assert theirs == ours


# sha256 of corrupt(small_image, name, severity, seed=2024).tobytes() under the pinned
# numpy / scipy / scikit-image / opencv / Pillow / numba / imagecorruptions-imaug.
# A dependency upgrade that changes pixels fails here: re-check the fork, then update.
GOLDEN = {
    ("gaussian_noise", 3): "09765b4dacf34d3293af02707006bdbbf63a718a7f292f0119fcc68edd04a1ed",
    ("impulse_noise", 5): "de2303b29f29bde3ae981f1abe8a346c0cd4b0db4a82266af9c80b2ec7409b77",
    ("glass_blur", 2): "094a3dfded8b20bc29da243e07e8d7c2fcaf2bef43d23badc91b55c17f8f9b57",
    ("frost", 4): "5628f2e91041c287fe5c25e4c1b4863cd3e6a18623121f6129c3923427c412bc",
    ("jpeg_compression", 5): "3140e59d48c9a07667582dd7a8d724046d3e17557c66d9277a2e8002e233c687",
    ("zoom_blur", 1): "ee049f88c16d89cc8a1138362567a8e6bf076ee4a9cf3249223745a7241e86fc",
}


@pytest.mark.parametrize("name, severity", sorted(GOLDEN))
def test_golden_hashes_under_pinned_versions(small_image, name, severity):
    """Version-dependent by design: valid only under pyproject.toml's pins."""
    assert h(C.corrupt(small_image, name, severity, seed=2024)) == GOLDEN[(name, severity)], (
        "the pixels changed: is a pixel library (numpy, scipy, scikit-image, opencv, Pillow, numba, "
        "imagecorruptions-imaug) at another version than pyproject.toml pins?")


@pytest.mark.parametrize("name, severity", sorted(GOLDEN))
def test_stored_png_decodes_to_the_golden_pixels(small_image, name, severity):
    """The project's PNG level (chosen for speed) stays lossless: decoded pixels keep the golden hash."""
    from PIL import Image

    blob = C.encode(C.corrupt(small_image, name, severity, seed=2024), "png", 85)
    assert h(np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"))) == GOLDEN[(name, severity)]


def test_derive_seed_is_stable_and_32_bit():
    s = C.derive_seed(42, "synth-vqa", "eval-000001", "fog", 3)
    assert s == C.derive_seed(42, "synth-vqa", "eval-000001", "fog", 3)
    assert 0 <= s < 2 ** 32
    assert s != C.derive_seed(42, "synth-vqa", "eval-000001", "fog", 4)
    assert s == int.from_bytes(hashlib.sha256(b"42|synth-vqa|eval-000001|fog|3").digest()[:4], "little")


@pytest.mark.parametrize("args, match", [
    (("gaussian_nois", 3), "unknown corruption 'gaussian_nois' \\(did you mean 'gaussian_noise'"),
    (("fog", 0), "severity must be an integer 1-5, got 0"),
    (("fog", 6), "severity must be an integer 1-5, got 6"),
])
def test_bad_name_or_severity(small_image, args, match):
    with pytest.raises(C.CorruptionError, match=match):
        C.corrupt(small_image, *args, seed=0)


def test_too_small_or_not_rgb_images():
    with pytest.raises(C.CorruptionError, match="at least 32x32"):
        C.corrupt(np.zeros((16, 40, 3), np.uint8), "fog", 1, 0)
    with pytest.raises(C.CorruptionError, match="must be uint8"):
        C.corrupt(np.zeros((40, 40, 3), np.float32), "fog", 1, 0)
    with pytest.raises(C.CorruptionError, match="cannot be converted|shape"):
        C.corrupt(np.zeros((40, 40, 4), np.uint8), "fog", 1, 0)


def test_unknown_suite():
    with pytest.raises(C.CorruptionError, match="unknown corruption suite 'pilots'"):
        C.resolve_suite("pilots")


# --- generate ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def samples():
    return pd.concat([data.load_benchmark("synth-text", 3, seed=5),
                      data.load_benchmark("synth-vqa", 2, seed=5)], ignore_index=True)


SUITE = ("gaussian_noise", "impulse_noise", "glass_blur")


def test_generate_pool_equals_sequential_and_writes_manifest(samples, tmp_path):
    seq = C.generate(samples, tmp_path / "seq", SUITE, [1, 5], run_seed=1, workers=1, progress=False)
    par = C.generate(samples, tmp_path / "par", SUITE, [1, 5], run_seed=1, workers=2, progress=False)
    assert len(seq) == len(samples) * (1 + len(SUITE) * 2)
    assert list(seq["sha256"]) == list(par["sha256"])
    assert set(seq.columns) >= {"path", "sha256", "seed", "format", "corruption", "severity"}
    clean = seq[seq["corruption"] == "none"]
    assert (clean["severity"] == 0).all() and len(clean) == len(samples)
    on_disk = pd.read_parquet(tmp_path / "seq" / "manifest.parquet")
    assert list(on_disk["sha256"]) == list(seq["sha256"])
    for r in seq.itertuples():
        assert hashlib.sha256((tmp_path / "seq" / r.path).read_bytes()).hexdigest() == r.sha256


def test_resume_regenerates_only_missing_or_corrupt_files(samples, tmp_path):
    out = tmp_path / "g"
    first = C.generate(samples, out, ("gaussian_noise",), [3], run_seed=2, workers=1, progress=False)
    victim_deleted, victim_garbage, untouched = (out / p for p in first["path"].iloc[[1, 2, 3]])
    victim_deleted.unlink()
    victim_garbage.write_bytes(b"garbage")
    mtime = untouched.stat().st_mtime_ns
    again = C.generate(samples, out, ("gaussian_noise",), [3], run_seed=2, workers=1, progress=False)
    assert list(again["sha256"]) == list(first["sha256"])
    assert victim_deleted.exists()
    assert hashlib.sha256(victim_garbage.read_bytes()).hexdigest() == first["sha256"].iloc[2]
    assert untouched.stat().st_mtime_ns == mtime  # good files are not rewritten


def test_an_item_whose_image_changed_is_regenerated_even_though_its_files_verify(samples, tmp_path):
    """A redesigned dataset keeps its sample ids: the cached files still match the manifest's
    sha256, yet they were made from the old image. The source image's hash decides."""
    out = tmp_path / "g"
    key = ["dataset", "sample_id", "corruption"]
    first = C.generate(samples, out, ("gaussian_noise",), [3], run_seed=2, workers=1, progress=False).set_index(key)
    src = {(d, s): hashlib.sha256(bytes(i)).hexdigest() for d, s, i in samples[["dataset", "sample_id", "image"]].itertuples(index=False)}
    assert [src[k[:2]] for k in first.index] == list(first["source_sha256"])
    changed = samples.copy()
    changed.at[0, "image"] = bytes(samples.loc[1, "image"])  # item 0 now shows item 1's picture
    item0 = (samples.loc[0, "dataset"], samples.loc[0, "sample_id"])
    kept = out / first.loc[(samples.loc[2, "dataset"], samples.loc[2, "sample_id"], "gaussian_noise"), "path"]
    mtime = kept.stat().st_mtime_ns
    again = C.generate(changed, out, ("gaussian_noise",), [3], run_seed=2, workers=1, progress=False).set_index(key)
    mine = [k for k in again.index if k[:2] == item0]
    assert len(mine) == 2 and (again.loc[mine, "source_sha256"] == src[(samples.loc[1, "dataset"], samples.loc[1, "sample_id"])]).all()
    assert (again.loc[mine, "sha256"] != first.loc[mine, "sha256"]).all()  # made again from the new image
    others = [k for k in first.index if k[:2] != item0]
    assert (again.loc[others, "sha256"] == first.loc[others, "sha256"]).all()
    assert kept.stat().st_mtime_ns == mtime  # the unchanged items are not rewritten


def test_a_manifest_without_source_hashes_is_regenerated(samples, tmp_path):
    out = tmp_path / "g"
    first = C.generate(samples, out, ("gaussian_noise",), [3], run_seed=2, workers=1, progress=False)
    C.write_parquet(first.drop(columns="source_sha256"), out / "manifest.parquet")  # an older manifest
    kept = out / first["path"].iloc[0]
    mtime = kept.stat().st_mtime_ns
    again = C.generate(samples, out, ("gaussian_noise",), [3], run_seed=2, workers=1, progress=False)
    assert again["source_sha256"].notna().all() and list(again["sha256"]) == list(first["sha256"])
    assert kept.stat().st_mtime_ns != mtime

def test_jpeg_format_is_recorded(samples, tmp_path):
    m = C.generate(samples.iloc[:1], tmp_path, ("brightness",), [2], fmt="jpeg", quality=85,
                   workers=1, progress=False)
    assert (m["format"] == "jpeg").all() and (m["quality"] == 85).all()
    assert all(p.endswith(".jpg") for p in m["path"])


def test_bad_item_fails_before_the_pool_starts(samples, tmp_path):
    bad = samples.copy()
    bad.loc[1, "image"] = b"not an image"
    with pytest.raises(C.CorruptionError, match=f"item {bad.loc[1, 'dataset']}/{bad.loc[1, 'sample_id']}"):
        C.generate(bad, tmp_path, ("fog",), [1], workers=2, progress=False)
    assert not (tmp_path / "manifest.parquet").exists()


def test_worker_error_names_the_item_and_keeps_finished_files(samples, tmp_path, monkeypatch):
    victim = samples.loc[2, "sample_id"]
    real = C.run_job

    def flaky(job, *a, **k):
        if job.sample_id == victim:
            raise RuntimeError("simulated crash")
        return real(job, *a, **k)

    monkeypatch.setattr(C, "run_job", flaky)
    with pytest.raises(C.GenerationError, match=f"synth-text/{victim}: RuntimeError: simulated crash"):
        C.generate(samples, tmp_path, ("fog",), [1], workers=1, progress=False)
    kept = pd.read_parquet(tmp_path / "manifest.parquet")
    assert len(kept) == (len(samples) - 1) * 2 and victim not in set(kept["sample_id"])


def test_load_image_verifies_sha(samples, tmp_path):
    m = C.generate(samples.iloc[:1], tmp_path, ("fog",), [1], workers=1, progress=False)
    row = m.iloc[1]
    assert C.load_image(row, tmp_path).size == (224, 224)
    (tmp_path / row["path"]).write_bytes((tmp_path / m.iloc[0]["path"]).read_bytes())
    with pytest.raises(C.CorruptionError, match="sha256 does not match the manifest"):
        C.load_image(row, tmp_path)
