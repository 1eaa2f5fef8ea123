"""EFFECTIVELY_ONCE at the topology master: when to start a checkpoint, when one is complete,
and which to roll back to when a process dies.

Checkpoint ``c`` is complete when every task has saved it or has ended (an ended task's final
snapshot holds for every later checkpoint). The store then records ``c`` as the one to restore.
"""

from __future__ import annotations

from heronpy.instance.checkpoints import CheckpointStore


class CheckpointCoordinator:
    def __init__(self, store: CheckpointStore, tasks: set[int], interval: float, now: float):
        self._store = store
        self._tasks = tasks
        self._interval = interval
        self._next_at = now + interval
        self._last_id = store.latest() or 0
        self._saved: dict[int, set[int]] = {}  # checkpoint -> tasks that saved it
        self._ended: set[int] = set()
        self.rollbacks = 0

    def due(self, now: float) -> int | None:
        """The id of a checkpoint to start now, if one is due."""
        if now < self._next_at or self._ended >= self._tasks:
            return None
        self._next_at = now + self._interval
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
        """The checkpoint every task restarts from (None: from scratch); forgets the
        checkpoints in progress."""
        self.rollbacks += 1
        self._saved.clear()
        self._ended.clear()
        return self._store.latest()

    def _complete(self) -> None:
        for checkpoint in sorted(self._saved):
            if self._saved[checkpoint] | self._ended >= self._tasks:
                self._store.complete(checkpoint)
                for older in [c for c in self._saved if c <= checkpoint]:
                    del self._saved[older]
