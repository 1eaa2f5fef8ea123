"""Count windows: ``Count(n)`` sliding by ``Count(k)`` fires every k arrivals at the task with
the last n tuples (fewer for the first windows); tumbling when k = n. A tuple leaves (goes to
``evicted``) when it falls out of the last n, when a tumbling window fires, or at the end."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from heronpy.windows.window import Firings, Window


class CountWindows:
    STATE = ("_held", "_arrivals", "_since_fired")

    def __init__(self, length: int, slide: int, firings: Firings,
                 evicted: Callable[[list], None]):
        self._held: deque[tuple] = deque(maxlen=length)  # (arrival number, tuple)
        self._evicted = evicted
        self._overlap = slide < length  # else no tuple is in two windows
        self._slide = slide
        self._firings = firings
        self._arrivals = 0
        self._since_fired = 0

    def add(self, item) -> list[Window]:
        if len(self._held) == self._held.maxlen:
            self._evicted([self._held[0][1]])
        self._held.append((self._arrivals, item))
        self._arrivals += 1
        self._since_fired += 1
        return [self._fire(False)] if self._since_fired == self._slide else []

    def close(self) -> list[Window]:
        """End of stream: the tuples held fire as a partial window if any arrived since the
        last firing."""
        fired = [self._fire(True)] if self._since_fired else []
        self._evicted([item for _, item in self._held])
        self._held.clear()
        return fired

    def _fire(self, partial: bool) -> Window:
        entries = list(self._held)
        self._since_fired = 0
        if not self._overlap:
            self._evicted([item for _, item in entries])
            self._held.clear()
        return self._firings.fire(self._arrivals - len(entries), self._arrivals, entries, partial)
