"""The spouts of ``Builder.new_source``: they end by raising ``StopIteration`` when their
source is exhausted, which ends a bounded topology by itself."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from heronpy.api.spout.spout import Spout
from heronpy.streamlet.context import Context
from heronpy.streamlet.impl.component import StreamletComponent


class IterableSpout(StreamletComponent, Spout):
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

    def next_tuple(self):
        self.emit_element(next(self._elements))


class GeneratorSpout(StreamletComponent, Spout):
    """Drives a ``Generator``: every task runs its own copy."""

    def initialize(self, config, context):
        super().initialize(config, context)
        tasks = context.get_component_tasks(context.get_component_id())
        self.function.setup(Context(context.get_task_id(), context.get_task_index(), len(tasks),
                                    context.get_cluster_config()))

    def next_tuple(self):
        value = self.function.get()
        if value is not None:
            self.emit_element(value)
