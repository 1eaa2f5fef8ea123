"""Runs a ``WindowedBolt`` in its task: feeds every input tuple to the window operator, calls
``process_window`` for each window that fires, emits late tuples on the late stream, acks
each tuple once no window holds it any more (after the windows that fired with it were
processed: as Heron does) and forwards the task's watermark downstream.

The operator (``heronpy.windows``) is pure; this module supplies the time (``time.time()``),
the timestamps (a field of each input stream, or the bolt's ``timestamp`` method) and a timer
for processing-time windows and idleness.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from time import monotonic

from heronpy.windows import WindowOperator, WindowSpec

_TIMER_SECS = 0.05  # processing-time windows fire at most this late


class WindowDriver:
    def __init__(self, bolt, spec: WindowSpec, channels: list[int],
                 timestamp_index: dict[str, int], emit: Callable,
                 send_watermark: Callable[[float], None],
                 ack: Callable[[object], None] | None = None):
        """``timestamp_index`` maps each input stream (``component:stream``) to the position
        of ``spec.timestamp_field`` in its values; ``ack``: ATLEAST_ONCE's, else None."""
        self._bolt = bolt
        self._spec = spec
        self._emit = emit
        self._send_watermark = send_watermark
        self._timestamp_index = timestamp_index
        self._ack = ack
        self._evicted: list = []  # ATLEAST_ONCE: to ack once the windows that fired are done
        self._operator = WindowOperator(
            spec, channels, time.time(),
            self._evicted.extend if ack is not None else (lambda items: None))
        self._forwarded = float("-inf")
        timed = not spec.is_count and (not spec.event_time or spec.idle_timeout is not None)
        self.next_timer = monotonic() + _TIMER_SECS if timed else float("inf")

    def on_tuples(self, tuples: list, source: int) -> None:
        """``tuples`` (``HeronTuple``s from one upstream task) enter their windows as if one by
        one."""
        operator = self._operator
        now = time.time()
        if not self._spec.event_time:
            for tup in tuples:
                self._fire(operator.on_tuple(tup, source, now))
        elif self._spec.timestamp_fn is not None:
            timestamp = self._bolt.timestamp
            for tup in tuples:
                self._fire(operator.on_tuple(tup, source, now, timestamp(tup)))
        else:  # the whole batch at once, vectorised: the same windows fire, in the same order
            index = self._timestamp_index[f"{tuples[0].component}:{tuples[0].stream}"]
            timestamps = [tup.values[index] for tup in tuples]
            try:
                windows = operator.on_tuples(tuples, source, now, timestamps)
            except (TypeError, ValueError):
                # refused whole, nothing taken (a timestamp that is not a time): one at a
                # time, the tuples before it go in and their windows fire, then it raises
                for tup, timestamp in zip(tuples, timestamps, strict=True):
                    self._fire(operator.on_tuple(tup, source, now, timestamp))
                raise
            self._fire(windows)
        self._after()

    def on_watermark(self, source: int, value: float) -> None:
        self._fire(self._operator.on_watermark(source, value, time.time()))
        self._after()

    def on_end_of_stream(self, source: int) -> None:
        self._fire(self._operator.on_end_of_stream(source, time.time()))
        self._after()

    def flush(self) -> None:
        """Only replays may follow on every input: see ``WindowOperator.flush``."""
        self._fire(self._operator.flush(time.time()))
        self._after()

    def on_timer(self) -> None:
        self.next_timer = monotonic() + _TIMER_SECS
        self._fire(self._operator.on_time(time.time()))
        self._after()

    def state(self) -> dict:
        """The window buffers, for a checkpoint."""
        return self._operator.state()

    def restore(self, state: dict) -> None:
        self._operator.restore(state)

    def _fire(self, windows: list) -> None:
        for window in windows:
            self._bolt.process_window(window, window.tuples)

    def _after(self) -> None:
        """Late tuples out, evicted tuples acked, then the watermark, behind everything this
        task emitted."""
        if self._spec.late_stream is not None:
            for tup in self._operator.drain_late():
                self._emit(tup.values, self._spec.late_stream)
        for tup in self._evicted:
            self._ack(tup)
        self._evicted.clear()  # in place: the operator extends this list
        watermark = self._operator.watermark
        if watermark > self._forwarded and watermark != float("inf"):
            self._forwarded = watermark
            self._send_watermark(watermark)


class WatermarkRelay:
    """A plain bolt's watermark: the minimum of what its upstream tasks sent, passed on."""

    def __init__(self, channels: list[int], send_watermark: Callable[[float], None]):
        self._received = dict.fromkeys(channels, float("-inf"))
        self._send_watermark = send_watermark
        self._forwarded = float("-inf")

    def on_watermark(self, source: int, value: float) -> None:
        self._received[source] = max(self._received[source], value)
        self._forward()

    def on_end_of_stream(self, source: int) -> None:
        """An ended channel holds nothing back (the end itself travels as end of stream)."""
        self._received[source] = float("inf")
        self._forward()

    def _forward(self) -> None:
        watermark = min(self._received.values())
        if watermark == float("inf"):
            return
        if watermark > self._forwarded:
            self._forwarded = watermark
            self._send_watermark(watermark)
