"""What ``process_window`` receives: one firing of one window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from heronpy.windows.panes import Run


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
    # arrival numbers of the tuples, what new/expired compare: a list, or a tuple of arrays
    _ids: Sequence[int] | tuple[np.ndarray, ...] | None = None
    _previous: tuple[Sequence[int], Sequence] = ((), ())  # the ids and tuples compared with
    _runs: Sequence[Run] | None = None  # the tuples as sorted panes, whose columns are cached

    @cached_property
    def new(self) -> list:
        """The tuples that were not in the previous firing."""
        if self._ids is None:
            return list(self.tuples)
        before = set(_ints(self._previous[0]))
        return [t for i, t in zip(_ints(self._ids), self.tuples, strict=True) if i not in before]

    @cached_property
    def expired(self) -> list:
        """The tuples of the previous firing that are not in this one."""
        now = set(_ints(self._ids if self._ids is not None else ()))
        return [t for i, t in zip(_ints(self._previous[0]), self._previous[1], strict=True)
                if i not in now]

    def columns(self, fields: Sequence[str]) -> dict[str, np.ndarray]:
        """The tuples as one numpy array per field: ``fields`` names the values of each tuple
        (a ``HeronTuple``'s ``values``, or the tuple itself when it is a list of values)."""
        if self.tuples and self._runs:
            first = getattr(self.tuples[0], "values", self.tuples[0])
            if len(first) != len(fields):
                raise ValueError(f"{len(fields)} field names for tuples of {len(first)} values")
            return dict(zip(fields, _concatenate(self._runs, len(fields)), strict=True))
        rows = [getattr(t, "values", t) for t in self.tuples]
        if rows and len(rows[0]) != len(fields):
            raise ValueError(f"{len(fields)} field names for tuples of {len(rows[0])} values")
        columns = zip(*rows, strict=True) if rows else [()] * len(fields)
        return {name: np.asarray(column) for name, column in zip(fields, columns, strict=True)}

    def __repr__(self) -> str:
        partial = ", partial" if self.partial else ""
        return f"Window({self.start!r}, {self.end!r}, {len(self.tuples)} tuples{partial})"


def _ints(ids) -> Sequence[int]:
    """Arrival numbers as ints: given as such, or as a tuple of numpy arrays to join."""
    if isinstance(ids, tuple) and ids and isinstance(ids[0], np.ndarray):
        return [i for part in ids for i in part.tolist()]
    return ids


def _concatenate(runs: Sequence[Run], n: int) -> list[np.ndarray]:
    """Each of the ``n`` fields' column over the runs: their arrays joined when that is what
    ``np.asarray`` of the whole column gives (one dimension, one dtype, not object; strings
    of any width), else ``np.asarray`` of the whole column."""
    per_run = [run.columns(n) for run in runs]
    columns = []
    for j in range(n):
        arrays = [arrays[j] for arrays in per_run]
        dtype = arrays[0].dtype
        strings = dtype.kind in "US"
        if dtype.kind != "O" and all(a.ndim == 1 and (a.dtype == dtype or (
                strings and a.dtype.kind == dtype.kind)) for a in arrays):
            columns.append(np.concatenate(arrays))
        else:
            columns.append(np.asarray([v for run in runs for v in run.values(n)[j]]))
    return columns


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

    def fire_runs(self, start: float, end: float, runs: list[Run], partial: bool = False,
                  added: int | None = None) -> Window:
        """Like ``fire``, for a window made of sorted panes; ``added`` is the arrival number
        of the tuple whose arrival makes the window fire again."""
        tuples: list = []
        for run in runs:
            tuples += run.items
        ids = tuple(run.ids for run in runs)  # joined only if new or expired are asked for
        if added is None:
            previous = (self._ids, self._tuples)
        else:
            kept = [i != added for i in _ints(ids)]
            previous = ([i for i in _ints(ids) if i != added],
                        [t for t, keep in zip(tuples, kept, strict=True) if keep])
        if added is None or self._key == (start, end):
            self._key, self._ids, self._tuples = (start, end), ids, tuples
        return Window(start, end, tuples, partial, ids, previous, runs)
