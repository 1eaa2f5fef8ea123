"""Emit: apply each subscriber's grouping, append to per-destination batches, send frames.

A batch is sent when it holds ``batch_size`` tuples, or by ``flush()``, which the task loop
calls when its input is idle and at least every ``heronpy.batch.delay.ms``.
"""

from __future__ import annotations

from collections.abc import Callable

from heronpy.instance import codec
from heronpy.instance.routing import RoutingError, chooser
from heronpy.topology.physical import PhysicalPlan
from heronpy.transport.frame import Kind, header

SendFrame = Callable[[bytes, bytes], None]


class UndeclaredStreamError(ValueError):
    """An emit on a stream the component did not declare, or with the wrong number of fields."""


class _StreamOut:
    """One output stream: its subscribers' choosers and the batch for each destination task."""

    def __init__(self, name: str, wire_id: int, arity: int):
        self.name = name
        self.wire_id = wire_id
        self.arity = arity
        self.choosers: list = []
        self.batches: dict[int, list] = {}
        self.sink: list | None = None  # values captured when nothing subscribes


class OutputCollector:
    def __init__(self, plan: PhysicalPlan, task_id: int, context, send: SendFrame,
                 batch_size: int, capture: Callable[[str, list], None] | None):
        self.task_id = task_id
        self.emitted = 0
        self._send = send
        self._batch_size = batch_size
        self._capture = capture
        self._seq: dict[int, int] = {}
        component = plan.tasks[task_id].component
        self._outs: dict[str, _StreamOut] = {}
        for stream, fields in plan.logical.components[component].outputs.items():
            out = _StreamOut(stream, plan.stream_ids[(component, stream)], len(fields))
            for consumer, sub in plan.logical.consumers(component, stream):
                tasks = plan.component_tasks[consumer.name]
                indices = [fields.index(f) for f in sub.grouping.fields]
                out.choosers.append(chooser(sub.grouping, tasks, indices, context,
                                            consumer.name, stream))
                out.batches.update((t, []) for t in tasks)
            if not out.choosers:
                out.sink = []
            self._outs[stream] = out
        self.downstream = sorted({t for out in self._outs.values() for t in out.batches})

    def emit(self, values, stream: str = "default", direct_task: int | None = None,
             need_task_ids: bool = False) -> list[int] | None:
        """Routes one tuple; returns its destination task ids when ``need_task_ids``."""
        out = self._outs.get(stream)
        try:
            valid = out is not None and len(values) == out.arity
        except TypeError:  # values without a length
            valid = False
        if not valid:
            raise self._emit_error(stream, values)
        self.emitted += 1
        if out.sink is not None:
            out.sink.append(values)
            if len(out.sink) >= self._batch_size:
                self._drain_sink(out)
            return [] if need_task_ids else None
        batches = out.batches
        sent = [] if need_task_ids else None
        for choose in out.choosers:
            dest = choose(values, direct_task)
            if dest.__class__ is int:
                batch = batches[dest]
                batch.append(values)
                if len(batch) >= self._batch_size:
                    self._send_batch(out, dest)
                if sent is not None:
                    sent.append(dest)
            else:
                for task in dest:
                    batch = batches[task]
                    batch.append(values)
                    if len(batch) >= self._batch_size:
                        self._send_batch(out, task)
                if sent is not None:
                    sent.extend(dest)
        return sent

    def flush(self) -> None:
        """Sends every non-empty batch and hands captured sink values over."""
        for out in self._outs.values():
            if out.sink:
                self._drain_sink(out)
            for dest, batch in out.batches.items():
                if batch:
                    self._send_batch(out, dest)

    def end_of_stream(self) -> None:
        """Flushes, then tells every downstream task that this task will send nothing more."""
        self.flush()
        for dest in self.downstream:
            self._send(header(Kind.END_OF_STREAM, 0, self.task_id, dest, 0, self._next_seq(dest)),
                       b"")

    def _send_batch(self, out: _StreamOut, dest: int) -> None:
        batch = out.batches[dest]
        out.batches[dest] = []
        self._send(header(Kind.DATA, out.wire_id, self.task_id, dest, len(batch),
                          self._next_seq(dest)), codec.encode(batch))

    def _drain_sink(self, out: _StreamOut) -> None:
        values, out.sink = out.sink, []
        if self._capture is not None:
            self._capture(out.name, values)

    def _next_seq(self, dest: int) -> int:
        seq = self._seq[dest] = self._seq.get(dest, -1) + 1
        return seq

    def _emit_error(self, stream: str, values) -> Exception:
        if not isinstance(values, (list, tuple)):
            return TypeError(f"emit takes a list or tuple of values, given {type(values).__name__}")
        out = self._outs.get(stream)
        if out is None:
            return UndeclaredStreamError(
                f"emit on undeclared stream '{stream}' (declared: {sorted(self._outs)})")
        return UndeclaredStreamError(
            f"emit on stream '{stream}' with {len(values)} values, but it declares {out.arity} "
            "fields")


__all__ = ["OutputCollector", "RoutingError", "UndeclaredStreamError"]
