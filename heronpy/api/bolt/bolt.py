"""The class a bolt extends (Heron's ``heronpy.api.bolt.bolt.Bolt``)."""

from __future__ import annotations

from heronpy.api.component.base_component import BaseComponent
from heronpy.api.component.component_spec import HeronComponentSpec
from heronpy.api.stream import Stream
from heronpy.api.tuple import TupleHelper


class Bolt(BaseComponent):
    """Processes tuples one at a time and may emit new ones.

    >>> class Upper(Bolt):
    ...     outputs = ["word"]
    ...     def process(self, tup):
    ...         self.emit([tup.values[0].upper()])
    """

    @classmethod
    def spec(cls, name: str | None = None, inputs=None, par: int = 1, config: dict | None = None,
             optional_outputs: list | None = None) -> HeronComponentSpec:
        """``inputs``: ``{spec or spec["stream"]: Grouping}``, or a list of them (shuffle)."""
        return cls._make_spec(name, False, par, inputs, config, optional_outputs)

    def emit(self, tup, stream: str = Stream.DEFAULT_STREAM_ID, anchors=None,
             direct_task: int | None = None, need_task_ids: bool = False):
        """Sends ``tup`` (a list of values, one per field) on ``stream``; ``anchors`` ties it
        to input tuples (ATLEAST_ONCE); returns the task ids when ``need_task_ids``."""
        return self.delegate.emit(tup, stream, anchors, direct_task, need_task_ids)

    @staticmethod
    def is_tick(tup) -> bool:
        return tup.stream == TupleHelper.TICK_TUPLE_ID

    def ack(self, tup) -> None:
        self.delegate.ack(tup)

    def fail(self, tup) -> None:
        self.delegate.fail(tup)

    def initialize(self, config: dict, context) -> None:
        """Called once in the task process before the first ``process``."""

    def process(self, tup) -> None:
        """Handles one input tuple (a ``HeronTuple``)."""

    def process_tick(self, tup) -> None:
        """Called every ``topology.tick.tuple.freq.secs`` seconds when that is configured."""

    def end_of_stream(self) -> None:
        """Called once when every upstream task has ended; may still emit."""
