"""``reduce_by_window`` and ``reduce_by_key_and_window``: one result per window (per key and
window), for windows that hold elements."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from heronpy.streamlet.impl.component import element, key
from heronpy.streamlet.impl.windowed import WindowedStage
from heronpy.streamlet.keyedwindow import KeyedWindow
from heronpy.streamlet.window import Window


@dataclass(frozen=True)
class Reduction:
    """Reduces the values (``value(element)``) of a window's elements with ``reduce_fn``, from
    the first value, or from a copy of ``start[0]`` when ``start`` holds an identity.

    >>> Reduction(len, lambda a, b: a + b)(["ab", "c"])
    3
    >>> Reduction(lambda e: e, lambda acc, e: acc + [e], start=([],))(["x", "y"])
    ['x', 'y']
    """

    value: Callable[[Any], Any]
    reduce_fn: Callable[[Any, Any], Any]
    start: tuple = ()

    def __call__(self, elements: Iterable) -> Any:
        return functools.reduce(self.reduce_fn, map(self.value, elements),
                                *copy.deepcopy(self.start))


class ReduceByWindowBolt(WindowedStage):
    """Emits ``(Window, result)`` for each window."""

    def process_window(self, window, tuples):
        if tuples:
            self.emit_element((Window(window.start, window.end), self.function(map(element,
                                                                                    tuples))))


class ReduceByKeyAndWindowBolt(WindowedStage):
    """Emits ``(KeyedWindow(key, Window), result)`` for each key in each window, keys in the
    order they first arrived."""

    def process_window(self, window, tuples):
        by_key: dict[Any, list] = {}
        for tup in tuples:
            by_key.setdefault(key(tup), []).append(element(tup))
        span = Window(window.start, window.end)
        for k, elements in by_key.items():
            self.emit_element((KeyedWindow(k, span), self.function(elements)))
