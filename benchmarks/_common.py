"""Helpers shared by the benchmark scripts: machine facts and JSON output."""

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    from vlmrobust.provenance import cpu_model

    return {"cpu": cpu_model() or platform.processor() or "unknown", "cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(),
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def write(name: str, result: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "machine": machine(), **result}, indent=2))
    print(json.dumps(result, indent=2))
    print(f"-> {path}")
    return path
