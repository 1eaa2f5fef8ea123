"""Exact time: instants and durations as integer nanoseconds (watermarks may also be ±inf).

Window boundaries are compared exactly, so that a tuple at 0.3 s is on the boundary of 0.1 s
slides, as written, rather than just below it, as its binary float is. A float is read as the
shortest decimal that gives it back (its ``repr``), then rounded to the nanosecond; an int is
exact.

>>> to_nanos(0.3), to_nanos(1700000000.3), to_nanos(2)
(300000000, 1700000000300000000, 2000000000)
>>> to_seconds(300000000)
0.3
"""

from __future__ import annotations

from decimal import Decimal
from numbers import Integral, Real

NANOS = 10**9
"""Nanoseconds per second."""

INF = float("inf")


def to_nanos(seconds: Real, digits: int = 9) -> int:
    """``seconds`` as integer nanoseconds (or, with ``digits=6``, milliseconds as nanoseconds)."""
    if type(seconds) is float:  # the usual case, made fast: the digits of its repr, if few
        whole, point, fraction = repr(seconds).partition(".")
        if point and len(fraction) <= digits and "e" not in fraction:
            return int(whole + fraction.ljust(digits, "0"))
    elif type(seconds) is int:
        return seconds * 10**digits
    if isinstance(seconds, Integral) and not isinstance(seconds, bool):
        return int(seconds) * 10**digits
    if not isinstance(seconds, Real) or isinstance(seconds, bool):
        raise TypeError(f"a time must be a number of seconds, given {seconds!r}")
    try:
        return round(Decimal(repr(float(seconds))).scaleb(digits))
    except (ValueError, OverflowError):
        raise ValueError(f"a time must be finite, given {seconds!r}") from None


def watermark_nanos(seconds: Real) -> int | float:
    """Like ``to_nanos``, but ±inf stay as they are (the watermarks before any tuple and after
    the end of the stream)."""
    return seconds if seconds in (INF, -INF) else to_nanos(seconds)


def to_seconds(nanos: int | float) -> float:
    """Nanoseconds (or ±inf) as float seconds, correctly rounded."""
    return nanos / NANOS
