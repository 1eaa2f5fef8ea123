"""Windows for bolts: pure, deterministic window logic that a bolt's task drives.

``WindowSpec(length, slide=None, ...)`` says what the windows are (``Count`` or ``Duration``
sizes; event time with a timestamp, else processing time). A ``WindowOperator(spec, channels,
now)`` per bolt task takes every input event through a call that returns the windows that fire
(``Window``: ``start``, ``end``, ``tuples``, ``partial``, ``new``, ``expired``, ``columns()``):

- ``on_tuple(item, channel, now, timestamp=None)`` for each tuple, one at a time, or
  ``on_tuples(items, channel, now, timestamps=None)`` for a batch from one channel: the same
  windows fire, vectorised with numpy in event time;
- ``on_watermark(channel, watermark, now)`` for a watermark sent in band by an upstream task;
- ``on_time(now)`` on each timer tick;
- ``on_end_of_stream(channel, now)`` when an upstream task ends.

The caller forwards ``operator.watermark`` downstream, emits ``operator.drain_late()`` on the
spec's ``late_stream``, and calls ``process_window(window, window.tuples)`` for each window. The
operator reads no clock, opens no socket and starts no thread: the time is the ``now`` given
to it. Exact rules and examples: docs/windows.md.

>>> op = WindowOperator(WindowSpec(Duration(10), timestamp_field="t"), channels=[1], now=0)
>>> op.on_tuple("a", channel=1, now=0, timestamp=3.5)
[]
>>> op.on_tuple("b", channel=1, now=0, timestamp=12)
[Window(0.0, 10.0, 1 tuples)]
"""

from heronpy.windows.operator import WindowOperator
from heronpy.windows.spec import Count, Duration, WindowSpec
from heronpy.windows.window import Window

__all__ = ["Count", "Duration", "Window", "WindowOperator", "WindowSpec"]


def __getattr__(name: str):
    """``heronpy.windows.WindowedBolt`` is the bolt class, defined with the API (which may
    import this package, not the reverse)."""
    if name == "WindowedBolt":
        from heronpy.api.bolt.windowed_bolt import WindowedBolt

        return WindowedBolt
    raise AttributeError(f"module 'heronpy.windows' has no attribute {name!r}")
