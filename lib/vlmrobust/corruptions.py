"""The 19 ImageNet-C corruptions, made deterministic, and their pre-generation.

Implementation: the maintained ``imagecorruptions-imaug`` fork (import name
``imagecorruptions``); PyPI's ``imagecorruptions`` 1.1.2 breaks on numpy 2 and
scikit-image >= 0.19. Where the fork differs from Hendrycks' original code:

- ``frost``: the frost texture is always upscaled x1.1 before cropping and all six
  textures are used (the original never draws ``frost6``): pixels differ.
- ``elastic_transform``: the random affine is gone and sigma/alpha scale with the
  image size: severities 1-2 are much milder than ImageNet-C's.
- ``motion_blur``/``snow``: numpy re-implementations of ImageMagick's motion blur,
  within 1-2 grey levels of the original.
- All constants are the 224x224 ImageNet constants, applied at any size; images
  are therefore resized/centre-cropped to 224x224 first (``benchmark.image_size``).

Randomness (the traps, and how they are closed here):

- 15 corruptions draw from numpy's *global* legacy RNG: we call
  ``np.random.seed(seed)`` immediately before each one.
- ``impulse_noise`` (scikit-image ``Generator``) and ``glass_blur`` (numba's own
  RNG) ignore ``np.random.seed``: they get ``seed=`` explicitly.
- Threads share the global RNG, so parallelism uses processes, never threads.
- Each seed is derived from (run seed, dataset, sample id, corruption, severity)
  with SHA-256 (``derive_seed``), never Python's salted ``hash()``: the same
  inputs give the same bytes in any process and any order.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from PIL import Image

from .progress import bar as progress_bar
from .artifacts import write_bytes, write_parquet

CORRUPTIONS: tuple[str, ...] = (
    # the 15 ImageNet-C benchmark corruptions, in the benchmark's order
    "gaussian_noise", "shot_noise", "impulse_noise",
    "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
    "snow", "frost", "fog", "brightness",
    "contrast", "elastic_transform", "pixelate", "jpeg_compression",
    # the 4 held-out "validation" corruptions
    "speckle_noise", "gaussian_blur", "spatter", "saturate",
)

FAMILIES: dict[str, tuple[str, ...]] = {
    "noise": ("gaussian_noise", "shot_noise", "impulse_noise"),
    "blur": ("defocus_blur", "glass_blur", "motion_blur", "zoom_blur"),
    "weather": ("snow", "frost", "fog", "brightness"),
    "digital": ("contrast", "elastic_transform", "pixelate", "jpeg_compression"),
    "extra": ("speckle_noise", "gaussian_blur", "spatter", "saturate"),
}

FAMILY_OF: dict[str, str] = {c: f for f, cs in FAMILIES.items() for c in cs}

SUITES: dict[str, tuple[str, ...]] = {
    # the paper's shared pilot suite: one corruption per ImageNet-C family
    "pilot": ("gaussian_noise", "defocus_blur", "brightness", "jpeg_compression"),
    # the paper's Qwen2-VL extension (Section 4.7), in ImageNet-C order
    "extended": ("gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "zoom_blur",
                 "fog", "brightness", "contrast", "elastic_transform", "pixelate",
                 "jpeg_compression"),
    "imagenet-c": CORRUPTIONS[:15],
    "all": CORRUPTIONS,
}

CLEAN = "none"  # corruption name of the clean image in the manifest (severity 0)
_OWN_SEED = ("impulse_noise", "glass_blur")  # ignore np.random.seed; take seed=
MIN_SIZE = 32


class CorruptionError(ValueError):
    """Bad corruption input (name, severity, image), raised before any work starts."""


def resolve_suite(suite: str | Sequence[str]) -> tuple[str, ...]:
    """A suite name (``pilot``, ``extended``, ``imagenet-c``, ``all``) or a list of names."""
    if isinstance(suite, str):
        if suite in SUITES:
            return SUITES[suite]
        if suite in CORRUPTIONS:
            return (suite,)
        raise CorruptionError(f"unknown corruption suite {suite!r}; suites: {', '.join(SUITES)}")
    names = tuple(suite)
    for n in names:
        check_name(n)
    return names


def check_name(name: str) -> None:
    if name not in CORRUPTIONS:
        import difflib

        close = difflib.get_close_matches(name, CORRUPTIONS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CorruptionError(f"unknown corruption {name!r}{hint}")


def check_severity(severity: int) -> None:
    if isinstance(severity, bool) or not isinstance(severity, (int, np.integer)) or not 1 <= severity <= 5:
        raise CorruptionError(f"severity must be an integer 1-5, got {severity!r}")


def derive_seed(run_seed: int, dataset: str, sample_id: str, corruption: str, severity: int) -> int:
    """A 32-bit seed from the task's identity (stable across processes and machines).

    32 bits because ``np.random.seed`` and numba accept no more (numba silently
    truncates larger seeds).
    """
    key = f"{run_seed}|{dataset}|{sample_id}|{corruption}|{severity}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "little")


def to_rgb_array(image) -> np.ndarray:
    """PIL image, path, bytes or array -> uint8 HxWx3; clear error if impossible."""
    if isinstance(image, (str, os.PathLike)):
        image = Image.open(image)
    elif isinstance(image, (bytes, bytearray)):
        image = Image.open(io.BytesIO(image))
    if isinstance(image, Image.Image):
        try:
            image = np.asarray(image.convert("RGB"))
        except Exception as e:  # noqa: BLE001 - PIL raises many types
            raise CorruptionError(f"image cannot be converted to RGB: {e}") from None
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    if arr.ndim != 3 or arr.shape[2] not in (1, 3):
        raise CorruptionError(f"image must be HxW, HxWx1 or HxWx3, got shape {arr.shape}")
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if arr.dtype != np.uint8:
        raise CorruptionError(f"image must be uint8, got {arr.dtype}")
    h, w = arr.shape[:2]
    if h < MIN_SIZE or w < MIN_SIZE:
        raise CorruptionError(f"image is {w}x{h}; corruptions need at least {MIN_SIZE}x{MIN_SIZE} pixels")
    return np.ascontiguousarray(arr)


def corrupt(image, name: str, severity: int, seed: int) -> np.ndarray:
    """Corrupt ``image`` with corruption ``name`` at ``severity`` (1-5), deterministically.

    Same (image, name, severity, seed) -> same bytes, in any process and order.
    ``name == 'none'`` returns the clean image unchanged.
    """
    arr = to_rgb_array(image)
    if name == CLEAN:
        return arr.copy()
    check_name(name)
    check_severity(severity)
    import imagecorruptions  # imported lazily: numba makes it slow (~0.6 s)

    seed = int(seed) & 0xFFFFFFFF
    np.random.seed(seed)
    kwargs = {"seed": seed} if name in _OWN_SEED else {}
    out = imagecorruptions.corrupt(arr, severity=int(severity), corruption_name=name, **kwargs)
    return np.ascontiguousarray(out, dtype=np.uint8)


# ---------------------------------------------------------------------------
# pre-generation
# ---------------------------------------------------------------------------

MANIFEST_COLUMNS = ["dataset", "sample_id", "corruption", "family", "severity", "seed",
                    "path", "sha256", "source_sha256", "format", "quality", "width", "height"]


@dataclass(frozen=True)
class Job:
    """All conditions still to be generated for one benchmark item."""

    dataset: str
    sample_id: str
    image: bytes
    conditions: tuple[tuple[str, int], ...]  # (corruption, severity); ('none', 0) = clean


# zlib level of the pre-generated PNGs. PNG is lossless at every level (decoded pixels are the corrupted
# array, checked per image by benchmarks/png_levels.py); level 1 encodes 1.9x faster than 6 and decodes
# faster too, for files 5 % larger; level 0 (no compression) is faster still but 4x the disk (7 GB -> 28 GB
# for params/full.yaml), so 1.
PNG_LEVEL = 1


def encode(arr: np.ndarray, fmt: str, quality: int) -> bytes:
    buf = io.BytesIO()
    img = Image.fromarray(arr)
    if fmt == "png":
        img.save(buf, format="PNG", optimize=False, compress_level=PNG_LEVEL)
    elif fmt == "jpeg":
        img.save(buf, format="JPEG", quality=int(quality))
    else:
        raise CorruptionError(f"unknown image format {fmt!r}; use png or jpeg")
    return buf.getvalue()


def relpath(dataset: str, sample_id: str, corruption: str, severity: int, fmt: str) -> str:
    ext = "png" if fmt == "png" else "jpg"
    safe = str(sample_id).replace("/", "_")
    return f"{dataset}/{safe}/{corruption}_s{severity}.{ext}"


def _limit_threads() -> None:
    """One thread per worker: cv2/BLAS threads would fight the process pool."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        import cv2

        cv2.setNumThreads(1)
    except Exception:  # noqa: BLE001
        pass


