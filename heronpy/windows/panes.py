"""The tuples of a pane, kept in chunks as they come, and given out sorted as immutable runs.

A ``Pane`` takes tuples one at a time (``append``) or a batch's worth at once (``extend``,
numpy arrays of times and arrival numbers). ``run()`` gives its tuples in window order, by
time then arrival, as a ``Run``: sorted once, then shared by every window the pane is in
until more tuples come. A ``Run`` also caches its tuples' values as numpy columns, so that
``Window.columns`` only concatenates.

>>> pane = Pane()
>>> pane.append(20, 0, "b"); pane.append(10, 1, "a")
>>> pane.run().items
['a', 'b']
"""

from __future__ import annotations

import numpy as np


class Run:
    """Immutable tuples of a pane in window order: ``times`` and ``ids`` (arrival numbers)
    as numpy arrays, ``items`` as a list."""

    __slots__ = ("_columns", "ids", "items", "times")

    def __init__(self, times: np.ndarray, ids: np.ndarray, items: list):
        self.times = times
        self.ids = ids
        self.items = items
        self._columns: dict[int, list[np.ndarray]] = {}

    def columns(self, n: int) -> list[np.ndarray]:
        """The values of the tuples by position, for tuples of ``n`` values, as numpy arrays
        (``np.asarray`` of each). Raises ``ValueError`` for other lengths."""
        cached = self._columns.get(n)
        if cached is None:
            cached = self._columns[n] = [np.asarray(column) for column in self.values(n)]
        return cached

    def values(self, n: int) -> list[list]:
        """The values of the tuples by position, as lists."""
        rows = [getattr(t, "values", t) for t in self.items]
        lengths = set(map(len, rows))
        if lengths != {n}:
            raise ValueError(f"{n} field names for tuples of {sorted(lengths)} values")
        return [[row[j] for row in rows] for j in range(n)]

    def __getstate__(self):  # the columns are rebuilt on demand
        return self.times, self.ids, self.items

    def __setstate__(self, state):
        self.times, self.ids, self.items = state
        self._columns = {}


def _int_array(values) -> np.ndarray:
    """Times or ids as int64, or as Python ints in an object array beyond int64."""
    if isinstance(values, np.ndarray):
        return values
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        return np.array(values, dtype=object)


class Pane:
    """The tuples of one pane, in arrival order."""

    __slots__ = ("_parts", "_run")

    def __init__(self):
        # [times, ids, items] in arrival order: numpy arrays from extend(), or lists that
        # append() grows
        self._parts: list[list] = []
        self._run: Run | None = None  # the sorted tuples, while nothing was added since

    def append(self, t: int, i: int, item) -> None:
        self._run = None
        parts = self._parts
        if parts and type(parts[-1][0]) is list:
            last = parts[-1]
            last[0].append(t)
            last[1].append(i)
            last[2].append(item)
        else:
            parts.append([[t], [i], [item]])

    def extend(self, times: np.ndarray, ids: np.ndarray, items: list) -> None:
        self._run = None
        self._parts.append([times, ids, items])

    def __len__(self) -> int:
        return sum(len(part[2]) for part in self._parts)

    def items(self) -> list:
        """Its tuples, in no particular order."""
        return [item for part in self._parts for item in part[2]]

    def run(self) -> Run:
        """The tuples by time, then arrival (they came in arrival order)."""
        if self._run is not None:
            return self._run
        parts = self._parts
        if len(parts) == 1:  # its lists are not appended to once the pane has run
            times, ids, items = _int_array(parts[0][0]), _int_array(parts[0][1]), parts[0][2]
        else:
            times = np.concatenate([_int_array(p[0]) for p in parts])
            ids = np.concatenate([_int_array(p[1]) for p in parts])
            items = []
            for part in parts:
                items += part[2]
        if len(times) > 1 and (times[1:] < times[:-1]).any():
            order = np.argsort(times, kind="stable")
            times, ids = times[order], ids[order]
            items = list(map(items.__getitem__, order.tolist()))
        run = self._run = Run(times, ids, items)
        self._parts = [[times, ids, items]]
        return run

    def __getstate__(self):
        return self._parts

    def __setstate__(self, state):
        self._parts = state
        self._run = None
