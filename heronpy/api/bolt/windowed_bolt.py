"""A bolt that processes windows of tuples instead of single tuples.

    class TopWords(WindowedBolt):
        outputs = ["word", "count"]
        length = Duration(10)
        slide = Duration(1)
        timestamp_field = "time"          # event time; omit for processing time
        lag = Duration(2)                 # bounded out-of-orderness

        def process_window(self, window, tuples):
            counts = Counter(t.values[0] for t in tuples)
            ...

The rules (alignment, watermarks, lateness, count windows) are in docs/windows.md.
"""

from __future__ import annotations

from heronpy.api.bolt.bolt import Bolt
from heronpy.windows import Count, Duration, WindowSpec


class WindowedBolt(Bolt):
    """Configured by class attributes: ``length`` and optional ``slide`` (``Count(n)`` or
    ``Duration(seconds)``), ``timestamp_field`` or a ``timestamp(self, tup)`` method for event
    time, ``lag``, ``allowed_lateness``, ``idle_timeout`` and ``late_stream``."""

    length: Count | Duration | None = None
    slide: Count | Duration | None = None
    timestamp_field: str | None = None
    lag: Duration | None = None
    allowed_lateness: Duration | None = None
    idle_timeout: Duration | None = None
    late_stream: str | None = None

    @classmethod
    def window_spec(cls, config: dict) -> WindowSpec:
        """The windows of this bolt; ``config`` is its component config (Heron's window bolts
        read their sizes from it). Raises ``ValueError`` for an invalid window."""
        if cls.length is None:
            raise ValueError(f"{cls.__name__} sets no window length")
        uses_method = cls.timestamp is not WindowedBolt.timestamp
        return WindowSpec(cls.length, cls.slide, timestamp_field=cls.timestamp_field,
                          timestamp_fn=cls.timestamp if uses_method else None, lag=cls.lag,
                          allowed_lateness=cls.allowed_lateness, idle_timeout=cls.idle_timeout,
                          late_stream=cls.late_stream)

    def timestamp(self, tup) -> float:
        """Override to compute a tuple's event time (epoch seconds) instead of a field."""
        raise NotImplementedError

    def process_window(self, window, tuples: list) -> None:
        """Called for every window that fires: ``window.start``/``end``/``partial``/``new``/
        ``expired``/``columns(fields)``; ``tuples`` are the window's input tuples."""

    def process(self, tup) -> None:
        """Not called: a windowed bolt's tuples reach it through ``process_window``."""
