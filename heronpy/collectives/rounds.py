"""The round protocol of the collective nodes one task hosts. Pure: no I/O, no clock.

Round r is the r-th tuple each producer task emits on the collective stream; every message
carries its round id. A node completes round r when each of its inputs has either sent r or
ended before r, combines what it got, and passes the result on. Messages from one input
arrive in round order (one path, FIFO), so rounds complete in order.

End of stream: a producer that emitted R tuples ends its leaf at round R; a node ends once all
its inputs have, at the largest of their end rounds. A round that some producers never reached
therefore completes with the contributions of those that did: a reduction over fewer values,
a gathered list with ``None`` in place of the missing producers. The result is the same
whatever the timing.
"""

from __future__ import annotations

from collections.abc import Callable

from heronpy.collectives import chunks
from heronpy.collectives.ops import combiner
from heronpy.topology.collective import GATHERS, CollectiveGraph, Node

Send = Callable[[int, int, int, int, int, object], None]
"""``send(task, edge, node, source, round, value)``: to node ``node`` on ``task``, from node
``source``; ``value`` is ``END`` for an end marker, with ``round`` the end round."""
Deliver = Callable[[CollectiveGraph, list, int], None]
"""``deliver(graph, values, source)``: one round's tuple values for the host's component;
``source`` is the producer task of a broadcast tuple, -1 for a reduction or gather."""
Ended = Callable[[CollectiveGraph], None]
"""``ended(graph)``: the graph will deliver nothing more to the host."""
END = None


class _NodeState:
    __slots__ = ("ended", "ends", "node", "pending")

    def __init__(self, node: Node):
        self.node = node
        self.pending: dict[int, list] = {}  # round -> [contributions received, value]
        self.ends: dict[int, int] = {}  # input node -> its end round
        self.ended = False