def _worker_init(warm_glass: bool) -> None:
    _limit_threads()
    if warm_glass:  # pay glass_blur's numba JIT once per worker, not per task
        tiny = np.zeros((MIN_SIZE, MIN_SIZE, 3), np.uint8)
        for sev in (1, 3):
            corrupt(tiny, "glass_blur", sev, 0)


def run_job(job: Job, run_seed: int, out_dir: str, fmt: str, quality: int) -> list[dict]:
    """Generate one item's conditions; return their manifest rows (runs in a worker)."""
    src = to_rgb_array(job.image)
    source_sha256 = hashlib.sha256(job.image).hexdigest()
    rows = []
    for corruption, severity in job.conditions:
        seed = 0 if corruption == CLEAN else derive_seed(run_seed, job.dataset, job.sample_id,
                                                         corruption, severity)
        arr = corrupt(src, corruption, severity, seed)
        data = encode(arr, fmt, quality)
        rel = relpath(job.dataset, job.sample_id, corruption, severity, fmt)
        write_bytes(Path(out_dir) / rel, data)
        rows.append({
            "dataset": job.dataset, "sample_id": job.sample_id, "corruption": corruption,
            "family": FAMILY_OF.get(corruption, CLEAN), "severity": int(severity), "seed": seed,
            "path": rel, "sha256": hashlib.sha256(data).hexdigest(), "source_sha256": source_sha256, "format": fmt,
            "quality": int(quality) if fmt == "jpeg" else None,
            "width": int(arr.shape[1]), "height": int(arr.shape[0]),
        })
    return rows


