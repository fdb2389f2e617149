"""Bounded loading of a hub-layout split: time and peak memory for n items as the split grows.

A VQAv2-like split in lmms-lab's Parquet layout (random-pixel PNGs, 64 px: ~12 KB each, row groups of 1,000) is written at
each size; ``data.load_benchmark`` then samples ``--n`` items from it in a fresh process, whose
peak resident memory (VmHWM, reset at the child's start) and wall time are recorded. Beside it, in the same run, the
previous approach: the whole split read into pandas with its images. Goal: peak memory
for n = 500 under 2 GB, and time growing with the split only through reading its id columns.

    python benchmarks/bounded_loading.py [--sizes 5000 50000] [--n 500]
    python benchmarks/bounded_loading.py --hub-only --publish   # bytes read through the hub's layout only

The hub part samples 50 rows of a split with VQAv2's row count through a filesystem that counts the bytes
read (paper mode's path, ``huggingface_hub.HfFileSystem``), for two ways of cutting it into row groups.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from _common import write  # noqa: E402
from hub_layout import write_vqav2_split  # noqa: E402

CHILD = """
import json, sys, time
# a child's ru_maxrss starts at its parent's high-water mark (the parent wrote the split); reset the
# kernel's VmHWM for this process and read it back at the end instead
open("/proc/self/clear_refs", "w").write("5")
def peak_mb():
    return int([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]) / 1024
t = time.perf_counter()
if sys.argv[1] == "bounded":
    from vlmrobust import data
    df = data.load_benchmark("vqav2", int(sys.argv[3]), seed=42, source={"path": sys.argv[2]})
    rows = len(df)
else:  # the previous approach: every file, images included, into pandas
    import glob, pandas as pd
    df = pd.concat([pd.read_parquet(f) for f in sorted(glob.glob(sys.argv[2] + "/data/*.parquet"))])
    rows = len(df)
print(json.dumps({"seconds": time.perf_counter() - t, "peak_rss_mb": peak_mb(),
                  "rows": rows}))
