"""Emit: collect tuples per output stream, route them a batch at a time, send frames.

``emit`` appends to the stream's pending batch. When it holds about ``batch_size`` tuples per
destination task, or on ``flush()`` (called by the task loop when its input is idle and at
least every ``heronpy.batch.delay.ms``), each subscriber's grouping splits the batch by
destination and one frame per destination is sent. Streams with a DIRECT or custom subscriber
route each tuple at the ``emit`` call instead, so a bad choice raises there. A tuple emitted
on a stream with collective subscribers is handed, as it is emitted, to this task's leaf of
each collective graph (``contribute``); its regular subscribers get it as usual.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from heronpy.instance import codec
from heronpy.instance.routing import Route, RoutingError, group_by, route
from heronpy.topology.physical import PhysicalPlan, collective_kind
from heronpy.transport.frame import ANCHORED, FAIL, INIT, ROOT_TASK_SHIFT, Kind, header

SendFrame = Callable[[bytes, bytes], None]


class UndeclaredStreamError(ValueError):
    """An emit on a stream the component did not declare, or with the wrong number of fields."""


class _StreamOut:
    """One output stream: its subscribers' routes and the tuples not yet sent."""

    __slots__ = ("arity", "choices", "limit", "name", "pending", "routes", "wire_id")

    def __init__(self, name: str, wire_id: int, arity: int, routes: list[Route],
                 batch_size: int):
        self.name = name
        self.wire_id = wire_id
        self.arity = arity
        self.routes = routes
        self.pending: list = []
        # send when each destination would get about batch_size tuples
        self.limit = batch_size * max([r.spread for r in routes] or [1])
        # per route, the destinations chosen at emit time; None for streams routed by batch
        self.choices: list[list] | None = None
        if any(r.split is None for r in routes):
            self.choices = [[] for _ in routes]


