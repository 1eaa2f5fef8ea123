"""Heron's window bolts, ``processWindow(window_info, tuples)`` and their config keys, running
on heronpy's window machinery (processing time; sizes in whole or fractional seconds)."""

from __future__ import annotations

from collections import namedtuple

from heronpy.api.bolt.windowed_bolt import WindowedBolt
from heronpy.windows import Duration, WindowSpec

WindowContext = namedtuple("WindowContext", ("start", "end"))


class _HeronWindowBolt(WindowedBolt):
    def processWindow(self, window_info: WindowContext, tuples: list) -> None:  # noqa: N802
        """Called for every window: ``window_info`` has ``start`` and ``end``."""

    def process_window(self, window, tuples: list) -> None:
        self.processWindow(WindowContext(window.start, window.end), tuples)


class SlidingWindowBolt(_HeronWindowBolt):
    """Windows of ``WINDOW_DURATION_SECS`` every ``WINDOW_SLIDEINTERVAL_SECS`` (component
    config; the slide defaults to the duration)."""

    WINDOW_DURATION_SECS = "slidingwindowbolt_duration_secs"
    WINDOW_SLIDEINTERVAL_SECS = "slidingwindowbolt_slideinterval_secs"

    @classmethod
    def window_spec(cls, config: dict) -> WindowSpec:
        if cls.WINDOW_DURATION_SECS not in config:
            raise ValueError(f"{cls.__name__} needs {cls.WINDOW_DURATION_SECS} in its config")
        length = float(config[cls.WINDOW_DURATION_SECS])
        slide = float(config.get(cls.WINDOW_SLIDEINTERVAL_SECS, length))
        return WindowSpec(Duration(length), Duration(slide))


class TumblingWindowBolt(_HeronWindowBolt):
    """Windows of ``WINDOW_DURATION_SECS`` (component config), one after the other."""

    WINDOW_DURATION_SECS = "tumblingwindowbolt_duration_secs"

    @classmethod
    def window_spec(cls, config: dict) -> WindowSpec:
        if cls.WINDOW_DURATION_SECS not in config:
            raise ValueError(f"{cls.__name__} needs {cls.WINDOW_DURATION_SECS} in its config")
        return WindowSpec(Duration(float(config[cls.WINDOW_DURATION_SECS])))
