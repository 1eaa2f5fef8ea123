"""Durable checkpoint files (EFFECTIVELY_ONCE): one snapshot per task and checkpoint, and the
id of the last checkpoint every task completed.

Layout under the checkpoint directory (``heronpy.checkpoint.dir``; a shared file system path
on a cluster): ``<id>/task-<t>`` snapshots, ``<id>/meta.json`` once every task has saved ``id``
(the tasks of the plan that saved it, and those that had ended by then), ``final/task-<t>`` for
tasks that ended, and ``LATEST``. Every file is written to a temporary name, fsynced and
renamed, and the directory is fsynced, so a crash leaves either the old file or the new one.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from typing import NamedTuple

FINAL = "final"


class Meta(NamedTuple):
    """Who saved a complete checkpoint: what a task restoring it under a rescaled plan needs."""

    tasks: dict[int, tuple[str, int]]
    """Every task of the plan that saved it: its component and index."""
    ended: frozenset[int]
    """The tasks that had ended before it (at the cut)."""


class CheckpointStore:
    def __init__(self, root: str):
        self.root = root
        os.makedirs(root, exist_ok=True)

    def save(self, checkpoint: int | str, task: int, snapshot: dict) -> None:
        folder = os.path.join(self.root, str(checkpoint))
        os.makedirs(folder, exist_ok=True)
        _write_atomically(os.path.join(folder, f"task-{task}"), pickle.dumps(snapshot))

    def load(self, checkpoint: int | None, task: int) -> dict | None:
        """The task's snapshot of ``checkpoint``, or its final one (it ended before that
        checkpoint began); None when there is neither (start from scratch)."""
        if checkpoint is None:
            return None
        for folder in (str(checkpoint), FINAL):
            try:
                with open(os.path.join(self.root, folder, f"task-{task}"), "rb") as f:
                    return pickle.load(f)
            except FileNotFoundError:
                continue
        return None

    def complete(self, checkpoint: int, meta: Meta) -> None:
        """Marks ``checkpoint`` as the one to restore, and drops the older ones."""
        record = {"tasks": meta.tasks, "ended": sorted(meta.ended)}
        os.makedirs(os.path.join(self.root, str(checkpoint)), exist_ok=True)
        _write_atomically(os.path.join(self.root, str(checkpoint), "meta.json"),
                          json.dumps(record).encode())
        _write_atomically(os.path.join(self.root, "LATEST"), str(checkpoint).encode())
        for name in os.listdir(self.root):
            if name.isdigit() and int(name) < checkpoint:
                shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)

    def meta(self, checkpoint: int) -> Meta:
        with open(os.path.join(self.root, str(checkpoint), "meta.json")) as f:
            record = json.load(f)
        return Meta({int(t): (c, i) for t, (c, i) in record["tasks"].items()},
                    frozenset(record["ended"]))

    def latest(self) -> int | None:
        try:
            with open(os.path.join(self.root, "LATEST")) as f:
                return int(f.read())
        except FileNotFoundError:
            return None


def _write_atomically(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    folder = os.open(os.path.dirname(path), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
