"""Is a build needed at all? The digest of everything a build reads, kept beside its outputs.

A no-op build compares digests and output files and runs no pandoc and no TeX. The digest covers
every file in the manuscript (by path, size and time), the templates and conversion scripts, the
tools' identities, bookgen's version and the build options.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from bookgen import __version__
from bookgen.fsutil import file_stamp, write_atomic
from bookgen.tools import PANDOC_DATA_DIR, pandoc_identity, template_dir

STATE_FILE = "state.json"


def _tree(root: Path, digest: hashlib._Hash) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())


def inputs_digest(manuscript: Path, options: dict) -> str:
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            {"bookgen": __version__, "pandoc": pandoc_identity(), "options": options, "epoch": os.environ.get("SOURCE_DATE_EPOCH", "")},
            sort_keys=True,
        ).encode()
    )
    for root in (manuscript.resolve(), template_dir(), PANDOC_DATA_DIR):
        digest.update(f"[{root.name}]".encode())
        _tree(root, digest)
    return digest.hexdigest()


def up_to_date(state_path: Path, digest: str) -> dict | None:
    """The recorded build when its inputs digest matches and its outputs are untouched, else None."""
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if state.get("digest") != digest:
        return None
    for entry in state.get("outputs", {}).values():
        if file_stamp(Path(entry["path"])) != entry["stamp"]:
            return None
    return state


def record(state_path: Path, digest: str, outputs: dict[str, dict], warnings: list[str]) -> None:
    """Remember a successful build (its warnings are shown again by the no-op builds after it)."""
    recorded = {name: dict(entry, stamp=file_stamp(Path(entry["path"]))) for name, entry in outputs.items()}
    write_atomic(state_path, json.dumps({"digest": digest, "outputs": recorded, "warnings": warnings}, ensure_ascii=False, indent=1))
