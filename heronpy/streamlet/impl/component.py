"""What every streamlet spout and bolt shares: its config keys and how it emits an element.

A streamlet component emits its elements as ``[element]`` on its ``default`` stream when a
streamlet reads them as they are, or when no streamlet reads it at all (so that
``heronpy.local.run`` collects them). For each keyed operation reading it
(``reduce_by_key_and_window``, a side of a join) it emits ``[key, element]`` on a stream named
after that operation (see ``keyed_stream``), which the operation subscribes to with a fields
grouping on ``key``: all elements of a key meet in one task, and the key is computed once,
where the element is made.

Under ATLEAST_ONCE (``Config.ATLEAST_ONCE``) sources give every element an id per stream and
emit it again when it fails; element-wise bolts anchor what they emit to the tuple it comes
from, then ack that tuple; windowed operations ack a tuple when it leaves its windows (their
results, made of many tuples, are not anchored).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FUNCTION = "heronpy.streamlet.function"
"""Component config: what the component applies (the user's function, source, reduction...)."""
OUTLETS = "heronpy.streamlet.outlets"
"""Component config: ``((stream, key_extractor or None), ...)``, the streams it emits on."""
WINDOW = "heronpy.streamlet.window"
"""Component config of windowed operations: their ``WindowConfig``."""

ELEMENT = "element"
KEY = "key"


def keyed_stream(consumer: str, side: str = "") -> str:
    """The stream a keyed operation reads: its own name, plus ``.left``/``.right`` for a join.

    >>> keyed_stream("join-1", "left")
    'join-1.left'
    """
    return f"{consumer}.{side}" if side else consumer


def element(tup) -> Any:
    """The element a tuple carries: its last value (``[element]`` or ``[key, element]``)."""
    return tup.values[-1]


def key(tup) -> Any:
    """The key of a keyed tuple, hashable again (tuples travel as lists).

    >>> from heronpy.api.tuple import HeronTuple
    >>> key(HeronTuple(None, "map-1", "join-1.left", 1, [["a", 1], "x"], 0.0, None))
    ('a', 1)
    """
    return _hashable(tup.values[0])


def _hashable(value: Any) -> Any:
    return tuple(map(_hashable, value)) if isinstance(value, list) else value


class StreamletComponent:
    """Mixed into every streamlet spout and bolt (before ``Spout``/``Bolt``). Its streams are
    declared per component, by the builder."""

    outputs = []
    sink = False
    """A sink (consume, log) emits nothing."""

    function: Any
    _outlets: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    def initialize(self, config: dict, context) -> None:
        self.function = config.get(FUNCTION)
        self._outlets = config.get(OUTLETS, ())
        super().initialize(config, context)

    def emit_element(self, value: Any, anchor=None) -> None:
        """Emits ``value`` on each of the component's streams, with its key on keyed ones;
        anchored to ``anchor``, the tuple it comes from (a bolt's, under ATLEAST_ONCE)."""
        anchored = {} if anchor is None else {"anchors": [anchor]}  # spouts have no anchors
        for stream, key_extractor in self._outlets:
            self.emit(values(value, key_extractor), stream=stream, **anchored)


def values(value: Any, key_extractor: Callable[[Any], Any] | None) -> list:
    """The tuple that carries ``value`` on a stream: ``[element]`` or ``[key, element]``."""
    return [value] if key_extractor is None else [key_extractor(value), value]
