"""PNG compression level of the pre-generated corrupted images: encoding time, size, and losslessness.

Encoding is most of corruption generation's cost (the pool is 1.8x a sequential loop that
writes, 1.15x one that only corrupts). PNG is lossless at every level, so the level trades only time
against disk; this measures both on the demo's real images (the pilot suite at severities 1, 3, 5 on
the first items of each synthetic dataset), and checks for every image and level that the decoded
pixels hash to the corrupted array's hash (the golden-hash property the tests pin).

    python benchmarks/png_levels.py [--items 8] [--levels 0,1,2,3,6,9]
"""

import argparse
import hashlib
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from vlmrobust import corruptions as C  # noqa: E402
from vlmrobust import data  # noqa: E402


def pixel_hash(arr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=8, help="items per dataset")
    ap.add_argument("--levels", default="0,1,2,3,6,9")
    a = ap.parse_args()
    levels = [int(x) for x in a.levels.split(",")]
    samples = data.load_samples({"seed": 0, "benchmark": {
        "datasets": ["synth-spatial", "synth-vqa", "synth-text", "synth-mcq"], "n": a.items,
        "image_size": 224, "resize": "center_crop"}})
    arrays = []
    for r in samples.itertuples():
        src = C.to_rgb_array(r.image)
        arrays.append(src)
        for c, s in C.conditions_for(C.resolve_suite("pilot"), [1, 3, 5]):
            if c != "none":
                arrays.append(C.corrupt(src, c, s, C.derive_seed(0, r.dataset, r.sample_id, c, s)))
    golden = [pixel_hash(x) for x in arrays]
    out = {}
    for level in levels:
        t0 = time.perf_counter()
        blobs = []
        for x in arrays:
            buf = io.BytesIO()
            Image.fromarray(x).save(buf, format="PNG", optimize=False, compress_level=level)
            blobs.append(buf.getvalue())
        enc = time.perf_counter() - t0
        t0 = time.perf_counter()
        decoded = [pixel_hash(np.asarray(Image.open(io.BytesIO(b)).convert("RGB"))) for b in blobs]
        dec = time.perf_counter() - t0
        out[level] = {"encode_ms_per_image": round(enc / len(arrays) * 1000, 2),
                      "decode_ms_per_image": round(dec / len(arrays) * 1000, 2),
                      "kb_per_image": round(sum(map(len, blobs)) / len(blobs) / 1024, 1),
                      "pixels_identical": sum(d == g for d, g in zip(decoded, golden)), "images": len(arrays)}
    base = out[6]["encode_ms_per_image"] if 6 in out else None
    write("png_levels", {"images": len(arrays), "levels": out,
                         "encode_speedup_vs_level6": {lv: round(base / v["encode_ms_per_image"], 2)
                                                      for lv, v in out.items()} if base else None,
                         "project_level": C.PNG_LEVEL,
                         "goal": "fastest level whose decoded pixels equal the corrupted arrays (all of them)"})


if __name__ == "__main__":
    main()
