"""A streamlet: a stream of elements, and the operations that make new streamlets from it
(Heron's ``Streamlet``).

Each streamlet is one spout or bolt of the topology, named by ``set_name`` or else
``<operation>-<n>``, n counting that operation's calls on the builder from 1 (``source-1``,
``map-1``, ``flat_map-1``, ``filter-1``, ``union-1``, ``clone-1``, ``repartition-1``,
``reduce_by_window-1``, ``reduce_by_key_and_window-1``, ``join-1``, ``outer_left_join-1``,
``outer_right_join-1``, ``outer_join-1``, ``consume-1``, ``log-1``). It runs with
``get_num_partitions()`` tasks: a source has 1 unless set, ``repartition(n)`` n,
``reduce_by_window`` 1, any other operation as many as its (first) parent.

Elements travel between tasks as msgpack: ``None``, numbers, strings, bytes, lists and dicts
as they are (tuples arrive as lists), anything else cloudpickled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from heronpy.api.stream import Grouping, GroupingSpec
from heronpy.streamlet.impl.elementwise import (
    ConsumeBolt,
    FilterBolt,
    FlatMapBolt,
    ForwardBolt,
    LogBolt,
    MapBolt,
)
from heronpy.streamlet.impl.join import Join, JoinBolt, JoinType
from heronpy.streamlet.impl.reduce import ReduceByKeyAndWindowBolt, ReduceByWindowBolt, Reduction
from heronpy.streamlet.impl.repartition import RepartitionGrouping
from heronpy.streamlet.windowconfig import WindowConfig

if TYPE_CHECKING:
    from heronpy.streamlet.builder import Builder

_PAIR_KEY, _PAIR_VALUE = itemgetter(0), itemgetter(1)


def _whole(value: Any) -> Any:
    """The element itself, as the value of the key-extractor forms."""
    return value


@dataclass(frozen=True)
class Input:
    """How a streamlet reads one parent: its elements, routed by ``grouping``; or, with a
    ``key`` extractor, ``[key, element]`` pairs from a stream the parent emits for this
    streamlet alone (``side`` tells a join's two apart), grouped by key."""

    parent: Streamlet
    grouping: GroupingSpec = Grouping.SHUFFLE
    key: Callable[[Any], Any] | None = None
    side: str = ""


class Streamlet:
    """A stream of elements; made by ``Builder.new_source`` and by the operations below."""

    def __init__(self, builder: Builder, operation: str, component: type, function: Any = None,
                 inputs: tuple[Input, ...] = (), window: WindowConfig | None = None,
                 num_partitions: int | None = None):
        self._builder = builder
        self._component = component
        self._function = function
        self._inputs = inputs
        self._window = window
        self._fixed_partitions = operation == "reduce_by_window"
        self._num_partitions = num_partitions
        self._name = builder._register(self, operation)

    def __repr__(self) -> str:
        return f"<Streamlet {self._name} x{self.get_num_partitions()}>"

    # -- name and partitions -------------------------------------------------------------
    def set_name(self, name: str) -> Streamlet:
        """Names the streamlet's component (unique in the topology)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"a streamlet name must be a non-empty string, given {name!r}")
        self._name = name
        return self

    def get_name(self) -> str:
        return self._name

    def set_num_partitions(self, num_partitions: int) -> Streamlet:
        """Runs the streamlet with ``num_partitions`` tasks."""
        if (not isinstance(num_partitions, int) or isinstance(num_partitions, bool)
                or num_partitions < 1):
            raise ValueError(f"num_partitions must be an int >= 1, given {num_partitions!r}")
        if self._fixed_partitions and num_partitions != 1:
            raise ValueError(f"{self._name} reduces the whole stream in one task: "
                             "it has exactly 1 partition")
        self._num_partitions = num_partitions
        return self

    def get_num_partitions(self) -> int:
        if self._num_partitions is not None:
            return self._num_partitions
        return self._inputs[0].parent.get_num_partitions() if self._inputs else 1

    # -- one element at a time -----------------------------------------------------------
    def map(self, map_function: Callable[[Any], Any]) -> Streamlet:
        """Each element ``e`` becomes ``map_function(e)``.

        >>> from heronpy.streamlet import Builder
        >>> Builder().new_source([1, 2, 3]).map(lambda n: 2 * n).get_name()
        'map-1'
        """
        return self._then("map", MapBolt, _callable(map_function, "map"))

    def flat_map(self, flatmap_function: Callable[[Any], Iterable]) -> Streamlet:
        """Each element ``e`` becomes the elements of ``flatmap_function(e)``, in order.

        >>> from heronpy.streamlet import Builder
        >>> Builder().new_source(["to be", "or not"]).flat_map(str.split).get_name()
        'flat_map-1'
        """
        return self._then("flat_map", FlatMapBolt, _callable(flatmap_function, "flat_map"))

    def filter(self, filter_function: Callable[[Any], bool]) -> Streamlet:
        """Keeps the elements ``e`` for which ``filter_function(e)`` is true."""
        return self._then("filter", FilterBolt, _callable(filter_function, "filter"))

    # -- routing -------------------------------------------------------------------------
    def union(self, other_streamlet: Streamlet) -> Streamlet:
        """The elements of both streamlets (as many partitions as this one).

        >>> from heronpy.streamlet import Builder
        >>> builder = Builder()
        >>> builder.new_source([1]).union(builder.new_source([2])).get_name()
        'union-1'
        """
        self._check_same_builder(other_streamlet, "union")
        if other_streamlet is self:
            raise ValueError(f"{self._name}: a union with itself; clone it first")
        return Streamlet(self._builder, "union", ForwardBolt,
                         inputs=(Input(self), Input(other_streamlet)))

    def clone(self, num_clones: int) -> list[Streamlet]:
        """``num_clones`` streamlets, each with every element of this one, which is computed
        once (each clone is a component subscribing to it).

        >>> from heronpy.streamlet import Builder
        >>> [c.get_name() for c in Builder().new_source([1]).clone(2)]
        ['clone-1', 'clone-2']
        """
        if not isinstance(num_clones, int) or isinstance(num_clones, bool) or num_clones < 1:
            raise ValueError(f"num_clones must be an int >= 1, given {num_clones!r}")
        return [self._then("clone", ForwardBolt) for _ in range(num_clones)]

    def repartition(self, num_partitions: int,
                    repartition_function: Callable[[Any, int], int | Iterable[int]] | None = None
                    ) -> Streamlet:
        """The same elements in ``num_partitions`` partitions: spread evenly, or sent to the
        partitions ``repartition_function(element, num_partitions)`` returns (one index or
        several; indices are taken modulo ``num_partitions``).

        >>> from heronpy.streamlet import Builder
        >>> Builder().new_source(range(9)).repartition(3, lambda n, k: n % k).get_num_partitions()
        3
        """
        grouping = Grouping.SHUFFLE
        if repartition_function is not None:
            grouping = Grouping.custom(RepartitionGrouping(
                _callable(repartition_function, "repartition")))
        return Streamlet(self._builder, "repartition", ForwardBolt,
                         inputs=(Input(self, grouping),)).set_num_partitions(num_partitions)

    # -- windows -------------------------------------------------------------------------
    def reduce_by_window(self, window_config: WindowConfig,
                         reduce_function: Callable[[Any, Any], Any]) -> Streamlet:
        """One ``(Window, result)`` per window that holds elements: its elements reduced with
        ``reduce_function(a, b)``, from the first. Runs in one task.

        >>> from heronpy.streamlet import Builder, Count, WindowConfig
        >>> window = WindowConfig.create_tumbling_window(Count(10))
        >>> Builder().new_source(range(100)).reduce_by_window(window, max).get_name()
        'reduce_by_window-1'
        """
        return Streamlet(self._builder, "reduce_by_window", ReduceByWindowBolt,
                         Reduction(_whole, _callable(reduce_function, "reduce_by_window")),
                         (Input(self, Grouping.GLOBAL),), _window(window_config), 1)

    def reduce_by_key_and_window(self, *args: Any) -> Streamlet:
        """One ``(KeyedWindow(key, Window), result)`` per key and window, in Heron's forms:

        - ``reduce_by_key_and_window(window_config, reduce_fn)``: the elements are
          ``(key, value)`` pairs; each key's values reduced with ``reduce_fn(a, b)``;
        - ``reduce_by_key_and_window(key_extractor, value_extractor, window_config,
          reduce_fn)``: each key's ``value_extractor(element)`` reduced with
          ``reduce_fn(a, b)``;
        - ``reduce_by_key_and_window(key_extractor, window_config, identity, reduce_fn)``:
          each key's elements folded from (a copy of) ``identity`` with
          ``reduce_fn(result, element)``.

        All elements of a key go to the same partition (fields grouping on the key).

        >>> from heronpy.streamlet import Builder, Count, WindowConfig
        >>> words = Builder().new_source(["a", "b", "a"])
        >>> window = WindowConfig.create_tumbling_window(Count(3))
        >>> words.reduce_by_key_and_window(str.upper, len, window, max).get_name()
        'reduce_by_key_and_window-1'
        """
        before, window, after = _around_window(args, "reduce_by_key_and_window")
        if not before and len(after) == 1:
            key, reduction = _PAIR_KEY, Reduction(_PAIR_VALUE, after[0])
        elif len(before) == 2 and len(after) == 1:
            key, reduction = before[0], Reduction(_callable(before[1], "value_extractor"),
                                                  after[0])
        elif len(before) == 1 and len(after) == 2:
            key, reduction = before[0], Reduction(_whole, after[1], start=(after[0],))
        else:
            raise TypeError(
                "reduce_by_key_and_window takes (window_config, reduce_fn), (key_extractor, "
                "value_extractor, window_config, reduce_fn) or (key_extractor, window_config, "
                "identity, reduce_fn)")
        _callable(reduction.reduce_fn, "reduce_by_key_and_window")
        keyed = Input(self, Grouping.fields("key"), _callable(key, "key_extractor"))
        return Streamlet(self._builder, "reduce_by_key_and_window", ReduceByKeyAndWindowBolt,
                         reduction, (keyed,), window)

    def join(self, join_streamlet: Streamlet, *args: Any) -> Streamlet:
        """Inner join: for each key and window, ``join_fn(left, right)`` for every pair of
        this streamlet's and ``join_streamlet``'s elements, as
        ``(KeyedWindow(key, Window), result)``. Heron's forms:

        - ``join(other, window_config, join_fn)``: the elements are ``(key, value)`` pairs,
          ``join_fn`` takes the values;
        - ``join(other, key_extractor, other_key_extractor, window_config, join_fn)``:
          ``join_fn`` takes the elements.

        Runs with this streamlet's partitions; a key's elements of both sides meet in one.

        >>> from heronpy.streamlet import Builder, Count, WindowConfig
        >>> builder = Builder()
        >>> left, right = builder.new_source([("a", 1)]), builder.new_source([("a", 2)])
        >>> window = WindowConfig.create_tumbling_window(Count(10))
        >>> left.join(right, window, lambda x, y: x + y).get_name()
        'join-1'
        """
        return self._join("join", JoinType.INNER, join_streamlet, args)

    def outer_left_join(self, join_streamlet: Streamlet, *args: Any) -> Streamlet:
        """As ``join``; a key's elements of this streamlet that match none in a window are
        joined with ``None``: ``join_fn(left, None)``."""
        return self._join("outer_left_join", JoinType.OUTER_LEFT, join_streamlet, args)

    def outer_right_join(self, join_streamlet: Streamlet, *args: Any) -> Streamlet:
        """As ``join``; ``join_streamlet``'s unmatched elements give ``join_fn(None, right)``."""
        return self._join("outer_right_join", JoinType.OUTER_RIGHT, join_streamlet, args)

    def outer_join(self, join_streamlet: Streamlet, *args: Any) -> Streamlet:
        """As ``join``; the unmatched elements of either side are joined with ``None``."""
        return self._join("outer_join", JoinType.OUTER, join_streamlet, args)

    # -- sinks ---------------------------------------------------------------------------
    def consume(self, consume_function: Callable[[Any], None]) -> None:
        """Calls ``consume_function(element)`` for each element, in the streamlet's tasks."""
        self._then("consume", ConsumeBolt, _callable(consume_function, "consume"))

    def log(self) -> None:
        """Logs each element to its task's log."""
        self._then("log", LogBolt)

    # -- internals -----------------------------------------------------------------------
    def _then(self, operation: str, component: type, function: Any = None) -> Streamlet:
        return Streamlet(self._builder, operation, component, function, (Input(self),))

    def _join(self, operation: str, how: JoinType, other: Streamlet, args: tuple) -> Streamlet:
        self._check_same_builder(other, operation)
        before, window, after = _around_window(args, operation)
        if len(after) != 1 or len(before) not in (0, 2):
            raise TypeError(f"{operation} takes (other, window_config, join_fn) or (other, "
                            "key_extractor, other_key_extractor, window_config, join_fn)")
        keys = before or (_PAIR_KEY, _PAIR_KEY)
        value = _whole if before else _PAIR_VALUE
        join = Join(how, _callable(after[0], operation), value, value)
        grouping = Grouping.fields("key")
        inputs = (Input(self, grouping, _callable(keys[0], "key_extractor"), "left"),
                  Input(other, grouping, _callable(keys[1], "other_key_extractor"), "right"))
        return Streamlet(self._builder, operation, JoinBolt, join, inputs, window)

    def _check_same_builder(self, other: Streamlet, operation: str) -> None:
        if not isinstance(other, Streamlet):
            raise TypeError(f"{operation} takes a Streamlet, given {other!r}")
        if other._builder is not self._builder:
            raise ValueError(f"{operation}: {self._name} and {other._name} belong to different "
                             "builders")


def _callable(function: Any, what: str) -> Any:
    if not callable(function):
        raise TypeError(f"{what} takes a function, given {function!r}")
    return function


def _window(window_config: Any) -> WindowConfig:
    if not isinstance(window_config, WindowConfig):
        raise TypeError(f"expected a WindowConfig, given {window_config!r}")
    return window_config


def _around_window(args: tuple, operation: str) -> tuple[tuple, WindowConfig, tuple]:
    """Splits ``args`` at its one ``WindowConfig``: what comes before, it, what comes after."""
    at = [i for i, arg in enumerate(args) if isinstance(arg, WindowConfig)]
    if len(at) != 1:
        raise TypeError(f"{operation} takes exactly one WindowConfig, given {args!r}")
    return args[:at[0]], args[at[0]], args[at[0] + 1:]
