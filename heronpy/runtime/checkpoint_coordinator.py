"""Checkpoints at the topology master: when to start one, when one is complete, and which to
roll back to when a process dies.

EFFECTIVELY_ONCE topologies take one every interval; any topology takes one on request (a
savepoint, for ``heronpy update``). Checkpoint ``c`` is complete when every task has saved it
or has ended (an ended task's final snapshot holds for every later checkpoint). The store then
records ``c`` as the one to restore, with the tasks that saved it.
"""

from __future__ import annotations

from heronpy.instance.checkpoints import CheckpointStore, Meta


class CheckpointCoordinator:
    def __init__(self, store: CheckpointStore, tasks: dict[int, tuple[str, int]],
                 interval: float | None, now: float):
        """``tasks``: each task's component and index; ``interval``: seconds between
        checkpoints, ``None`` for savepoints only."""
        self._store = store
        self._tasks = tasks
        self._interval = interval
        self.periodic = interval is not None
        """EFFECTIVELY_ONCE: a process that dies rolls the topology back."""
        self._next_at = now + interval if interval is not None else float("inf")
        self._last_id = store.latest() or 0
        self.completed = self._last_id
        self._saved: dict[int, set[int]] = {}  # checkpoint -> tasks that saved it
        self._ended: set[int] = set()
        self.rollbacks = 0

    def due(self, now: float) -> int | None:
        """The id of a checkpoint to start now, if one is due."""
        if now < self._next_at or self._ended >= self._tasks.keys():
            return None
        self._next_at = now + self._interval
        return self.savepoint()

    def savepoint(self) -> int:
        """The id of a checkpoint to start now, whether one is due or not."""
        self._last_id += 1
        self._saved[self._last_id] = set()
        return self._last_id

    def saved(self, task: int, checkpoint: int) -> None:
        if checkpoint in self._saved:
            self._saved[checkpoint].add(task)
            self._complete()

    def ended(self, task: int) -> None:
        self._ended.add(task)
        self._complete()

    def roll_back(self) -> int | None:
        """The checkpoint every task restarts from (None: from scratch)."""
        self.rollbacks += 1
        self.restarted(self._tasks)
        return self._store.latest()

    def restarted(self, tasks: dict[int, tuple[str, int]]) -> None:
        """Every task starts again, under a plan of ``tasks``: the checkpoints in progress are
        forgotten."""
        self._tasks = tasks
        self._saved.clear()
        self._ended.clear()

    def _complete(self) -> None:
        for checkpoint in sorted(self._saved):
            saved = self._saved[checkpoint]
            if saved | self._ended >= self._tasks.keys():
                ended_before = frozenset(self._tasks.keys() - saved)
                self._store.complete(checkpoint, Meta(self._tasks, ended_before))
                self.completed = checkpoint
                for older in [c for c in self._saved if c <= checkpoint]:
                    del self._saved[older]
