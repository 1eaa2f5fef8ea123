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

import numpy as np

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


_FLOATS = frozenset({float, np.float64})
_INTS = frozenset({int, np.int64})
_LOW, _HIGH = 2**19, 2**32  # floats in this range are converted by numpy, exactly
SAFE = 2**62
"""Nanoseconds within ±SAFE (±146 years around 1970, and any time after 2^19 s below 2^32 s)
leave room in int64 for window arithmetic."""


def to_nanos_array(seconds) -> tuple[np.ndarray | None, Exception | None]:
    """``to_nanos`` of each of ``seconds`` (a sequence), as an int64 array: exactly what
    ``to_nanos`` gives, for a fraction of its cost when they are floats or ints.

    Returns ``(nanos, None)``; ``(nanos of those before, error)`` when one of them is not a
    time (``to_nanos`` raises ``error`` for it); ``None`` instead of the nanoseconds when one
    is outside ±SAFE.

    >>> to_nanos_array([1700000000.3, 0.1, 2])[0].tolist()
    [1700000000300000000, 100000000, 2000000000]
    """
    n = len(seconds)
    out = np.zeros(n, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    values = _as_array(seconds)
    if values is not None and values.dtype.kind == "i":
        done = (values > -_HIGH) & (values < _HIGH)
        out[done] = values[done] * NANOS
    elif values is not None:
        done = (values >= _LOW) & (values < _HIGH)
        # the usual case: at most 6 decimals. Then c / 10^6 reads back as the float, and no
        # other multiple of 10^-6 does (they are more than a unit in the last place apart)
        micros = np.rint(values * 1e6)
        fast = done & (micros / 1e6 == values)
        out[fast] = micros[fast].astype(np.int64) * 1000
        rest = done & ~fast
        if rest.any():
            part, resolved = _float_nanos(values[rest])
            out[rest] = part
            done[rest] = resolved
    big = False
    for j in np.flatnonzero(~done).tolist():
        try:
            value = to_nanos(seconds[j])
        except Exception as err:  # what to_nanos raises, after the ones before it
            return (None if big else out[:j]), err
        if -SAFE < value < SAFE:
            out[j] = value
        else:
            big = True
    return (None if big else out), None


def _as_array(seconds) -> np.ndarray | None:
    """``seconds`` as a float64 or int64 array when every one is a float or an int (of
    Python or numpy: not bool, not Decimal), else None."""
    if isinstance(seconds, np.ndarray):
        return seconds if seconds.dtype in (np.float64, np.int64) and seconds.ndim == 1 else None
    types = set(map(type, seconds))
    try:
        if types <= _INTS:
            return np.array(seconds, dtype=np.int64)
        if types <= _FLOATS | _INTS:  # ints turn into floats, exactly in the converted range
            return np.array(seconds, dtype=np.float64)
    except OverflowError:
        pass
    return None


def _float_nanos(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For floats in [2^19, 2^32): the shortest decimal that gives each back (what ``repr``
    prints; of two equally short and close, the one with an even last digit), in integer
    nanoseconds, and which of them have one of at most 9 decimals (the others are left to
    ``to_nanos``).

    Each float is ``M·2^-shift`` with an integer significand M < 2^53 and shift in 21..33;
    its fraction is ``j·2^-shift`` seconds, or F = j·10^9 in units of 2^-shift ns (exact in
    int64). The decimals that read back as this float are those within half a unit in the
    last place of it, 5·10^8 such units, the bound included when M is even (ties round to
    even). With p decimals, the candidates are the multiples of 10^(9-p) ns; from 6 decimals
    down they are more than a unit in the last place apart, so at most one reads back: a
    shorter one, if any, is that same number. So p = 6 is tried first, then 7, 8, 9 (the
    nearest multiple each time)."""
    mantissa, exponent = np.frexp(x)
    m = np.ldexp(mantissa, 53).astype(np.int64)
    shift = (53 - exponent).astype(np.int64)
    whole = m >> shift
    fraction = (m & ((np.int64(1) << shift) - 1)) * NANOS
    limit = 5 * 10**8 - (m & 1)  # the largest distance that reads back
    uniform = shift[0] if (shift == shift[0]).all() else None
    out = np.zeros(len(x), dtype=np.int64)
    resolved = np.zeros(len(x), dtype=bool)
    for p in range(6, 10):
        step = 10 ** (9 - p)
        spacing = (step << int(uniform)) if uniform is not None else np.int64(step) << shift
        q, below = np.divmod(fraction, spacing)
        above = spacing - below
        hit = ~resolved & (np.minimum(below, above) <= limit)
        if hit.any():
            up = (above < below) | ((above == below) & (q % 2 == 1))
            out[hit] = whole[hit] * NANOS + (q[hit] + up[hit]) * step
            resolved |= hit
            if resolved.all():
                break
    return out, resolved
