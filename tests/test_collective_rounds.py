"""The round protocol over every graph shape, run as pure data: a simulated network delivers
messages in a random interleaving (FIFO per channel), and every consumer task must get exactly
the expected tuple per round."""

import random
from collections import deque

import numpy as np
import pytest

from heronpy.collectives.rounds import CollectiveEngine
from heronpy.topology.collective import CollectiveGraph, build

KINDS = ["broadcast", "reduce", "allreduce", "gather", "allgather"]
ALGORITHMS = ["flat", "binary_tree", "ring"]


def simulate(graph: CollectiveGraph, emits: dict[int, list], seed: int):
    """Runs ``graph`` with producer task -> list of value lists; returns consumer task ->
    delivered value lists, and the tasks told the graph ended."""
    rng = random.Random(seed)
    channels: dict[tuple[int, int], deque] = {}
    delivered: dict[int, list] = {t: [] for t in graph.consumers}
    ended: list[int] = []
    tasks = sorted({n.host for n in graph.nodes} | set(graph.producers))
    engines = {}
    for task in tasks:
        def send(dest, edge, node, source, round_id, value, _task=task):
            channels.setdefault((_task, dest), deque()).append((node, source, round_id, value))
        engines[task] = CollectiveEngine(
            [graph], task, send,
            lambda g, values, source, _task=task: delivered[_task].append(values),
            lambda g, _task=task: ended.append(_task))
    todo = {t: deque(v) for t, v in emits.items()}
    while True:
        choices = [("emit", t) for t, q in todo.items() if q or q is not None]
        choices += [("net", c) for c, q in channels.items() if q]
        if not choices:
            break
        what, key = rng.choice(choices)
        if what == "emit":
            if todo[key]:
                engines[key].contribute(graph.edge, todo[key].popleft())
            else:
                engines[key].end_leaf(graph.edge)
                del todo[key]
        else:
            node, source, round_id, value = channels[key].popleft()
            engines[key[1]].on_message(graph.edge, node, source, round_id, value)
    return delivered, ended


def make_graph(kind, algorithm, p, m, containers, degree=2, op="sum"):
    producers = list(range(1, p + 1))
    consumers = list(range(p + 1, p + m + 1))
    graph = CollectiveGraph(3, kind, algorithm, degree, op, "P", "s", "C", producers, consumers)
    return build(graph, lambda t: (t - 1) % containers)


def expected(kind, emits, producers, op=np.add):
    rounds = max(len(v) for v in emits.values())
    if kind == "broadcast":
        return None
    out = []
    for r in range(rounds):
        present = [(i, emits[t][r]) for i, t in enumerate(producers) if r < len(emits[t])]
        if kind in ("gather", "allgather"):
            by_index = dict(present)
            arity = len(present[0][1])
            out.append([[by_index[i][f] if i in by_index else None
                         for i in range(len(producers))] for f in range(arity)])
        else:
            acc = present[0][1]
            for _, values in present[1:]:
                acc = [op(a, b) for a, b in zip(acc, values, strict=True)]
            out.append(acc)
    return out


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("p", [1, 2, 3, 5, 8])
def test_every_consumer_gets_each_round_once(kind, algorithm, p):
    for containers in (1, 2):
        for m in (1, 3):
            graph = make_graph(kind, algorithm, p, m, containers)
            # producers emit different numbers of rounds: the last rounds are partial
            # an array of more elements than chunks, split unevenly, and one of fewer
            emits = {t: [[i * 100 + r, np.arange(12.0).reshape(3, 4) * (i + 1) + r,
                          np.arange(2.0) + i] for r in range(3 + i % 2)]
                     for i, t in enumerate(graph.producers)}
            delivered, ended = simulate(graph, emits, seed=p * 7 + m + containers)
            receivers = (graph.consumers if kind in ("broadcast", "allreduce", "allgather")
                         else graph.consumers[:1])
            assert sorted(ended) == sorted(receivers)
            for task in graph.consumers:
                got = delivered[task]
                if task not in receivers:
                    assert got == []
                elif kind == "broadcast":  # every tuple of every producer, each in order
                    for t, values in emits.items():
                        mine = [v for v in got if v[0] // 100 == graph.producers.index(t)]
                        assert [v[0] for v in mine] == [v[0] for v in values]
                    assert len(got) == sum(map(len, emits.values()))
                else:
                    want = expected(kind, emits, graph.producers)
                    assert len(got) == len(want)
                    for g, w in zip(got, want, strict=True):
                        assert g[0] == w[0]
                        for f in (1, 2):
                            if kind in ("gather", "allgather"):
                                assert all((a is None and b is None) or np.array_equal(a, b)
                                           for a, b in zip(g[f], w[f], strict=True))
                            else:
                                np.testing.assert_array_equal(g[f], w[f])


def test_custom_op_and_min_max():
    graph = make_graph("allreduce", "binary_tree", 5, 2, 2, op=lambda a, b: a | b)
    emits = {t: [[1 << i]] for i, t in enumerate(graph.producers)}
    delivered, _ = simulate(graph, emits, seed=1)
    assert delivered[graph.consumers[0]] == delivered[graph.consumers[1]] == [[0b11111]]
    for op, fn in (("min", np.minimum), ("max", np.maximum)):
        graph = make_graph("reduce", "ring", 4, 1, 2, op=op)
        emits = {t: [[np.array([t, -t]), t]] for t in graph.producers}
        delivered, _ = simulate(graph, emits, seed=2)
        (arr, scalar), = delivered[graph.consumers[0]]
        want = fn.reduce([np.array([t, -t]) for t in graph.producers])
        np.testing.assert_array_equal(arr, want)
        assert scalar == (1 if op == "min" else 4)