"""


def run(mode: str, root: Path, n: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(root), str(n)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bytes_read(root: Path, n: int, row_group: int) -> dict:
    """Sampling n rows through a filesystem in the hub's layout that counts bytes (the path paper mode
    takes with ``huggingface_hub.HfFileSystem``): bytes read against the split's size, and the parts a
    bounded read cannot avoid (footers, id columns, one row group per chosen row)."""
    import pyarrow.parquet as pq

    from hub_layout import CountingFileSystem
    from vlmrobust import data
    from vlmrobust.data import splits

    hub = root.parent / f"{root.name}-hub"
    (hub / "datasets" / "lmms-lab-encoder").mkdir(parents=True, exist_ok=True)
    (hub / "datasets" / "lmms-lab-encoder" / "VQAv2").symlink_to(root)
    fs = CountingFileSystem(hub)
    splits.hub_filesystem = lambda: fs
    df = data.load_benchmark("vqav2", n, seed=42, source={"id": "lmms-lab-encoder/VQAv2", "split": "validation"})
    files = sorted((root / "data").glob("*.parquet"))
    meta = [pq.ParquetFile(f).metadata for f in files]
    total = sum(f.stat().st_size for f in files)
    chosen = {int(s) for s in df["sample_id"]}
    touched, touched_bytes, first = 0, 0, 0
    for m in meta:  # the row groups that hold a chosen row, and their compressed bytes
        for g in range(m.num_row_groups):
            rg = m.row_group(g)
            ids = range(10_000_000 + first, 10_000_000 + first + rg.num_rows)  # hub_layout's question ids
            first += rg.num_rows
            if chosen.intersection(ids):
                touched += 1
                touched_bytes += sum(rg.column(c).total_compressed_size for c in range(rg.num_columns))
    groups = sum(m.num_row_groups for m in meta)
    overhead = fs.bytes_read - touched_bytes  # footers and the id column: fixed, whatever the images weigh
    photo = 160_000  # bytes per row of the real split (33.9 GB / 214,354 rows)
    return {"row_group_rows": row_group, "row_groups": groups, "row_groups_read": touched,
            "split_bytes": total, "bytes_read": fs.bytes_read, "fraction_read": round(fs.bytes_read / total, 4),
            "footer_bytes": sum(m.serialized_size for m in meta), "overhead_bytes": overhead,
            "fraction_of_row_groups": round(touched / groups, 4),
            "fraction_projected_160kb_rows": round((touched * row_group * photo + overhead)
                                                   / (sum(m.num_rows for m in meta) * photo), 4)}


def hub_bytes(tmp: Path, rows: int, row_groups: list[int], side: int, n: int) -> list[dict]:
    """Bytes read to sample ``n`` rows of a split of ``rows`` rows, for each row-group size: what a
    bounded read costs depends on how the split's files were written. older ``datasets`` releases wrote
    image datasets in row groups of 100 rows; ``datasets`` 5.2 (pinned) cuts them at about 100 MB, which is about
    630 rows of VQAv2's ~160 KB photos. A chosen row costs its whole row group, so the fraction read
    is about the share of row groups that hold a chosen row."""
    out = []
    for rg in row_groups:
        root = write_vqav2_split(tmp / f"hub-split-{rg}", rows=rows, files=max(1, rows // 53600), row_group=rg,
                                 side=side, noise=True)
        out.append({**bytes_read(root, n, rg), "rows": rows, "n": n})
        print(json.dumps(out[-1]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--side", type=int, default=64, help="image side in pixels (random pixels, ~12 KB at 64)")
    ap.add_argument("--hub-rows", type=int, default=214354, help="rows of the split whose hub reads are counted "
                    "(VQAv2's validation split has 214,354)")
    ap.add_argument("--hub-row-groups", type=int, nargs="+", default=[100, 630],
                    help="rows per row group to try (older datasets: 100 for images; 5.2: ~100 MB, ~630 VQAv2 rows)")
    ap.add_argument("--hub-side", type=int, default=16, help="image side for the hub split (its bytes per row do "
                    "not change the fraction much; small keeps the benchmark fast)")
    ap.add_argument("--hub-n", type=int, default=50)
    ap.add_argument("--hub-only", action="store_true", help="measure the hub bytes only")
    ap.add_argument("--publish", action="store_true",
                    help="also write the hub bytes to results/benchmarks/hub_bytes.json (quoted by the docs)")
    a = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in [] if a.hub_only else a.sizes:
            t = time.perf_counter()
            root = write_vqav2_split(Path(tmp) / f"v{size}", rows=size, files=max(1, size // 12500),
                                     side=a.side, noise=True)
            made = time.perf_counter() - t
            size_mb = sum(f.stat().st_size for f in (root / "data").glob("*.parquet")) / 2**20
            bounded = run("bounded", root, a.n)
            whole = run("whole", root, a.n)
            results.append({"split_rows": size, "parquet_mb": round(size_mb, 1), "n": a.n, "bounded": bounded,
                            "whole_split_in_pandas": whole, "write_seconds": round(made, 1)})
            print(json.dumps(results[-1]))
        hub = hub_bytes(Path(tmp), a.hub_rows, a.hub_row_groups, a.hub_side, a.hub_n)
    goal = f"sampling {a.hub_n} rows reads under 5 % of the split's bytes"
    if a.publish:
        from _common import machine

        path = HERE.parent / "results" / "benchmarks" / "hub_bytes.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"benchmark": "bounded_loading --hub-only", "machine": machine(), "goal": goal,
                                    "layouts": hub}, indent=1) + "\n")
        print(f"-> {path}")
    if a.hub_only:
        write("hub_bytes", {"layouts": hub, "goal": goal})
        return
    first, last = results[0], results[-1]
    write("bounded_loading", {
        "results": results, "hub_bytes": {"layouts": hub, "goal": goal},
        "time_ratio_largest_to_smallest": last["bounded"]["seconds"] / first["bounded"]["seconds"],
        "rows_ratio": last["split_rows"] / first["split_rows"],
        "peak_rss_mb_bounded_largest": last["bounded"]["peak_rss_mb"],
        "goal": "peak memory for n = 500 < 2048 MB; time grows with the split only by reading its id columns"})


if __name__ == "__main__":
    main()
