"""The window a windowed operation's result belongs to (Heron's ``Window``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Window:
    """``start`` and ``end`` of a window: epoch seconds for time windows, arrival numbers for
    count windows (the window holds arrivals ``start`` to ``end - 1``); see docs/windows.md.

    >>> Window(0.0, 10.0)
    Window(start=0.0, end=10.0)
    """

    start: float
    end: float
