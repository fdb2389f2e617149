"""SHA-256 manifests of checkpoint folders: the shipped demo zoo is checked on every load.

A manifest is a ``SHA256SUMS`` file in the format of coreutils' ``sha256sum`` (``<hex>  <path>``,
paths relative to the manifest's folder), so a reader can also check it by hand:
``cd zoo-weights/<hash> && sha256sum -c SHA256SUMS``. A checkpoint folder is covered by the
manifest in itself or in its parent (the zoo keeps one manifest for its four stages).

A file whose digest differs, or that is missing, is an error that names it: shipped weights are
never silently replaced by a retrain or used when damaged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

MANIFEST = "SHA256SUMS"


class DigestError(RuntimeError):
    """A file does not match its manifest; the message names the file and both digests."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write(root: str | Path) -> Path:
    """Write ``root/SHA256SUMS`` over every file below ``root`` (sorted paths; the manifest excluded)."""
    root = Path(root)
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST)
    lines = [f"{sha256(p)}  {p.relative_to(root).as_posix()}\n" for p in files]
    out = root / MANIFEST
    out.write_text("".join(lines))
    return out


def read(root: str | Path) -> dict[str, str]:
    """relative path -> hex digest, from ``root/SHA256SUMS``."""
    manifest = Path(root) / MANIFEST
    out = {}
    for n, line in enumerate(manifest.read_text().splitlines(), 1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64:
            raise DigestError(f"{manifest}, line {n}: not '<sha256>  <path>': {line!r}")
        out[rel] = digest
    return out


def verify(root: str | Path, under: str | None = None) -> int:
    """Check every file the manifest of ``root`` lists (only those below ``under``, a relative folder,
    when given); returns how many were checked. Raises ``DigestError`` naming the first bad file."""
    root = Path(root)
    listed = read(root)
    if under is not None:
        listed = {rel: d for rel, d in listed.items() if rel.startswith(under.rstrip("/") + "/")}
        if not listed:
            raise DigestError(f"{root / MANIFEST} lists no file under {under}/")
    for rel, expected in listed.items():
        path = root / rel
        if not path.is_file():
            raise DigestError(f"{path} is missing; {root / MANIFEST} lists it")
        found = sha256(path)
        if found != expected:
            raise DigestError(f"{path}: SHA-256 {found[:16]}... differs from {expected[:16]}... in "
                              f"{root / MANIFEST}; the file was changed or damaged. Restore it "
                              f"(git checkout -- <file>, or copy it again) rather than retrain over it")
    return len(listed)


def covering_manifest(folder: str | Path) -> tuple[Path, str | None] | None:
    """(manifest root, folder relative to it or None) for the manifest that covers ``folder``: its own
    ``SHA256SUMS``, else its parent's when that lists files under it; None if there is none."""
    folder = Path(folder)
    if (folder / MANIFEST).is_file():
        return folder, None
    parent = folder.parent
    if (parent / MANIFEST).is_file() and any(rel.startswith(folder.name + "/") for rel in read(parent)):
        return parent, folder.name
    return None


def verify_checkpoint(folder: str | Path) -> int:
    """Verify a checkpoint folder against the manifest that covers it; 0 when no manifest does."""
    found = covering_manifest(folder)
    return verify(*found) if found else 0
