"""The window operator of one bolt task: tuples, watermarks, time and end of stream in,
windows out."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from heronpy.windows.assigners import WindowAssigner
from heronpy.windows.count_windows import CountWindows
from heronpy.windows.spec import WindowSpec
from heronpy.windows.time_windows import NO_WATERMARK, TimeWindows
from heronpy.windows.timebase import (
    INF,
    SAFE,
    to_nanos,
    to_nanos_array,
    to_seconds,
    watermark_nanos,
)
from heronpy.windows.watermarks import Watermarks
from heronpy.windows.window import Firings, Window

BATCH_MIN = 8
"""``on_tuples`` takes fewer tuples than this one at a time."""


def _in_range(*watermarks) -> bool:
    return all(w in (INF, -INF) or -SAFE < w < SAFE for w in watermarks)


def _int(watermark: int | float) -> int:
    return NO_WATERMARK if watermark == -INF else watermark


def _watermark(value) -> int | float:
    value = int(value)
    return -INF if value == NO_WATERMARK else value


class WindowOperator:
    """Assigns the tuples of one bolt task to windows and says which windows fire.

    ``channels`` are the task's inputs (its upstream task ids) and ``now`` the time it starts,
    in epoch seconds. Each ``on_*`` call returns the windows that fire because of it, in the
    order they fire; the time ``now`` is only read through these arguments. ``evicted`` is
    handed each tuple once, when no window will hold it any more (late tuples included), so
    that a task can ack it (Heron acks a tuple when it leaves the window).

    >>> from heronpy.windows.spec import Count
    >>> op = WindowOperator(WindowSpec(Count(2)), channels=[1], now=0.0)
    >>> op.on_tuple("a", channel=1, now=0.0), op.on_tuple("b", channel=1, now=0.0)
    ([], [Window(0, 2, 2 tuples)])
    """

    def __init__(self, spec: WindowSpec, channels: Iterable[int], now: float,
                 evicted: Callable[[list], None] = lambda items: None):
        self.spec = spec
        self._evicted = evicted
        self.dropped_late = 0  # late tuples dropped (event time without a late_stream)
        self._late: list = []
        self._event_time = spec.event_time
        # the latest ``now``, kept for processing-time windows and for idleness
        uses_time = not spec.is_count and (not self._event_time or spec.idle_timeout is not None)
        self._clock = to_nanos(now) if uses_time else None
        firings = Firings()
        if spec.is_count:
            self._windows = CountWindows(spec.length.n, spec.slide.n, firings, evicted)
        else:
            assigner = WindowAssigner(spec.length.nanos, spec.slide.nanos)
            lateness = spec.allowed_lateness.nanos if spec.allowed_lateness else 0
            start = None if self._event_time else self._clock
            self._windows = TimeWindows(assigner, lateness, firings, evicted, start)
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
        return fired + self._event_tuple(item, channel, to_nanos(timestamp))

    def on_tuples(self, items: Sequence, channel: int, now: float,
                  timestamps: Sequence | None = None) -> list[Window]:
        """Tuples that arrive together on ``channel``, with their ``timestamps`` in event time:
        exactly ``on_tuple`` for each in turn (the same windows fire, in the same order, with
        the same tuples; the same tuples are late; the watermark ends the same), at a fraction
        of the cost when the timestamps are floats or ints (a list or a numpy array).

        One difference: a batch with a timestamp that is not a time (which ``on_tuple``
        refuses) is refused whole, nothing taken, where ``on_tuple`` one at a time would have
        taken the tuples before it."""
        if not self._event_time:
            return [w for item in items for w in self.on_tuple(item, channel, now)]
        if timestamps is None or len(timestamps) != len(items):
            raise ValueError(f"{len(items)} tuples but "
                             f"{'no' if timestamps is None else len(timestamps)} timestamps")
        if not len(items):
            return []
        self._watermarks.check_open(channel)
        times, error = to_nanos_array(timestamps)
        if error is not None:
            raise error
        if times is None or len(items) < BATCH_MIN or self.spec.idle_timeout is not None:
            # one at a time, as on_tuple (a tick each: with idleness it can move the watermark)
            nanos = times.tolist() if times is not None else [to_nanos(t) for t in timestamps]
            fired = []
            for item, t in zip(items, nanos, strict=True):
                fired += self._tick(now)
                fired += self._event_tuple(item, channel, t)
            return fired
        return self._tick(now) + self._event_batch(items, channel, times)

    def _event_tuple(self, item, channel: int, t: int) -> list[Window]:
        """A tuple at time ``t`` (nanoseconds) in event time."""
        again = self._windows.add(t, item)
        if again is None:
            self._evicted([item])
            if self.spec.late_stream is None:
                self.dropped_late += 1
            else:
                self._late.append(item)
            again = []
        self._watermarks.on_timestamp(channel, t, self._clock)
        return again + self._windows.advance(self._watermarks.value)

    def _event_batch(self, items: Sequence, channel: int, times: np.ndarray) -> list[Window]:
        """``_event_tuple`` for each tuple, vectorised: the watermark after each tuple, which
        tuples are late, and where the watermark reaches a window's end are computed for the
        whole batch; the tuples between those points go into their panes together. A tuple
        that makes a fired window fire again (allowed lateness) goes in alone."""
        windows, marks, spec = self._windows, self._watermarks, self.spec
        if not len(times):
            return []
        lag = spec.lag.nanos if spec.lag else 0
        length, slide = windows._assign.length, windows._assign.slide
        lateness = windows._lateness
        own = marks._open[channel]
        others = min((v for c, v in marks._open.items() if c != channel), default=INF)
        start = marks.value
        if (max(lag, length, slide, lateness) >= 2**60 or not _in_range(own, others, start)
                or windows.watermark != start):
            return [w for item, t in zip(items, times.tolist(), strict=True)
                    for w in self._event_tuple(item, channel, t)]
        # the watermark after each tuple: its channel's mark rises with the timestamps, the
        # task's is the smallest over the channels, and never goes back
        mark = np.maximum.accumulate(times - lag)
        if own != -INF:
            mark = np.maximum(mark, own)
        if others == -INF:
            after = np.full(len(times), _int(start), dtype=np.int64)
        else:
            after = mark if others == INF else np.minimum(mark, others)
            if start != -INF:
                after = np.maximum(after, start)
        before = np.concatenate(([_int(start)], after[:-1]))
        # the tuples' windows, from first to last; late: all gone by the time it came
        last = times // slide
        first = (times - length) // slide + 1
        gap = first > last
        late = ~gap & (last * slide + length + lateness <= before)
        stops = np.zeros(len(times), dtype=bool)
        if lateness:  # a tuple that comes within the lateness makes its fired windows fire
            kept = np.maximum(first, (before - length - lateness) // slide + 1)
            stops = ~gap & ~late & (kept * slide + length <= before)
        simple = ~gap & ~late & ~stops
        # where the watermark reaches windows' ends, or their ends + lateness: windows fire
        # or are dropped after that tuple
        reached = (np.concatenate(([_int(start)], after)) - length) // slide
        dropped = (np.concatenate(([_int(start)], after)) - length - lateness) // slide
        crossing = (np.diff(reached) != 0) | (np.diff(dropped) != 0)
        if gap.any():
            self._evicted([items[j] for j in np.flatnonzero(gap).tolist()])
        if late.any():
            late_items = [items[j] for j in np.flatnonzero(late).tolist()]
            self._evicted(late_items)
            if spec.late_stream is None:
                self.dropped_late += len(late_items)
            else:
                self._late += late_items
        fired: list[Window] = []
        done = 0
        for j in [*np.flatnonzero(crossing | stops).tolist(), len(times) - 1]:
            if j < done:
                continue
            upto = j if stops[j] else j + 1
            take = np.flatnonzero(simple[done:upto]) + done
            if len(take):
                if len(take) == upto - done:
                    part = items[done:upto]
                    part = part if isinstance(part, list) else list(part)
                else:
                    part = list(map(items.__getitem__, take.tolist()))
                windows.extend(times[take], part, before[take])
            if stops[j]:
                fired += windows.advance(_watermark(before[j]))
                fired += windows.add(int(times[j]), items[j])
            fired += windows.advance(_watermark(after[j]))
            done = j + 1
        marks._open[channel] = max(own, int(times.max()) - lag)
        marks._heard[channel] = self._clock
        marks.value = _watermark(after[-1])
        return fired

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

    def flush(self, now: float) -> list[Window]:
        """Every input says that only replays may follow (ATLEAST_ONCE: a bounded spout waits
        for the acks of what windows hold): the windows holding tuples fire now, ``partial``,
        and let go of them all; tuples that come later start windows afresh."""
        return self._tick(now) + self._windows.close()

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
