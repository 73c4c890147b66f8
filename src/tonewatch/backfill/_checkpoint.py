"""The checkpoint folder of one backfill run: its plan, the partitions, one marker per finished one.

Every file is written to a temporary name and renamed, so an interrupted run leaves either
a whole file or none: a partition counts as done only once its marker exists, and a
results file only once its partition's results are complete. Re-running the same command
finds the same folder (named after the input and the options) and skips what is done.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["CheckpointDir", "atomic_write"]


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class CheckpointDir:
    """``manifest.json``, ``parts/`` (the partitioned input), ``done/`` and ``results/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def read_manifest(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return data

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        atomic_write(self.manifest_path, json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8"))

    def reset(self) -> None:
        """Forget everything (``--restart``)."""
        if self.root.exists():
            shutil.rmtree(self.root)

    def part_path(self, index: int) -> Path:
        return self.root / "parts" / f"part-{index:05d}.tsv"

    def done_path(self, index: int) -> Path:
        return self.root / "done" / f"part-{index:05d}.json"

    def results_path(self, index: int) -> Path:
        return self.root / "results" / f"part-{index:05d}.jsonl"

    def is_done(self, index: int) -> bool:
        return self.done_path(index).exists()

    def done(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Every finished partition's marker, by index."""
        folder = self.root / "done"
        if not folder.exists():
            return
        for path in sorted(folder.glob("part-*.json")):
            yield int(path.stem.removeprefix("part-")), json.loads(path.read_text(encoding="utf-8"))

    def mark_done(self, index: int, summary: dict[str, Any]) -> None:
        atomic_write(self.done_path(index), json.dumps(summary, sort_keys=True).encode("utf-8"))

    def write_results(self, index: int, records: Iterable[dict[str, Any]]) -> None:
        body = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
        atomic_write(self.results_path(index), body.encode("utf-8"))
