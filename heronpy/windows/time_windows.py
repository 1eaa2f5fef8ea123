"""Time windows: the tuples of the open windows, kept in panes, and when the windows fire.

A window fires when the watermark (in processing time, the clock) reaches its end, and fires
again for each tuple that arrives before the watermark passes its end + allowed lateness; then
it is dropped. In event time only windows holding tuples fire; in processing time every window
fires, empty or not. Times are integer nanoseconds. A tuple leaves (goes to ``evicted``)
when the last window it is in is dropped, at once if it falls in a gap between windows, and
at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush

import numpy as np

from heronpy.windows.assigners import WindowAssigner
from heronpy.windows.panes import Pane
from heronpy.windows.timebase import INF, to_seconds
from heronpy.windows.window import Firings, Window

NO_WATERMARK = -(2**62) - 1
"""-inf, as a watermark in an int64 array (times are within ±2^62)."""


class TimeWindows:
    STATE = ("watermark", "_next", "_panes", "_live", "_drops", "_pending", "_arrivals")

    def __init__(self, assigner: WindowAssigner, lateness: int, firings: Firings,
                 evicted: Callable[[list], None], clock: int | None = None):
        """``clock``: processing time only, the time the operator starts at; every window that
        ends after it fires."""
        self._assign = assigner
        self._lateness = lateness
        self._firings = firings
        self._evicted = evicted
        self._processing_time = clock is not None
        self.watermark: int | float = -INF if clock is None else clock
        self._next = None if clock is None else assigner.first_ending_after(clock)
        self._panes: dict[int, Pane] = {}  # pane -> its tuples, with their times and arrivals
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
            self._evicted([item])
            return []
        watermark = self.watermark
        after_firing = assign.end(windows[0]) <= watermark
        if after_firing:
            windows = [k for k in windows if assign.end(k) + self._lateness > watermark]
            if not windows:
                return None
        arrival = self._arrivals
        self._arrivals += 1
        p = assign.pane_of(t)
        pane = self._panes.get(p)
        fresh = ()  # windows that were empty until now
        if pane is None:
            pane = self._panes[p] = Pane()
            fresh = self._open(windows, watermark)
        pane.append(t, arrival, item)
        if not after_firing:
            return []
        return [self._fire(k, added=None if k in fresh else arrival)
                for k in windows if assign.end(k) <= watermark]

    def extend(self, times: np.ndarray, items: list, before: np.ndarray) -> None:
        """Adds tuples that are neither late nor make a window fire again, nor fall in a gap,
        exactly as ``add`` would one by one: ``times`` in nanoseconds, ``before`` the
        watermark each came at (``NO_WATERMARK`` for -inf), both int64 arrays; ``items`` (a
        list) is kept as it is."""
        assign = self._assign
        ids = np.arange(self._arrivals, self._arrivals + len(times), dtype=np.int64)
        self._arrivals += len(times)
        slide = assign.slide
        k = times // slide
        panes = 2 * k + (times - k * slide >= assign.length % slide)
        if (panes == panes[0]).all():
            groups = [(0, None)]
        else:
            order = np.argsort(panes, kind="stable")
            groups = [(int(g[0]), g) for g in np.split(order, np.flatnonzero(np.diff(
                panes[order])) + 1)]
        for first, members in groups:
            p = int(panes[first])
            pane = self._panes.get(p)
            if pane is None:
                pane = self._panes[p] = Pane()
                watermark = int(before[first])
                watermark = -INF if watermark == NO_WATERMARK else watermark
                windows = assign.windows_of(int(times[first]))
                if assign.end(windows[0]) <= watermark:
                    windows = [w for w in windows if assign.end(w) + self._lateness > watermark]
                self._open(windows, watermark)
            if members is None:
                pane.extend(times, ids, items)
            else:
                pane.extend(times[members], ids[members],
                            list(map(items.__getitem__, members.tolist())))

    def _open(self, windows, watermark: int | float) -> list[int]:
        """The windows a new pane is in: those that held no tuple start now."""
        fresh = [k for k in windows if k not in self._live]
        for k in fresh:
            end = self._assign.end(k)
            self._live.add(k)
            heappush(self._drops, (end + self._lateness, k))
            if end > watermark:
                heappush(self._pending, (end, k))
        return fresh

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
            for p in self._assign.panes_last_in(k):
                pane = self._panes.pop(p, None)
                if pane is not None:
                    self._evicted(pane.items())
        return fired

    def close(self) -> list[Window]:
        """End of stream in processing time (or a flush): the windows holding tuples that have
        not fired yet fire, partial; every tuple is let go."""
        fired = [self._fire(k, partial=True) for _, k in sorted(self._pending)]
        for pane in self._panes.values():
            self._evicted(pane.items())
        self._panes.clear()
        self._live.clear()
        self._drops.clear()
        self._pending.clear()
        return fired

    def _fire(self, k: int, added: int | None = None, partial: bool = False) -> Window:
        panes = self._panes
        runs = [pane.run() for p in self._assign.panes_of(k) if (pane := panes.get(p))]
        return self._firings.fire_runs(to_seconds(self._assign.start(k)),
                                       to_seconds(self._assign.end(k)), runs, partial, added)
