"""Time windows: the tuples of the open windows, kept in panes, and when the windows fire.

A window fires when the watermark (in processing time, the clock) reaches its end, and fires
again for each tuple that arrives before the watermark passes its end + allowed lateness; then
it is dropped. In event time only windows holding tuples fire; in processing time every window
fires, empty or not. Times are integer nanoseconds.
"""

from __future__ import annotations

from heapq import heappop, heappush

from heronpy.windows.assigners import WindowAssigner
from heronpy.windows.timebase import INF, to_seconds
from heronpy.windows.window import Firings, Window


class TimeWindows:
    STATE = ("watermark", "_next", "_panes", "_live", "_drops", "_pending", "_arrivals")

    def __init__(self, assigner: WindowAssigner, lateness: int, firings: Firings,
                 clock: int | None = None):
        """``clock``: processing time only, the time the operator starts at; every window that
        ends after it fires."""
        self._assign = assigner
        self._lateness = lateness
        self._firings = firings
        self._processing_time = clock is not None
        self.watermark: int | float = -INF if clock is None else clock
        self._next = None if clock is None else assigner.first_ending_after(clock)
        self._panes: dict[int, list[tuple]] = {}  # pane -> [(time, arrival number, tuple)]
        self._live: set[int] = set()  # windows holding tuples, not dropped yet
        self._drops: list[tuple[int, int]] = []  # heap of (drop time, window) of the same
        self._pending: list[tuple[int, int]] = []  # heap of (end, window): not fired yet
        self._arrivals = 0

    def add(self, t: int, item) -> list[Window] | None:
        """Adds a tuple at time ``t``. Returns the windows that fire again because of it (it
        arrived after they fired, within the allowed lateness), or None if it is late: every
        window it belongs to is gone. A tuple in a gap between windows is ignored."""
        assign = self._assign
        windows = assign.windows_of(t)
        if not windows:
            return []
        watermark = self.watermark
        after_firing = assign.end(windows[0]) <= watermark
        if after_firing:
            windows = [k for k in windows if assign.end(k) + self._lateness > watermark]
            if not windows:
                return None
        entry = (t, self._arrivals, item)
        self._arrivals += 1
        p = assign.pane_of(t)
        pane = self._panes.get(p)
        fresh = ()  # windows that were empty until now
        if pane is None:
            pane = self._panes[p] = []
            fresh = [k for k in windows if k not in self._live]
            for k in fresh:
                end = assign.end(k)
                self._live.add(k)
                heappush(self._drops, (end + self._lateness, k))
                if end > watermark:
                    heappush(self._pending, (end, k))
        pane.append(entry)
        if not after_firing:
            return []
        return [self._fire(k, added=None if k in fresh else entry)
                for k in windows if assign.end(k) <= watermark]

    def advance(self, watermark: int | float) -> list[Window]:
        """Moves the watermark (the clock) on: the windows that end by it fire, in order."""
        if watermark <= self.watermark:
            return []
        self.watermark = watermark
        due = []
        while self._pending and self._pending[0][0] <= watermark:
            due.append(heappop(self._pending)[1])
        if self._processing_time:
            due = range(self._next, self._assign.last_ending_by(watermark) + 1)
            self._next = due.stop
        fired = [self._fire(k) for k in due]
        while self._drops and self._drops[0][0] <= watermark:
            k = heappop(self._drops)[1]
            self._live.discard(k)
            for pane in self._assign.panes_last_in(k):
                self._panes.pop(pane, None)
        return fired

    def close(self) -> list[Window]:
        """End of stream in processing time: the windows holding tuples fire, partial."""
        fired = [self._fire(k, partial=True) for _, k in sorted(self._pending)]
        self._panes.clear()
        self._live.clear()
        self._drops.clear()
        self._pending.clear()
        return fired

    def _fire(self, k: int, added: tuple | None = None, partial: bool = False) -> Window:
        entries = []
        for p in self._assign.panes_of(k):
            pane = self._panes.get(p)
            if pane:
                pane.sort()  # by time, then arrival: mostly sorted already
                entries += pane
        return self._firings.fire(to_seconds(self._assign.start(k)),
                                  to_seconds(self._assign.end(k)), entries, partial, added)