class GenerationError(RuntimeError):
    """Some items failed; finished files and their manifest rows are kept."""


def conditions_for(suite: Sequence[str], severities: Iterable[int]) -> list[tuple[str, int]]:
    sev = sorted(set(int(s) for s in severities))
    for s in sev:
        check_severity(s)
    return [(CLEAN, 0)] + [(c, s) for c in suite for s in sev]


def sha256_file(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _prevalidate(samples: pd.DataFrame) -> None:
    for col in ("dataset", "sample_id", "image"):
        if col not in samples.columns:
            raise CorruptionError(f"samples table has no column {col!r}")
    for ds, sid, img in samples[["dataset", "sample_id", "image"]].itertuples(index=False):
        try:
            im = Image.open(io.BytesIO(img))
            w, h = im.size
            im.convert("RGB")
        except Exception as e:  # noqa: BLE001
            raise CorruptionError(f"item {ds}/{sid}: image cannot be decoded as RGB: {e}") from None
        if w < MIN_SIZE or h < MIN_SIZE:
            raise CorruptionError(f"item {ds}/{sid}: image is {w}x{h}, smaller than {MIN_SIZE} px")


def generate(samples: pd.DataFrame, out_dir: str | Path, suite: str | Sequence[str] = "pilot",
             severities: Iterable[int] = (1, 3, 5), run_seed: int = 42, fmt: str = "png",
             quality: int = 85, workers: int = 2, progress: bool = True,
             start_method: str | None = None) -> pd.DataFrame:
    """Pre-generate every (item, corruption, severity) plus the clean image.

    Writes images under ``out_dir`` and ``out_dir/manifest.parquet``; returns the
    manifest. Resumable: rows of an existing manifest whose file still has the
    recorded sha256 *and* whose source image is the item's current image
    (``source_sha256``) are kept; missing or mismatching files, and every condition
    of an item whose image changed since (a redesigned dataset keeps its sample ids),
    are regenerated. A manifest from before ``source_sha256`` was recorded is
    regenerated whole: nothing in it says which images its files were made from. The
    manifest is rewritten (atomically) as items finish, so a killed run loses at
    most the items in flight. All inputs are validated before the pool starts.
    """

    names = resolve_suite(suite)
    conds = conditions_for(names, severities)
    if fmt not in ("png", "jpeg"):
        raise CorruptionError(f"unknown image format {fmt!r}; use png or jpeg")
    _prevalidate(samples)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.parquet"

    # resume: keep the manifest rows whose files verify
    source_of = {(ds, str(sid)): hashlib.sha256(bytes(img)).hexdigest()
                 for ds, sid, img in samples[["dataset", "sample_id", "image"]].itertuples(index=False)}
    good: dict[tuple, dict] = {}
    if manifest_path.exists():
        old = pd.read_parquet(manifest_path)
        for row in old.to_dict("records"):
            if row["format"] != fmt or (fmt == "jpeg" and row["quality"] != quality):
                continue
            if row.get("source_sha256") != source_of.get((row["dataset"], str(row["sample_id"]))):
                continue  # made from another image than the item's current one (or not recorded)
            if sha256_file(out / row["path"]) == row["sha256"]:
                good[(row["dataset"], row["sample_id"], row["corruption"], int(row["severity"]))] = row

    jobs = []
    for ds, sid, img in samples[["dataset", "sample_id", "image"]].itertuples(index=False):
        todo = tuple(c for c in conds if (ds, str(sid), c[0], c[1]) not in good)
        if todo:
            jobs.append(Job(ds, str(sid), bytes(img), todo))
    wanted = {(ds, str(sid), c, s) for ds, sid in samples[["dataset", "sample_id"]].itertuples(index=False)
              for c, s in conds}
    rows = [r for k, r in good.items() if k in wanted]

    def flush():
        df = pd.DataFrame(rows, columns=MANIFEST_COLUMNS).sort_values(
            ["dataset", "sample_id", "corruption", "severity"]).reset_index(drop=True)
        write_parquet(df, manifest_path)
        return df

    errors: list[str] = []
    n_tasks = sum(len(j.conditions) for j in jobs)
    bar = progress_bar(total=n_tasks, desc="corrupting", unit="img", disable=not progress)
    last_flush = time.monotonic()
    if workers <= 1 or len(jobs) <= 1:
        _limit_threads()
        for job in jobs:
            try:
                rows.extend(run_job(job, run_seed, str(out), fmt, quality))
            except Exception as e:  # noqa: BLE001
                errors.append(f"{job.dataset}/{job.sample_id}: {type(e).__name__}: {e}")
            bar.update(len(job.conditions))
    else:
        import multiprocessing as mp

        ctx = mp.get_context(start_method) if start_method else None
        warm = "glass_blur" in names
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                 initargs=(warm,)) as pool:
            futures = {pool.submit(run_job, j, run_seed, str(out), fmt, quality): j for j in jobs}
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    rows.extend(fut.result())
                except BrokenProcessPool as e:
                    errors.append(f"{job.dataset}/{job.sample_id}: worker died ({e})")
                except Exception as e:  # noqa: BLE001
                    errors.append(f"{job.dataset}/{job.sample_id}: {type(e).__name__}: {e}")
                bar.update(len(job.conditions))
                if time.monotonic() - last_flush > 10:
                    flush()
                    last_flush = time.monotonic()
    bar.close()
    manifest = flush()
    if errors:
        raise GenerationError(f"{len(errors)} item(s) failed; {len(manifest)} finished images kept "
                              f"in {manifest_path}:\n  " + "\n  ".join(errors[:20]))
    return manifest


def load_image(manifest_row, root: str | Path, verify: bool = True) -> Image.Image:
    """Open a manifest image; with ``verify`` the file's sha256 must match the manifest."""
    path = Path(root) / manifest_row["path"]
    data = path.read_bytes()
    if verify and hashlib.sha256(data).hexdigest() != manifest_row["sha256"]:
        raise CorruptionError(f"{path}: sha256 does not match the manifest (file changed since "
                              f"generation); re-run the corruptions stage")
    return Image.open(io.BytesIO(data)).convert("RGB")
