"""The collective rewrite: a collective subscription becomes a graph of nodes hosted by tasks.

Pure data, no I/O. A node waits, each round, for one message from each of its inputs (a leaf's
input is its host task's own emit), combines them (the reduction op, a merge of gathered
values, or nothing for a single input), then sends the result to each of its outputs and, when
``delivers``, hands it to its host's component. Nodes run inside the task processes that host
them, so relays cost no extra process, and a message between two nodes of one host never
leaves the process.

- reduce / gather: a tree whose leaves are the producer tasks and whose root is hosted by the
  consumer's first task, which delivers.
- broadcast: per producer task, a tree from its leaf over every consumer task (each delivers
  and forwards).
- allreduce / allgather: the reduce tree, then from its root a broadcast tree over the
  consumer tasks. A ``ring`` allreduce over p >= 2 producers is the bandwidth-optimal ring
  instead: every tuple is cut into p chunks (arrays split, other fields ride with chunk 0);
  chunk j is reduced along the ring of producers ending at producer j (reduce-scatter), which
  then passes it along the ring of consumers (allgather). Each task sends and receives about
  2 (p - 1) / p of a tuple instead of the root's p tuples.

Algorithms shape the trees: ``flat`` (everyone sends straight to the root: the serial
baseline), ``binary_tree`` (a balanced tree of ``degree`` children per node, depth
ceil(log_degree p)), ``ring`` (a chain: a pipeline through every task). Placement-aware: tasks
are ordered by container (the most populated first), so subtrees are contiguous runs of one
container's tasks and combine locally before anything crosses containers; an internal node is
hosted by the task of its first leaf.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

GATHERS = ("gather", "allgather")
TO_ALL = ("broadcast", "allreduce", "allgather")
"""Kinds where every consumer task receives (and which a component may subscribe to itself)."""


@dataclass(frozen=True)
class Node:
    id: int
    host: int  # the task whose process runs this node
    inputs: tuple[int, ...]  # node ids it waits for each round; () for a leaf
    outputs: tuple[int, ...] = ()  # node ids it sends each result to
    delivers: bool = False  # hands each result to its host's component
    leaf: int | None = None  # a leaf: the index of the producer task whose emits it takes
    chunk: int = 0  # which chunk of each tuple it carries (a chunked ring allreduce)


@dataclass
class CollectiveGraph:
    """One collective subscription: ``consumer`` subscribes to ``producer``'s ``stream``."""

    edge: int  # the graph's id on the wire
    kind: str
    algorithm: str
    degree: int
    op: str | Callable | None
    producer: str
    stream: str
    consumer: str
    producers: list[int]  # task ids, in task index order
    consumers: list[int]
    nodes: list[Node] = field(default_factory=list)
    chunks: int = 1  # each tuple travels as this many chunks
    relays: dict[int, int] = field(default_factory=dict)
    """Producer task -> the task that hosts, in its stead, the inner nodes it would host
    (spouts: their sends stop under backpressure, so they must not relay others' data)."""

    @property
    def is_self_loop(self) -> bool:
        """SPMD: a component exchanging values among its own tasks each round."""
        return self.producer == self.consumer

    def hosted_by(self, task: int) -> list[Node]:
        return [n for n in self.nodes if n.host == task]

    def delivering_tasks(self) -> list[int]:
        return [n.host for n in self.nodes if n.delivers]

    def depth(self) -> int:
        """The most node-to-node hops from any leaf to a delivering node."""
        hops = {n.id: 0 for n in self.nodes if n.leaf is not None}
        for n in self.nodes:  # nodes are listed after their inputs
            if n.inputs:
                hops[n.id] = 1 + max(hops[i] for i in n.inputs)
        return max(hops[n.id] for n in self.nodes if n.delivers)

    def describe(self, container_of: Callable[[int], int]) -> list[str]:
        lines = [f"  collective {self.kind} {self.producer}:{self.stream} -> {self.consumer}  "
                 f"({self.algorithm}, degree {self.degree}, depth {self.depth()})"]
        for n in self.nodes:
            role = (f"leaf of {self.producer}[{n.leaf}]" if n.leaf is not None
                    else f"combines {list(n.inputs)}" if len(n.inputs) > 1
                    else f"relays {n.inputs[0]}")
            sends = f" -> {list(n.outputs)}" if n.outputs else ""
            delivers = " delivers" if n.delivers else ""
            chunk = f" chunk {n.chunk}" if self.chunks > 1 else ""
            lines.append(f"    node {n.id} on task {n.host} (container {container_of(n.host)}):"
                         f"{chunk} {role}{sends}{delivers}")
        return lines


