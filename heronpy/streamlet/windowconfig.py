"""The windows of a windowed operation: tumbling or sliding, by count or by time
(Heron's ``WindowConfig``).

Sizes are seconds (an ``int`` or ``float``), a ``datetime.timedelta``, a
``heronpy.windows.Duration`` or, for count windows, a ``heronpy.windows.Count``. Time windows
are in processing time (the time a tuple reaches the window's task) unless a
``timestamp_extractor`` is given: it returns an element's event time in epoch seconds, and the
window fires once the watermark (the smallest time its inputs have reached, minus ``lag``)
passes its end. The exact rules are in docs/windows.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from heronpy.windows import Count, Duration, WindowSpec

Size = int | float | timedelta | Count | Duration


class WindowConfig:
    """Window sizes, and the time semantics of time windows.

    >>> WindowConfig.create_sliding_window(10, 5).slide
    Duration(5.0)
    >>> WindowConfig.create_tumbling_window(Count(100)).length
    Count(n=100)
    >>> WindowConfig.create_tumbling_window(60, timestamp_extractor=lambda e: e["time"],
    ...                                     lag=2).spec().event_time
    True
    """

    def __init__(self, window_duration: Size, slide_interval: Size,
                 timestamp_extractor: Callable[[Any], float] | None = None,
                 lag: float | timedelta | Duration | None = None):
        self.length = _size(window_duration)
        self.slide = _size(slide_interval)
        self.timestamp_extractor = timestamp_extractor
        self.lag = None if lag is None else _duration(lag)
        self.spec()  # an invalid window fails here, at the user's call

    @staticmethod
    def create_tumbling_window(window_duration: Size,
                               timestamp_extractor: Callable[[Any], float] | None = None,
                               lag: float | timedelta | Duration | None = None) -> WindowConfig:
        """Windows of ``window_duration``, one after the other."""
        return WindowConfig(window_duration, window_duration, timestamp_extractor, lag)

    @staticmethod
    def create_sliding_window(window_duration: Size, slide_interval: Size,
                              timestamp_extractor: Callable[[Any], float] | None = None,
                              lag: float | timedelta | Duration | None = None) -> WindowConfig:
        """Windows of ``window_duration``, a new one every ``slide_interval``."""
        return WindowConfig(window_duration, slide_interval, timestamp_extractor, lag)

    def spec(self, timestamp_fn: Callable | None = None) -> WindowSpec:
        """These windows as a bolt's ``WindowSpec``. In event time the spec reads each input's
        time with ``timestamp_fn`` (by default the timestamp extractor itself)."""
        event_time = self.timestamp_extractor is not None
        return WindowSpec(self.length, self.slide,
                          timestamp_fn=(timestamp_fn or self.timestamp_extractor)
                          if event_time else None,
                          lag=self.lag)

    def __repr__(self) -> str:
        time = ", event time" if self.timestamp_extractor is not None else ""
        return f"WindowConfig({self.length!r}, {self.slide!r}{time})"


def _size(value: Size) -> Count | Duration:
    return value if isinstance(value, Count) else _duration(value)


def _duration(value: float | timedelta | Duration) -> Duration:
    if isinstance(value, Duration):
        return value
    if isinstance(value, timedelta):
        return Duration(value.total_seconds())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Duration(value)
    raise TypeError(f"a window size is seconds (int or float), a timedelta, a Duration or a "
                    f"Count, given {value!r}")
