"""The streamlets of a topology, and their compilation into spouts and bolts (Heron's
``Builder``).

Each streamlet becomes one component, in the order the streamlets were made, with its
function, window and streams in its component config. ``heronpy.local.run(builder)`` and
``Runner().run`` take a builder; the elements of a streamlet that no other streamlet reads are
then ``RunResult.outputs(streamlet.get_name())``, one ``(element,)`` each.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from heronpy.api.component.component_spec import GlobalStreamId, HeronComponentSpec
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Stream
from heronpy.api.topology import TopologyBuilder
from heronpy.streamlet.generator import Generator
from heronpy.streamlet.impl.component import (
    ELEMENT,
    FUNCTION,
    KEY,
    OUTLETS,
    WINDOW,
    keyed_stream,
)
from heronpy.streamlet.impl.sources import GeneratorSpout, IterableSpout
from heronpy.streamlet.streamlet import Streamlet
from heronpy.topology.logical import LogicalPlan

Source = Generator | type[Generator] | Iterable | Callable[[], Iterable]
Outlets = list[tuple[str, Callable[[Any], Any] | None]]


class Builder:
    """Makes sources; the streamlets made from them form the topology.

    >>> builder = Builder()
    >>> counts = builder.new_source(["a b", "b"]).flat_map(str.split).map(lambda w: (w, 1))
    >>> plan = builder.build_plan("words")
    >>> [(c.name, c.parallelism) for c in plan.components.values()]
    [('source-1', 1), ('flat_map-1', 1), ('map-1', 1)]
    """

    def __init__(self):
        self._streamlets: list[Streamlet] = []
        self._made: Counter[str] = Counter()

    def new_source(self, source: Source) -> Streamlet:
        """A streamlet of ``source``'s elements: a ``Generator`` (instance or subclass), an
        iterable (a list, a range...: shipped to the tasks with the topology) or a function
        returning one (called in each task). With several partitions, each task of a
        ``Generator`` runs its own copy (split the work with ``context.get_partition_index()``);
        the task k of n of an iterable source emits its elements k, k + n, k + 2n...

        A source ends when its elements do (``Generator.get`` raises ``StopIteration``); the
        topology ends when every source has and everything downstream is done.
        """
        if isinstance(source, type) and issubclass(source, Generator):
            source = source()
        if isinstance(source, Generator):
            return Streamlet(self, "source", GeneratorSpout, source)
        if isinstance(source, (str, bytes)):
            raise TypeError(f"new_source takes an iterable of elements, given the string "
                            f"{source!r}: wrap it in a list")
        if isinstance(source, Iterator):
            raise TypeError(f"new_source cannot ship an iterator ({source!r}) to its tasks: give "
                            "a list, or a function that returns the iterator")
        if not (callable(source) or isinstance(source, Iterable)):
            raise TypeError(f"new_source takes a Generator, an iterable or a function returning "
                            f"one, given {source!r}")
        return Streamlet(self, "source", IterableSpout, source)

    def build(self, topology_builder: TopologyBuilder) -> TopologyBuilder:
        """Adds every streamlet's component to ``topology_builder`` and returns it."""
        outlets = self._outlets()
        for streamlet in self._streamlets:
            topology_builder.add_spec(_spec(streamlet, outlets[streamlet]))
        return topology_builder

    def build_plan(self, name: str = "streamlet", config: dict | None = None) -> LogicalPlan:
        """The validated logical plan of topology ``name``; raises ``InvalidTopologyError``."""
        topology = self.build(TopologyBuilder(name))
        topology.set_config(dict(config or {}))
        return topology.build()

    def _outlets(self) -> dict[Streamlet, Outlets]:
        """The streams each streamlet emits on: ``default`` when a streamlet reads its
        elements as they are or none reads it at all (sinks aside), and one keyed stream per
        keyed operation reading it (see ``heronpy.streamlet.impl.component``)."""
        plain: set[Streamlet] = set()
        keyed: defaultdict[Streamlet, Outlets] = defaultdict(list)
        for streamlet in self._streamlets:
            for source in streamlet._inputs:
                if source.key is None:
                    plain.add(source.parent)
                else:
                    stream = keyed_stream(streamlet.get_name(), source.side)
                    keyed[source.parent].append((stream, source.key))
        outlets = {}
        for streamlet in self._streamlets:
            leaf = streamlet not in keyed and not streamlet._component.sink
            as_is = [(Stream.DEFAULT_STREAM_ID, None)] if streamlet in plain or leaf else []
            outlets[streamlet] = as_is + keyed[streamlet]
        return outlets

    def _register(self, streamlet: Streamlet, operation: str) -> str:
        """Adds a new streamlet; returns its default name."""
        self._streamlets.append(streamlet)
        self._made[operation] += 1
        return f"{operation}-{self._made[operation]}"


def _spec(streamlet: Streamlet, outlets: Outlets) -> HeronComponentSpec:
    config: dict[str, Any] = {FUNCTION: streamlet._function, OUTLETS: tuple(outlets)}
    if streamlet._window is not None:
        config[WINDOW] = streamlet._window
    streams = [Stream([ELEMENT] if key is None else [KEY, ELEMENT], name=stream)
               for stream, key in outlets]
    component, name = streamlet._component, streamlet.get_name()
    par = streamlet.get_num_partitions()
    if issubclass(component, Spout):
        return component.spec(name=name, par=par, config=config, optional_outputs=streams)
    inputs = {GlobalStreamId(source.parent.get_name(),
                             keyed_stream(name, source.side) if source.key else
                             Stream.DEFAULT_STREAM_ID): source.grouping
              for source in streamlet._inputs}
    return component.spec(name=name, inputs=inputs, par=par, config=config,
                          optional_outputs=streams)
