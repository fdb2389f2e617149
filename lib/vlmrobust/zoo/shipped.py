"""The trained demo zoo that ships with the compendium, and how a run gets its zoo.

Training the zoo takes about 20 minutes on two CPU cores, and two CPUs of one machine kind give
different weights (floating-point sums differ with the vector width), so a reader who trained
their own would get numbers that differ from the published ones by a few points. The compendium
therefore ships its trained checkpoints, as a research compendium ships its data:

    zoo-weights/<config hash>/{pt,it,po,po-aug}/   save_pretrained folders (weights, config, processor)
    zoo-weights/<config hash>/zoo.json             the training record (settings, losses, weights hashes)
    zoo-weights/<config hash>/SHA256SUMS           the digest of every file (``digests``)

``obtain`` is notebook 00's step: the shipped zoo whose config hash is the run's is checked file by
file and copied into the run's zoo folder, and its manifest travels with it, so every later load
checks it again (``models.check``). A digest mismatch stops the run with the file's name; it never
falls back to training. Only a recipe with no shipped zoo trains (``training.train``).

``ship`` replaces the shipped zoo after a recipe change (``make zoo-ship``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

from .. import digests, paths
from .config import STAGES, config_hash

ROOT = paths.ROOT / "zoo-weights"
RECORD = "zoo.json"


def shipped_dir(cfg: dict, root: Path = ROOT) -> Path | None:
    """The shipped zoo trained from ``cfg``'s settings (its config hash), or None when none ships."""
    d = Path(root) / config_hash(cfg)
    return d if (d / RECORD).is_file() and (d / digests.MANIFEST).is_file() else None


def _weights(folder: Path) -> dict | None:
    record = folder / RECORD
    if not record.is_file():
        return None
    return {s: v.get("weights") for s, v in json.loads(record.read_text()).get("stages", {}).items()}


def install(source: Path, zoo_dir: Path) -> dict:
    """Copy a shipped zoo into ``zoo_dir`` after checking every digest (and check the copy); returns
    its training record."""
    source, zoo_dir = Path(source), Path(zoo_dir)
    digests.verify(source)
    zoo_dir.mkdir(parents=True, exist_ok=True)
    for stage in STAGES:
        if (zoo_dir / stage).exists():
            shutil.rmtree(zoo_dir / stage)
        shutil.copytree(source / stage, zoo_dir / stage)
    for name in (RECORD, digests.MANIFEST):
        shutil.copy2(source / name, zoo_dir / name)
    digests.verify(zoo_dir)
    return json.loads((zoo_dir / RECORD).read_text())


def obtain(zoo_dir: str | Path, cfg: dict, log: Callable[[str], None] = print, root: Path = ROOT) -> tuple[dict, str]:
    """The run's zoo in ``zoo_dir``: (training record, how) with ``how`` one of

    - ``"shipped"``: the shipped zoo of this config hash, checked and copied (or already there,
      checked again);
    - ``"reused"``: no zoo ships for these settings, and ``zoo_dir`` holds one trained from them;
    - ``"trained"``: no zoo ships for these settings; trained now (about 20 minutes for the demo's).
    """
    from .training import is_trained, train

    zoo_dir = Path(zoo_dir)
    shipped = shipped_dir(cfg, root)
    if shipped is not None:
        if _weights(zoo_dir) == _weights(shipped) and (zoo_dir / digests.MANIFEST).is_file():
            n = digests.verify(zoo_dir)
            log(f"the shipped zoo {config_hash(cfg)} is in {zoo_dir}: {n} files match their SHA-256 digests")
            return json.loads((zoo_dir / RECORD).read_text()), "shipped"
        info = install(shipped, zoo_dir)
        log(f"installed the shipped zoo {shipped} into {zoo_dir} (every file's SHA-256 checked)")
        return info, "shipped"
    if is_trained(zoo_dir, cfg):
        digests.verify_checkpoint(zoo_dir)
        log(f"no shipped zoo has config hash {config_hash(cfg)}; reusing the zoo trained in {zoo_dir}")
        return json.loads((zoo_dir / RECORD).read_text()), "reused"
    log(f"no shipped zoo has config hash {config_hash(cfg)} (zoo-weights/ holds "
        f"{', '.join(sorted(p.name for p in Path(root).glob('*') if p.is_dir())) or 'none'}): training")
    return train(zoo_dir, cfg), "trained"


def ship(zoo_dir: str | Path, cfg: dict, root: Path = ROOT) -> Path:
    """Make the trained zoo in ``zoo_dir`` the shipped one: copied to ``root/<config hash>/`` with a
    fresh manifest; shipped zoos of other config hashes are removed (git keeps them)."""
    from .training import is_trained

    zoo_dir, root = Path(zoo_dir), Path(root)
    if not is_trained(zoo_dir, cfg):
        raise ValueError(f"{zoo_dir} holds no zoo trained from these settings (config hash {config_hash(cfg)})")
    dest = root / config_hash(cfg)
    staging = root / f".{dest.name}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for stage in STAGES:
        shutil.copytree(zoo_dir / stage, staging / stage)
    shutil.copy2(zoo_dir / RECORD, staging / RECORD)
    digests.write(staging)
    for old in root.iterdir():
        if old.is_dir() and old != staging:
            shutil.rmtree(old)
    staging.rename(dest)
    return dest
