"""A local copy of a VQAv2-like split in the hub's Parquet layout, as large as a test or benchmark asks."""

import io
from pathlib import Path

import pandas as pd
from PIL import Image


def write_vqav2_split(root: Path, rows: int, files: int = 4, row_group: int = 1000, side: int = 24,
                      noise: bool = False) -> Path:
    """``rows`` questions over ``files`` Parquet files (row groups of ``row_group``), small PNGs (random
    pixels with ``noise``: incompressible, ~3 side^2 bytes each, like real photos per pixel), in
    ``root/data/validation-0000k-of-0000n.parquet`` as lmms-lab's VQAv2 repository lays them out."""
    import numpy as np

    rng = np.random.default_rng(0)
    d = root / "data"
    d.mkdir(parents=True, exist_ok=True)
    per = -(-rows // files)
    for k in range(files):
        ids = range(k * per, min(rows, (k + 1) * per))
        recs = []
        for i in ids:
            buf = io.BytesIO()
            im = (Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)) if noise else
                  Image.new("RGB", (side, side), (i % 251, (i // 251) % 251, 90)))
            im.save(buf, format="PNG", compress_level=1)
            recs.append({"question_id": 10_000_000 + i, "question": f"Is thing {i} red?", "answer_type": "yes/no",
                         "question_type": "is the", "multiple_choice_answer": "yes", "image_id": i,
                         "answers": [{"answer": "yes", "answer_confidence": "yes", "answer_id": j + 1} for j in range(10)],
                         "image": {"bytes": buf.getvalue(), "path": None}})
        pd.DataFrame(recs).to_parquet(d / f"validation-{k:05d}-of-{files:05d}.parquet", row_group_size=row_group)
    return root
