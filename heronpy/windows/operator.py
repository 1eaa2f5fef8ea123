"""The window operator of one bolt task: tuples, watermarks, time and end of stream in,
windows out."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from heronpy.windows.assigners import WindowAssigner
from heronpy.windows.count_windows import CountWindows
from heronpy.windows.spec import WindowSpec
from heronpy.windows.time_windows import TimeWindows
from heronpy.windows.timebase import to_nanos, to_seconds, watermark_nanos
from heronpy.windows.watermarks import Watermarks
from heronpy.windows.window import Firings, Window


class WindowOperator:
    """Assigns the tuples of one bolt task to windows and says which windows fire.

    ``channels`` are the task's inputs (its upstream task ids) and ``now`` the time it starts,
    in epoch seconds. Each ``on_*`` call returns the windows that fire because of it, in the
    order they fire; the time ``now`` is only read through these arguments.

    >>> from heronpy.windows.spec import Count
    >>> op = WindowOperator(WindowSpec(Count(2)), channels=[1], now=0.0)
    >>> op.on_tuple("a", channel=1, now=0.0), op.on_tuple("b", channel=1, now=0.0)
    ([], [Window(0, 2, 2 tuples)])
    """

    def __init__(self, spec: WindowSpec, channels: Iterable[int], now: float):
        self.spec = spec
        self.dropped_late = 0  # late tuples dropped (event time without a late_stream)
        self._late: list = []
        self._event_time = spec.event_time
        # the latest ``now``, kept for processing-time windows and for idleness
        uses_time = not spec.is_count and (not self._event_time or spec.idle_timeout is not None)
        self._clock = to_nanos(now) if uses_time else None
        firings = Firings()
        if spec.is_count:
            self._windows = CountWindows(spec.length.n, spec.slide.n, firings)
        else:
            assigner = WindowAssigner(spec.length.nanos, spec.slide.nanos)
            lateness = spec.allowed_lateness.nanos if spec.allowed_lateness else 0
            start = None if self._event_time else self._clock
            self._windows = TimeWindows(assigner, lateness, firings, start)
        self._watermarks = Watermarks(channels, spec.lag.nanos if spec.lag else 0,
                                      spec.idle_timeout.nanos if spec.idle_timeout else None,
                                      self._clock)
        self._parts = {"windows": self._windows, "watermarks": self._watermarks,
                       "firings": firings}

    @property
    def watermark(self) -> float:
        """The task's watermark in epoch seconds (-inf before any, +inf after the end), to
        forward downstream. In processing time and for count windows it only follows the
        watermarks received from upstream."""
        return to_seconds(self._watermarks.value)

    @property
    def ended(self) -> bool:
        """Every input channel has ended."""
        return self._watermarks.ended

    def on_tuple(self, item, channel: int, now: float,
                 timestamp: float | None = None) -> list[Window]:
        """A tuple (anything: windows hold it as given) arrives on ``channel``; in event time
        ``timestamp`` is its time in epoch seconds (else it is not used)."""
        self._watermarks.check_open(channel)
        fired = self._tick(now)
        if self.spec.is_count:
            return fired + self._windows.add(item)
        if not self._event_time:
            return fired + self._windows.add(self._clock, item)  # never late nor firing
        t = to_nanos(timestamp)
        again = self._windows.add(t, item)
        if again is None:
            if self.spec.late_stream is None:
                self.dropped_late += 1
            else:
                self._late.append(item)
            again = []
        self._watermarks.on_timestamp(channel, t, self._clock)
        return fired + again + self._windows.advance(self._watermarks.value)

    def on_watermark(self, channel: int, watermark: float, now: float) -> list[Window]:
        """An upstream task's watermark (epoch seconds) arrives on ``channel``, in band."""
        self._watermarks.check_open(channel)
        fired = self._tick(now)
        self._watermarks.on_watermark(channel, watermark_nanos(watermark), self._clock)
        return fired + self._reached()

    def on_time(self, now: float) -> list[Window]:
        """Time passes: processing-time windows that ended by ``now`` fire, and idle channels
        stop holding the watermark back. Call it on every timer tick."""
        return self._tick(now)

    def on_end_of_stream(self, channel: int, now: float) -> list[Window]:
        """``channel`` has ended. Once every channel has, the windows still holding tuples
        fire: complete in event time (the watermark is +inf), ``partial`` otherwise."""
        self._watermarks.check_open(channel)
        fired = self._tick(now)
        self._watermarks.on_end(channel, self._clock)
        if self._event_time:
            return fired + self._reached()
        if self.ended:
            fired += self._windows.close()
        return fired

    def drain_late(self) -> list:
        """The late tuples to emit on ``spec.late_stream`` since the last call, in order."""
        late, self._late = self._late, []
        return late

    def state(self) -> dict:
        """A snapshot of the operator's state, as plain picklable data (the tuples included)."""
        state = {name: {a: getattr(part, a) for a in part.STATE}
                 for name, part in self._parts.items()}
        state["operator"] = {"dropped_late": self.dropped_late, "_late": self._late,
                             "_clock": self._clock}
        return copy.deepcopy(state)

    def restore(self, state: dict) -> None:
        """Continues from ``state()`` of an operator with the same spec and channels."""
        state = copy.deepcopy(state)
        for name, part in {**self._parts, "operator": self}.items():
            for attribute, value in state[name].items():
                setattr(part, attribute, value)

    def _tick(self, now: float) -> list[Window]:
        if self._clock is None or self.ended:
            return []
        self._clock = max(self._clock, to_nanos(now))
        if self._event_time:
            self._watermarks.refresh(self._clock)
            return self._reached()
        return self._windows.advance(self._clock)

    def _reached(self) -> list[Window]:
        """In event time, the windows that the watermark has reached fire."""
        return self._windows.advance(self._watermarks.value) if self._event_time else []
