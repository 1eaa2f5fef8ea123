"""What a window bolt is configured with: window sizes, time semantics and lateness.

>>> WindowSpec(Duration(10), Duration(5), timestamp_field="time", lag=Duration(2)).event_time
True
>>> WindowSpec(Count(100)).slide
Count(n=100)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from heronpy.windows.timebase import NANOS, to_nanos


@dataclass(frozen=True)
class Count:
    """A number of tuples, counted as they arrive at the bolt task."""

    n: int

    def __post_init__(self):
        if not isinstance(self.n, int) or isinstance(self.n, bool) or self.n <= 0:
            raise ValueError(f"Count takes a positive int, given {self.n!r}")


@dataclass(frozen=True, init=False, repr=False)
class Duration:
    """A length of time, exact to the nanosecond: ``Duration(0.1)``, ``Duration(2)`` or
    ``Duration(milliseconds=250)``.

    >>> Duration(milliseconds=250) == Duration(0.25)
    True
    """

    nanos: int

    def __init__(self, seconds: float | None = None, *, milliseconds: float | None = None):
        if (seconds is None) == (milliseconds is None):
            raise TypeError("Duration takes either seconds or milliseconds=...")
        nanos = to_nanos(seconds) if milliseconds is None else to_nanos(milliseconds, digits=6)
        if nanos < 0:
            raise ValueError(f"a Duration cannot be negative, given {seconds or milliseconds!r}")
        object.__setattr__(self, "nanos", nanos)

    @property
    def seconds(self) -> float:
        return self.nanos / NANOS

    def __repr__(self) -> str:
        return f"Duration({self.seconds!r})"


@dataclass(frozen=True)
class WindowSpec:
    """The windows of a bolt.

    ``length`` and ``slide`` are both ``Count`` (count windows) or both ``Duration`` (time
    windows); without ``slide`` the windows are tumbling. Time windows are in event time when
    the tuples carry a timestamp, read by the runtime from ``timestamp_field`` (a field name or
    index) or computed by ``timestamp_fn(tuple)``, in epoch seconds; otherwise in processing
    time. Event time only: ``lag`` is the bounded out-of-orderness the watermark allows for,
    ``allowed_lateness`` how long after the watermark passes a window's end it still takes late
    tuples, ``idle_timeout`` (off by default) after how long without input a channel stops
    holding the watermark back, and ``late_stream`` the stream late tuples are emitted on
    (without it they are dropped and counted).
    """

    length: Count | Duration
    slide: Count | Duration | None = None
    timestamp_field: str | int | None = None
    timestamp_fn: Callable | None = None
    lag: Duration | None = None
    allowed_lateness: Duration | None = None
    idle_timeout: Duration | None = None
    late_stream: str | None = None

    def __post_init__(self):
        if not isinstance(self.length, (Count, Duration)):
            raise TypeError(f"window length must be a Count or a Duration, given {self.length!r}")
        if self.slide is None:
            object.__setattr__(self, "slide", self.length)
        if type(self.slide) is not type(self.length):
            raise TypeError("window length and slide must both be Count or both be Duration, "
                            f"given length={self.length!r}, slide={self.slide!r}")
        if self.is_count:
            if self.event_time:
                raise ValueError("count windows count arrivals: they take no timestamp")
        elif self.length.nanos == 0 or self.slide.nanos == 0:
            raise ValueError(f"window length and slide must be positive, "
                             f"given length={self.length!r}, slide={self.slide!r}")
        if self.timestamp_field is not None and self.timestamp_fn is not None:
            raise ValueError("give timestamp_field or timestamp_fn, not both")
        if self.timestamp_fn is not None and not callable(self.timestamp_fn):
            raise TypeError(f"timestamp_fn must be callable, given {self.timestamp_fn!r}")
        for name in ("lag", "allowed_lateness", "idle_timeout", "late_stream"):
            value = getattr(self, name)
            if value is None:
                continue
            if not self.event_time:
                raise ValueError(f"{name} applies to event-time windows only "
                                 "(give timestamp_field or timestamp_fn)")
            if not isinstance(value, str if name == "late_stream" else Duration):
                kind = "a stream name" if name == "late_stream" else "a Duration"
                raise TypeError(f"{name} must be {kind}, given {value!r}")
        if self.idle_timeout is not None and self.idle_timeout.nanos == 0:
            raise ValueError("idle_timeout must be positive")

    @property
    def is_count(self) -> bool:
        """Count windows (else time windows)."""
        return isinstance(self.length, Count)

    @property
    def event_time(self) -> bool:
        """Time windows in event time: the tuples carry timestamps."""
        return self.timestamp_field is not None or self.timestamp_fn is not None
