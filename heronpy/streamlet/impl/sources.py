"""The spouts of ``Builder.new_source``: they end by raising ``StopIteration`` when their
source is exhausted, which ends a bounded topology by itself. Under ATLEAST_ONCE they keep
each element until every stream has acked it, and emit it again on a stream that failed it."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import islice
from typing import Any

from heronpy.api import api_constants
from heronpy.api.spout.spout import Spout
from heronpy.streamlet.context import Context
from heronpy.streamlet.impl.component import StreamletComponent, values

NOTHING = object()
"""What ``next_element`` returns when there is no element now."""


class SourceSpout(StreamletComponent, Spout):
    """Emits what ``next_element`` returns, failed elements first."""

    def initialize(self, config, context):
        super().initialize(config, context)
        self._reliable = (config.get(api_constants.TOPOLOGY_RELIABILITY_MODE)
                          == api_constants.TopologyReliabilityMode.ATLEAST_ONCE)
        self._pending: dict[int, tuple[Any, set[int]]] = {}  # id -> element, streams to ack
        self._failed: deque[tuple[int, int]] = deque()  # (id, stream index) to emit again
        self._next_id = 0

    def next_element(self) -> Any:
        """The next element, or NOTHING now; raises StopIteration at the end."""
        raise NotImplementedError

    def next_tuple(self):
        if self._failed:
            element_id, index = self._failed.popleft()
            self._emit_on(index, element_id, self._pending[element_id][0])
            return
        value = self.next_element()
        if value is NOTHING:
            return
        if not self._reliable or not self._outlets:
            self.emit_element(value)
            return
        element_id, self._next_id = self._next_id, self._next_id + 1
        self._pending[element_id] = (value, set(range(len(self._outlets))))
        for index in range(len(self._outlets)):
            self._emit_on(index, element_id, value)

    def _emit_on(self, index: int, element_id: int, value: Any) -> None:
        stream, key_extractor = self._outlets[index]
        self.emit(values(value, key_extractor), tup_id=(element_id, index), stream=stream)

    def ack(self, tup_id):
        element_id, index = tup_id
        streams = self._pending[element_id][1]
        streams.discard(index)
        if not streams:
            del self._pending[element_id]

    def fail(self, tup_id):
        self._failed.append(tup_id)


class IterableSpout(SourceSpout):
    """Emits an iterable's elements (or those of the iterable a function returns, called once
    per task): with n tasks, task k emits elements k, k + n, k + 2n..."""

    def initialize(self, config, context):
        super().initialize(config, context)
        source = self.function() if callable(self.function) else self.function
        if isinstance(source, (str, bytes)) or not isinstance(source, Iterable):
            raise TypeError(f"a source function must return an iterable of elements, it "
                            f"returned {source!r} (Heron's supplier functions, one element per "
                            "call, are written as a Generator here)")
        partitions = len(context.get_component_tasks(context.get_component_id()))
        self._elements = islice(source, context.get_task_index(), None, partitions)

    def next_element(self) -> Any:
        return next(self._elements)


class GeneratorSpout(SourceSpout):
    """Drives a ``Generator``: every task runs its own copy."""

    def initialize(self, config, context):
        super().initialize(config, context)
        tasks = context.get_component_tasks(context.get_component_id())
        self.function.setup(Context(context.get_task_id(), context.get_task_index(), len(tasks),
                                    context.get_cluster_config()))

    def next_element(self) -> Any:
        value = self.function.get()
        return NOTHING if value is None else value