class OutputCollector:
    def __init__(self, plan: PhysicalPlan, task_id: int, context, send: SendFrame,
                 batch_size: int, capture: Callable[[str, list], None] | None):
        self.task_id = task_id
        self._send = send
        self._batch_size = batch_size
        self._capture = capture
        self._sent = 0
        self._seq: dict[int, int] = {}
        self.pending_roots: dict[int, object] = {}  # ATLEAST_ONCE: a spout's roots -> tup_id
        component = plan.tasks[task_id].component
        self._outs: dict[str, _StreamOut] = {}  # streams without collective subscribers
        self._collective: dict[str, tuple[list[int], _StreamOut]] = {}  # the others
        self.contribute: Callable[[int, list], None] | None = None  # set by the task
        for stream, fields in plan.logical.components[component].outputs.items():
            routes = []
            for consumer, sub in plan.logical.consumers(component, stream):
                if collective_kind(plan.logical.component_config(consumer.name), sub) is None:
                    routes.append(route(sub.grouping, plan.component_tasks[consumer.name],
                                        [fields.index(f) for f in sub.grouping.fields], context,
                                        consumer.name, stream))
            out = _StreamOut(stream, plan.stream_ids[(component, stream)], len(fields), routes,
                             batch_size)
            edges = [g.edge for g in plan.collectives
                     if g.producer == component and g.stream == stream]
            if edges:
                self._collective[stream] = (edges, out)
            else:
                self._outs[stream] = out
        self.downstream = sorted({t for out in self._streams() for r in out.routes
                                  for t in r.tasks})

    def _streams(self) -> list[_StreamOut]:
        return [*self._outs.values(), *(out for _, out in self._collective.values())]

    def _stream_out(self, stream: str) -> _StreamOut | None:
        return self._outs.get(stream) or self._collective.get(stream, (None, None))[1]

    @property
    def emitted(self) -> int:
        """Tuples emitted so far (sent or pending)."""
        return self._sent + sum(len(out.pending) for out in self._streams())

    def emit(self, values, stream: str = "default", anchors=None, direct_task: int | None = None,
             need_task_ids: bool = False) -> list[int] | None:
        """Emits one tuple; returns its destination task ids when ``need_task_ids``.

        The signature is ``Bolt.emit``'s, so a bolt's ``emit`` is this very method."""
        out = self._outs.get(stream)
        try:
            valid = out is not None and len(values) == out.arity
        except TypeError:  # values without a length
            valid = False
        if not valid:
            out = self._to_collectives(stream, values)
            if not out.routes:
                return [] if need_task_ids else None
        if out.choices is not None:
            return self._emit_routed(out, values, direct_task, need_task_ids)
        if direct_task is not None:
            raise RoutingError(f"direct_task given, but no component subscribes to stream "
                               f"'{stream}' with DIRECT grouping")
        if need_task_ids:  # send what is pending first, to keep the order
            self._send_pending(out)
            return self._send_batch(out, [values])
        pending = out.pending
        pending.append(values)
        if len(pending) >= out.limit:
            self._send_pending(out)
        return None

    def _emit_routed(self, out: _StreamOut, values, direct_task, need_task_ids):
        chosen = [r.choose(values, direct_task) for r in out.routes]
        out.pending.append(values)
        for choices, dest in zip(out.choices, chosen, strict=True):
            choices.append(dest)
        if len(out.pending) >= out.limit:
            self._send_pending(out)
        if need_task_ids:
            return [t for dest in chosen for t in ([dest] if dest.__class__ is int else dest)]
        return None

    def _to_collectives(self, stream: str, values) -> _StreamOut:
        """Hands ``values`` to each collective graph on ``stream``; returns the stream's
        regular part. Raises for an undeclared stream or a wrong number of values."""
        edges, out = self._collective.get(stream, (None, None))
        try:
            valid = out is not None and len(values) == out.arity
        except TypeError:
            valid = False
        if not valid:
            raise self._emit_error(stream, values)
        for edge in edges:
            self.contribute(edge, list(values))
        return out

    def flush(self) -> None:
        """Sends every pending tuple."""
        for out in self._streams():
            if out.pending:
                self._send_pending(out)

    def end_of_stream(self, dests: list[int] | None = None) -> None:
        """Flushes, then tells every downstream task (or ``dests``: a task restarted after our
        end) that this task will send nothing more."""
        self._mark(Kind.END_OF_STREAM, self.downstream if dests is None else dests)

    def drained(self) -> None:
        """Flushes, then tells every downstream task that only replays may follow."""
        self._mark(Kind.DRAINED, self.downstream)

    def _mark(self, kind: Kind, dests: list[int]) -> None:
        self.flush()
        for dest in dests:
            self._send(header(kind, 0, self.task_id, dest, 0, self._next_seq(dest)), b"")

    def _send_pending(self, out: _StreamOut) -> None:
        batch, out.pending = out.pending, []
        self._send_batch(out, batch)

    def _send_batch(self, out: _StreamOut, batch: list) -> list[int]:
        """Routes and sends ``batch``; returns the destination tasks."""
        self._sent += len(batch)
        if not out.routes:  # nothing subscribes: hand the tuples to the capture, if any
            if self._capture is not None:
                self._capture(out.name, batch)
            return []
        sent = []
        shared, payload = None, b""  # ALL grouping sends one list everywhere: encode it once
        for index, r in enumerate(out.routes):
            if out.choices is None:
                groups = r.split(batch)
            else:
                groups = group_by(batch, out.choices[index], r.tasks)
                out.choices[index] = []
            for dest, values in groups:
                if values is not shared:
                    shared, payload = values, codec.encode(values)
                self._send(header(Kind.DATA, out.wire_id, self.task_id, dest, len(values),
                                  self._next_seq(dest)), payload)
                sent.append(dest)
        return sent

    def _next_seq(self, dest: int) -> int:
        seq = self._seq[dest] = self._seq.get(dest, -1) + 1
        return seq

    def _emit_error(self, stream: str, values) -> Exception:
        if not isinstance(values, (list, tuple)):
            return TypeError(f"emit takes a list or tuple of values, given {type(values).__name__}")
        out = self._stream_out(stream)
        if out is None:
            return UndeclaredStreamError(f"emit on undeclared stream '{stream}' (declared: "
                                         f"{sorted([*self._outs, *self._collective])})")
        return UndeclaredStreamError(
            f"emit on stream '{stream}' with {len(values)} values, but it declares {out.arity} "
            "fields")


__all__ = ["OutputCollector", "RoutingError", "UndeclaredStreamError"]


