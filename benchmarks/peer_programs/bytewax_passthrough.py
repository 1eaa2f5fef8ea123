"""Pass-through in bytewax: a scheduled source (``common.Schedule``, woken when the next tuple
is due) -> ``map`` (the relay) -> a sink recording latencies (``common.Recorder``)."""

from __future__ import annotations

from datetime import UTC, datetime

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import DynamicSource, StatelessSourcePartition
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from common import Recorder, Schedule


class ScheduledPartition(StatelessSourcePartition):
    def __init__(self) -> None:
        self.schedule = Schedule()

    def next_batch(self) -> list[tuple[int, float, bool]]:
        return self.schedule.due()

    def next_awake(self) -> datetime | None:
        due = self.schedule.next_due()
        return None if due is None else datetime.fromtimestamp(due, UTC)


class ScheduledSource(DynamicSource):
    def build(self, step_id: str, worker_index: int, worker_count: int) -> ScheduledPartition:
        return ScheduledPartition()


class RecordingPartition(StatelessSinkPartition):
    def __init__(self, name: str) -> None:
        self.name = name
        self.recorder = Recorder()

    def write_batch(self, items: list[tuple[int, float, bool]]) -> None:
        self.recorder.record(items)

    def close(self) -> None:
        self.recorder.report(self.name)


class RecordingSink(DynamicSink):
    def build(self, step_id: str, worker_index: int, worker_count: int) -> RecordingPartition:
        return RecordingPartition(f"worker{worker_index}")


flow = Dataflow("passthrough")
tuples = op.input("spout", flow, ScheduledSource())
relayed = op.map("relay", tuples, lambda t: t)
op.output("sink", relayed, RecordingSink())
