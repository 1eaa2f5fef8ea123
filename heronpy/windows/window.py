"""What ``process_window`` receives: one firing of one window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True, eq=False, repr=False)
class Window:
    """One firing of a window: its bounds and its tuples.

    Time windows are ``[start, end)`` in epoch seconds (floats). Count windows number the
    tuples in order of arrival at the task from 0, and hold those numbered ``start`` (included)
    to ``end`` (excluded). ``tuples`` are in timestamp order (ties in arrival order) in event
    time, in arrival order otherwise. ``partial``: the window fired before its end was reached,
    because the stream ended.

    ``new`` and ``expired`` (Storm's names) compare this firing with the previous one: the
    window's own previous firing when it fires again (late tuples), otherwise the previous
    window that fired for the first time.

    >>> w = Window(0.0, 10.0, [[1, "a"], [2, "b"]])
    >>> w.columns(["n", "name"])["n"]
    array([1, 2])
    """

    start: float | int
    end: float | int
    tuples: list
    partial: bool = False
    _ids: list[int] | None = None  # arrival numbers of the tuples: what new/expired compare
    _previous: tuple[Sequence[int], Sequence] = ((), ())  # the ids and tuples compared with

    @cached_property
    def new(self) -> list:
        """The tuples that were not in the previous firing."""
        if self._ids is None:
            return list(self.tuples)
        before = set(self._previous[0])
        return [t for i, t in zip(self._ids, self.tuples, strict=True) if i not in before]

    @cached_property
    def expired(self) -> list:
        """The tuples of the previous firing that are not in this one."""
        now = set(self._ids or ())
        return [t for i, t in zip(*self._previous, strict=True) if i not in now]

    def columns(self, fields: Sequence[str]) -> dict[str, np.ndarray]:
        """The tuples as one numpy array per field: ``fields`` names the values of each tuple
        (a ``HeronTuple``'s ``values``, or the tuple itself when it is a list of values)."""
        rows = [getattr(t, "values", t) for t in self.tuples]
        if rows and len(rows[0]) != len(fields):
            raise ValueError(f"{len(fields)} field names for tuples of {len(rows[0])} values")
        columns = zip(*rows, strict=True) if rows else [()] * len(fields)
        return {name: np.asarray(column) for name, column in zip(fields, columns, strict=True)}

    def __repr__(self) -> str:
        partial = ", partial" if self.partial else ""
        return f"Window({self.start!r}, {self.end!r}, {len(self.tuples)} tuples{partial})"


class Firings:
    """Makes the ``Window`` of each firing, remembering the firing that ``new`` and
    ``expired`` compare with."""

    STATE = ("_key", "_ids", "_tuples")

    def __init__(self):
        self._key = None  # (start, end) of the latest window that fired for the first time
        self._ids: Sequence[int] = ()
        self._tuples: Sequence = ()

    def fire(self, start: float | int, end: float | int, entries: list[tuple],
             partial: bool = False, added: tuple | None = None) -> Window:
        """``entries`` end with (arrival number, tuple), in window order; ``added`` is the entry
        whose arrival makes the window fire again, None for a first firing."""
        ids = [e[-2] for e in entries]
        tuples = [e[-1] for e in entries]
        if added is None:
            previous = (self._ids, self._tuples)
        else:
            kept = [e for e in entries if e is not added]
            previous = ([e[-2] for e in kept], [e[-1] for e in kept])
        if added is None or self._key == (start, end):
            self._key, self._ids, self._tuples = (start, end), ids, tuples
        return Window(start, end, tuples, partial, ids, previous)