class ReliableCollector(OutputCollector):
    """ATLEAST_ONCE: tuple trees tracked with Storm's XOR scheme.

    Every emit is routed at once, so that each copy gets its own random edge id before the
    emitting bolt can ack its input. A tracked tuple carries ``roots``: a list of
    ``[root, value]`` pairs, where ``value`` starts as the tuple's edge id for that root and
    takes in (XOR) the edge of every child anchored to it; acking the tuple sends each pair to
    the stream manager of the root's spout, which completes the root when its XOR reaches 0.
    Acks, fails and a spout's new roots are sent in batches, with the tuples.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._batches: dict[tuple[str, int], tuple[list, list]] = {}  # (stream, dest) -> ...
        self._acks: dict[tuple[int, int], list] = {}  # (spout task, flags) -> [[root, value]]
        self._next_root = self.task_id << ROOT_TASK_SHIFT

    @property
    def emitted(self) -> int:
        return self._sent + sum(len(values) for values, _ in self._batches.values())

    def emit(self, values, stream: str = "default", anchors=None, direct_task: int | None = None,
             need_task_ids: bool = False, tup_id=None) -> list[int] | None:
        out = self._outs.get(stream)
        try:
            valid = out is not None and len(values) == out.arity
        except TypeError:
            valid = False
        if not valid:  # collective tuples are not tracked: a reduction has no single parent
            out = self._to_collectives(stream, values)
            if not out.routes:
                return [] if need_task_ids else None
        if not out.routes:
            self._send_sink(out, [values])
            return [] if need_task_ids else None
        chosen = [r.choose(values, direct_task) for r in out.routes]
        dests = [t for dest in chosen for t in ([dest] if dest.__class__ is int else dest)]
        root = None
        if tup_id is not None:
            root = self._next_root
            self._next_root += 1
            self.pending_roots[root] = tup_id
            first_edges = 0
        for dest in dests:
            roots = None
            if root is not None:
                edge = _new_edge()
                first_edges ^= edge
                roots = [[root, edge]]
            elif anchors:
                roots = _anchor(anchors, _new_edge())
            values_list, roots_list = self._batches.setdefault((stream, dest), ([], []))
            values_list.append(values)
            roots_list.append(roots)
            if len(values_list) >= self._batch_size:
                self._send_reliable(stream, dest)
        if root is not None:
            self._ack_entry(root, first_edges, INIT)
        return dests if need_task_ids else None

    def ack(self, tup) -> None:
        for root, value in tup.roots or ():
            self._ack_entry(root, value, 0)

    def fail(self, tup) -> None:
        for root, _ in tup.roots or ():
            self._ack_entry(root, 0, FAIL)

    def _ack_entry(self, root: int, value: int, flags: int) -> None:
        self._acks.setdefault((root >> ROOT_TASK_SHIFT, flags), []).append([root, value])

    def flush(self) -> None:
        super().flush()
        for stream, dest in list(self._batches):
            self._send_reliable(stream, dest)
        acks, self._acks = self._acks, {}
        for (spout_task, flags), entries in acks.items():
            self._send(header(Kind.ACK, 0, self.task_id, spout_task, len(entries), 0, flags),
                       codec.encode(entries))

    def _send_reliable(self, stream: str, dest: int) -> None:
        values, roots = self._batches.pop((stream, dest))
        self._sent += len(values)
        anchored = any(r is not None for r in roots)
        payload = codec.encode([values, roots] if anchored else values)
        wire_id = self._stream_out(stream).wire_id
        self._send(header(Kind.DATA, wire_id, self.task_id, dest, len(values),
                          self._next_seq(dest), ANCHORED if anchored else 0), payload)

    def _send_sink(self, out: _StreamOut, values: list) -> None:
        out.pending.extend(values)
        if len(out.pending) >= out.limit:
            self._send_pending(out)


def _new_edge() -> int:
    return random.getrandbits(63) | 1  # never 0: a zero edge would not change any XOR


def _anchor(anchors, edge: int) -> list | None:
    """The roots of a child anchored to ``anchors`` with ``edge``; updates the anchors' values
    (each anchor takes in the edge once; a root shared by two anchors cancels, as in Storm)."""
    child: dict[int, int] = {}
    for anchor in anchors:
        for pair in anchor.roots or ():
            pair[1] ^= edge
            child[pair[0]] = child.get(pair[0], 0) ^ edge
    return [[root, value] for root, value in child.items()] or None
