"""Checkpoints inside a task: restore from one, align barriers, save snapshots.

The topology master starts checkpoint ``c`` at its spouts: each saves its snapshot and sends a
barrier ``c`` to every downstream task, behind the tuples it emitted before. A bolt that gets
barrier ``c`` on a channel holds that channel's later frames until every open channel has
delivered it (alignment), then saves its snapshot, passes the barrier on and replays what it
held. A snapshot is the user's ``State``, the task's own progress (ended, open channels, its
window buffers) and the size of its captured outputs, so that after a rollback everything is
exactly as it was at the cut: no tuple lost, none counted twice.

EFFECTIVELY_ONCE topologies checkpoint every interval; every topology checkpoints once when it
is updated (a savepoint), and its tasks then restore it under the rescaled plan: a task of a
rescaled bolt takes the keys of its predecessors' states that its fields grouping now routes
to it. The channels a task restores as open are its inputs, except from tasks that had ended.
"""

from __future__ import annotations

import os

from heronpy.api.state.state import HashMapState
from heronpy.api.state.stateful_component import StatefulComponent
from heronpy.instance.checkpoints import FINAL, CheckpointStore
from heronpy.instance.routing import fields_index
from heronpy.transport.frame import Kind, header


class Checkpointing:
    def __init__(self, task, store: CheckpointStore, restore_from: int | None):
        self._task = task
        self._store = store
        self._restore_from = restore_from
        self._state = HashMapState()
        self._aligning: int | None = None  # the checkpoint whose barriers are arriving
        self._barriers: set[int] = set()  # channels that have delivered it
        self._held: list = []  # frames from those channels, in arrival order

    def restore(self) -> bool:
        """Before ``initialize``: the user's state, the outputs and the task's progress as they
        were at the checkpoint. Returns whether the task had already ended then."""
        task = self._task
        snapshot = self._snapshot()
        self._state.update(snapshot["state"])
        if isinstance(task.component, StatefulComponent):
            task.component.init_state(self._state)
        if os.path.exists(task.outputs_path):
            os.truncate(task.outputs_path, snapshot["outputs_size"])
        if snapshot["windows"] is not None and task.windowing is not None:
            task.windowing.restore(snapshot["windows"])
        return snapshot["ended"]

    def _snapshot(self) -> dict:
        """This task's part of the checkpoint it restores: its own snapshot or, when its
        component was rescaled since, its share of its predecessors' snapshots."""
        snapshot = {"state": {}, "ended": False, "outputs_size": 0, "windows": None}
        checkpoint, task = self._restore_from, self._task
        if checkpoint is None:
            return snapshot
        meta = self._store.meta(checkpoint)
        task.open_channels.difference_update(meta.ended)
        info = task.plan.tasks[task.task_id]
        component, index = info.component, info.index
        before = [t for _, t in sorted((i, t) for t, (c, i) in meta.tasks.items()
                                       if c == component)]
        tasks = task.plan.component_tasks[component]
        if before == tasks:
            return self._store.load(checkpoint, task.task_id) or snapshot
        parts = [self._store.load(checkpoint, t) for t in before]
        snapshot["state"] = {key: value for part in parts for key, value in part["state"].items()
                             if fields_index(key, len(tasks)) == index}
        snapshot["ended"] = all(part["ended"] for part in parts)
        if task.task_id in before:  # it keeps its outputs up to the cut
            snapshot["outputs_size"] = parts[before.index(task.task_id)]["outputs_size"]
        return snapshot

    def checkpoint(self, checkpoint: int | str) -> None:
        """Saves this task's snapshot, then sends the barrier behind everything emitted."""
        task = self._task
        task.collector.flush()
        if isinstance(task.component, StatefulComponent):
            task.component.pre_save(checkpoint)
        self._store.save(checkpoint, task.task_id, {
            "state": dict(self._state), "ended": task.ended, "outputs_size": task.outputs_size(),
            "windows": task.windowing.state() if task.windowing is not None else None,
        })
        if checkpoint == FINAL:
            return
        for dest in task.collector.downstream:
            task.send(header(Kind.BARRIER, 0, task.task_id, dest, 0, checkpoint), b"")
        task.to_stmgr({"type": "saved", "task": task.task_id, "checkpoint": checkpoint})

    def hold(self, source: int, frames) -> bool:
        """Keeps ``frames`` for later when their channel has delivered the barrier being
        aligned; False when they can be handled now."""
        if self._aligning is not None and source in self._barriers:
            self._held.append(frames)
            return True
        return False

    def on_barrier(self, source: int, checkpoint: int) -> None:
        if source not in self._task.open_channels:
            return  # after end of stream on that channel: nothing to align
        self._aligning = checkpoint
        self._barriers.add(source)
        self.check_aligned()

    def check_aligned(self) -> None:
        """Completes the alignment once every open channel has delivered the barrier (also
        called when a channel ends)."""
        if self._aligning is None or not self._task.open_channels <= self._barriers:
            return
        checkpoint, self._aligning, self._barriers = self._aligning, None, set()
        self.checkpoint(checkpoint)
        held, self._held = self._held, []
        for frames in held:
            self._task.handle(frames)