class CollectiveEngine:
    """Runs the nodes of ``graphs`` hosted by ``task``; talks to other hosts through ``send``."""

    def __init__(self, graphs: list[CollectiveGraph], task: int, send: Send, deliver: Deliver,
                 ended: Ended):
        self._task = task
        self._send = send
        self._deliver = deliver
        self._ended = ended
        self._graphs = {g.edge: g for g in graphs}
        self._merge = {g.edge: _merger(g) for g in graphs}
        self._hosts = {g.edge: [n.host for n in g.nodes] for g in graphs}
        self._states: dict[tuple[int, int], _NodeState] = {
            (g.edge, n.id): _NodeState(n) for g in graphs for n in g.hosted_by(task)}
        self._delivering = {g.edge: sum(n.delivers for n in g.hosted_by(task)) for g in graphs}
        self._leaves: dict[int, list[_NodeState]] = {}  # edge -> the host's leaves, by chunk
        for (edge, _), state in sorted(self._states.items(),
                                       key=lambda item: (item[0][0], item[1].node.chunk)):
            if state.node.leaf is not None:
                self._leaves.setdefault(edge, []).append(state)
        self.contributed = dict.fromkeys(self._leaves, 0)  # edge -> rounds emitted by the host
        self._assembling: dict[tuple[int, int], dict[int, list]] = {}  # (edge, round) -> chunks
        self._origin = {key: _origin(self._graphs[key[0]], state.node)
                        for key, state in self._states.items() if state.node.delivers}

    def contribute(self, edge: int, values: list) -> None:
        """The host emitted ``values`` on the collective stream of graph ``edge``."""
        leaves = self._leaves[edge]
        graph = self._graphs[edge]
        if leaves[0].ended:
            raise RuntimeError(f"task {self._task} emitted on collective stream "
                               f"'{graph.stream}' after its end")
        if graph.kind in GATHERS:
            pieces = [{leaves[0].node.leaf: values}]
        else:
            pieces = chunks.split(values, graph.chunks) if graph.chunks > 1 else [values]
        round_id = self.contributed[edge]
        self.contributed[edge] = round_id + 1
        for state, piece in zip(leaves, pieces, strict=True):
            self._complete(edge, state, round_id, piece)

    def end_leaf(self, edge: int) -> None:
        """The host emits nothing more on ``edge``'s stream."""
        for state in self._leaves[edge]:
            if not state.ended:
                self._end(edge, state, self.contributed[edge])

    def end_leaves(self) -> None:
        for edge in self._leaves:
            self.end_leaf(edge)

    def accepts(self, edge: int, node: int, source: int) -> bool:
        """Whether a message from node ``source`` to node ``node`` of ``edge`` makes sense."""
        state = self._states.get((edge, node))
        return state is not None and source in state.node.inputs and source not in state.ends

    def on_message(self, edge: int, node: int, source: int, round_id: int, value) -> None:
        """A message for node ``node`` of graph ``edge`` from its input node ``source``:
        round ``round_id``'s value, or ``END`` (then ``round_id`` is the end round)."""
        if not self.accepts(edge, node, source):
            raise ValueError(f"node {node} of collective {edge} expects nothing from {source}")
        state = self._states[(edge, node)]
        if value is END:
            state.ends[source] = round_id
            for r in sorted(state.pending):  # rounds that waited for this input may be done
                slot = state.pending.get(r)
                if slot is not None and slot[0] == self._needed(state, r):
                    del state.pending[r]
                    self._complete(edge, state, r, slot[1])
            if len(state.ends) == len(state.node.inputs) and not state.ended:
                self._end(edge, state, max(state.ends.values()))
            return
        slot = state.pending.get(round_id)
        if slot is None:
            slot = state.pending[round_id] = [0, value]
        else:
            slot[1] = self._merge[edge](slot[1], value)
        slot[0] += 1
        if slot[0] == self._needed(state, round_id):
            del state.pending[round_id]
            self._complete(edge, state, round_id, slot[1])

    @staticmethod
    def _needed(state: _NodeState, round_id: int) -> int:
        """Inputs that still contribute to ``round_id``."""
        return len(state.node.inputs) - sum(1 for end in state.ends.values() if end <= round_id)

    def _complete(self, edge: int, state: _NodeState, round_id: int, value) -> None:
        node = state.node
        for out in node.outputs:
            self._to(edge, node.id, out, round_id, value)
        if node.delivers:
            graph = self._graphs[edge]
            if graph.chunks > 1:  # deliver once every chunk of the round is here
                parts = self._assembling.setdefault((edge, round_id), {})
                parts[node.chunk] = value
                if len(parts) < graph.chunks:
                    return
                del self._assembling[(edge, round_id)]
                value = chunks.join([parts[j] for j in range(graph.chunks)])
            self._deliver(graph, self._final(edge, value), self._origin[(edge, node.id)])

    def _end(self, edge: int, state: _NodeState, end_round: int) -> None:
        state.ended = True
        for out in state.node.outputs:
            self._to(edge, state.node.id, out, end_round, END)
        if state.node.delivers:
            self._delivering[edge] -= 1
            if not self._delivering[edge]:  # a broadcast has one tree per producer
                self._ended(self._graphs[edge])

    def _to(self, edge: int, source: int, node: int, round_id: int, value) -> None:
        host = self._hosts[edge][node]
        if host == self._task:
            self.on_message(edge, node, source, round_id, value)
        else:
            self._send(host, edge, node, source, round_id, value)

    def _final(self, edge: int, value) -> list:
        graph = self._graphs[edge]
        if graph.kind not in GATHERS:
            return value
        arity = len(next(iter(value.values())))
        rows = [value.get(i) for i in range(len(graph.producers))]
        return [[None if row is None else row[f] for row in rows] for f in range(arity)]


def _origin(graph: CollectiveGraph, node: Node) -> int:
    """The producer task a broadcast node relays for; -1 for other kinds."""
    if graph.kind != "broadcast":
        return -1
    while node.leaf is None:
        node = graph.nodes[node.inputs[0]]
    return node.host


def _merger(graph: CollectiveGraph) -> Callable:
    if graph.kind in GATHERS:
        return lambda a, b: {**a, **b}
    if graph.kind == "broadcast":
        return _single_input
    return chunks.combiner(graph.op) if graph.chunks > 1 else combiner(graph.op)


def _single_input(a, b):
    raise AssertionError("a broadcast node has a single input")