def build(graph: CollectiveGraph, container_of: Callable[[int], int]) -> CollectiveGraph:
    """Fills ``graph.nodes`` for its kind and algorithm; returns the graph."""
    nodes = _Nodes(graph.relays)
    by_place = _by_container(range(len(graph.producers)),
                             lambda i: container_of(graph.producers[i]))
    consumers = _by_container(graph.consumers, container_of)
    if graph.kind == "broadcast":
        for index in by_place:
            producer = graph.producers[index]
            leaf = nodes.add(producer, (), leaf=index)
            ordered = sorted(consumers, key=lambda t: (container_of(t) != container_of(producer),
                                                       container_of(t), t))
            _spread(nodes, leaf, ordered, graph.algorithm, graph.degree)
        graph.nodes = nodes.done()
        return graph
    if graph.kind == "allreduce" and graph.algorithm == "ring" and len(by_place) > 1:
        _chunked_ring(graph, nodes, by_place, consumers)
        graph.nodes = nodes.done()
        return graph
    leaves = [nodes.add(graph.producers[i], (), leaf=i) for i in by_place]
    root_host = graph.consumers[0]
    if graph.algorithm == "flat":
        root = nodes.add(root_host, tuple(leaves), delivers=True)
    elif graph.algorithm == "ring":
        chain = leaves[0]
        for leaf in leaves[1:]:
            chain = nodes.add(nodes.host(leaf), (chain, leaf))
        root = nodes.add(root_host, (chain,), delivers=True)
    else:
        root = _combine(nodes, leaves, graph.degree, root_host)
    if graph.kind in TO_ALL:
        _spread(nodes, root, [t for t in consumers if t != root_host], graph.algorithm,
                graph.degree)
    graph.nodes = nodes.done()
    return graph


def _chunked_ring(graph: CollectiveGraph, nodes: _Nodes, by_place: list[int],
                  consumers: list[int]) -> None:
    """Ring allreduce: reduce-scatter over the producers, allgather over the consumers."""
    graph.chunks = len(by_place)
    ring = [(i, graph.producers[i]) for i in by_place]
    for j in range(graph.chunks):
        order = ring[j + 1:] + ring[:j + 1]  # ends at ring[j], the owner of chunk j
        owner = order[-1][1]
        chain = nodes.add(order[0][1], (), leaf=order[0][0], chunk=j)
        for index, task in order[1:]:
            leaf = nodes.add(task, (), leaf=index, chunk=j)
            chain = nodes.add(task, (chain, leaf), chunk=j,
                              delivers=task == owner and owner in consumers)
        start = consumers.index(owner) + 1 if owner in consumers else j % len(consumers)
        targets = [t for t in consumers[start:] + consumers[:start] if t != owner]
        _spread(nodes, chain, targets, "ring", graph.degree, chunk=j)


def _combine(nodes: _Nodes, members: list[int], degree: int, root_host: int | None) -> int:
    """A balanced tree over ``members`` (contiguous runs of up to ``degree``); returns its top
    node, hosted by ``root_host`` or else by the host of its first member."""
    if len(members) == 1 and root_host is None:
        return members[0]
    groups = _split(members, degree) if len(members) > 1 else [members]
    tops = tuple(_combine(nodes, g, degree, None) for g in groups)
    return nodes.add(nodes.host(tops[0]) if root_host is None else root_host, tops,
                     delivers=root_host is not None)


def _spread(nodes: _Nodes, source: int, targets: list[int], algorithm: str,
            degree: int, chunk: int = 0) -> None:
    """From node ``source``, a delivering node on each task in ``targets``."""
    if not targets:
        return
    if algorithm == "flat":
        groups = [[t] for t in targets]
    elif algorithm == "ring":
        groups = [targets]
    else:
        groups = _split(targets, degree)
    for group in groups:
        head = nodes.add(group[0], (source,), delivers=True, chunk=chunk)
        _spread(nodes, head, group[1:], algorithm, degree, chunk)


def _by_container(items, container_of: Callable[[int], int]) -> list:
    """``items`` grouped by container, the most populated first, so that the first split of
    a tree falls on a container boundary."""
    sizes: dict[int, int] = {}
    for item in items:
        sizes[container_of(item)] = sizes.get(container_of(item), 0) + 1
    return sorted(items, key=lambda i: (-sizes[container_of(i)], container_of(i), i))


def _split(items: list, parts: int) -> list[list]:
    """``items`` in up to ``parts`` contiguous runs of sizes differing by at most one."""
    parts = min(parts, len(items))
    size, extra = divmod(len(items), parts)
    runs, start = [], 0
    for i in range(parts):
        end = start + size + (i < extra)
        runs.append(items[start:end])
        start = end
    return runs


class _Nodes:
    """Node ids in creation order; outputs are filled in as consumers of a node appear."""

    def __init__(self, relays: dict[int, int]):
        self._relays = relays
        self._nodes: list[Node] = []
        self._outputs: list[list[int]] = []

    def add(self, host: int, inputs: tuple[int, ...], *, leaf: int | None = None,
            delivers: bool = False, chunk: int = 0) -> int:
        node_id = len(self._nodes)
        if leaf is None:
            host = self._relays.get(host, host)
        self._nodes.append(Node(node_id, host, inputs, (), delivers, leaf, chunk))
        self._outputs.append([])
        for i in inputs:
            self._outputs[i].append(node_id)
        return node_id

    def host(self, node_id: int) -> int:
        return self._nodes[node_id].host

    def done(self) -> list[Node]:
        return [Node(n.id, n.host, n.inputs, tuple(out), n.delivers, n.leaf, n.chunk)
                for n, out in zip(self._nodes, self._outputs, strict=True)]
