"""The collective rewrite as pure data: tree shapes, depths and placement for p = 1..16."""

import math
from collections import Counter

import pytest

from heronpy.topology.collective import CollectiveGraph, build


def graph(kind, algorithm, p, m=1, containers=2, degree=2):
    producers = list(range(1, p + 1))
    consumers = list(range(p + 1, p + m + 1))
    return build(CollectiveGraph(0, kind, algorithm, degree, "sum", "P", "s", "C", producers,
                                 consumers), lambda t: (t - 1) % containers)


def leaves_reaching(g, node_id) -> Counter:
    """Producer index -> how many times its contribution reaches ``node_id``."""
    node = g.nodes[node_id]
    if node.leaf is not None:
        return Counter([node.leaf])
    total = Counter()
    for i in node.inputs:
        total += leaves_reaching(g, i)
    return total


def ceil_log(p, base):
    return max(1, math.ceil(round(math.log(p, base), 9)))


@pytest.mark.parametrize("p", range(1, 17))
@pytest.mark.parametrize("containers", [1, 2, 3])
def test_reduce_trees(p, containers):
    for algorithm, degree, depth in (("flat", 2, 1), ("binary_tree", 2, ceil_log(p, 2)),
                                     ("binary_tree", 3, ceil_log(p, 3)), ("ring", 2, p)):
        g = graph("reduce", algorithm, p, containers=containers, degree=degree)
        (root,) = [n for n in g.nodes if n.delivers]
        assert root.host == g.consumers[0]
        assert leaves_reaching(g, root.id) == Counter(range(p))  # each producer exactly once
        assert all(len(n.outputs) == 1 for n in g.nodes if not n.delivers)
        assert sorted(n.host for n in g.nodes if n.leaf is not None) == g.producers
        if containers <= 2:
            assert g.depth() == depth, (algorithm, degree)
        else:  # per container ceil(log p_c), then across containers
            assert g.depth() <= ceil_log(math.ceil(p / containers), degree) + \
                ceil_log(containers, degree) if algorithm == "binary_tree" else True


@pytest.mark.parametrize("p", range(2, 17))
def test_tree_combines_in_each_container_before_crossing(p):
    container = lambda t: (t - 1) % 2  # noqa: E731
    crossing = {}
    for algorithm in ("flat", "binary_tree"):
        g = graph("reduce", algorithm, p)
        crossing[algorithm] = sum(container(g.nodes[i].host) != container(n.host)
                                  for n in g.nodes for i in n.inputs)
    assert crossing["binary_tree"] == 1  # one partial result crosses to the root's container
    remote = sum(container(t) != container(g.consumers[0]) for t in g.producers)
    assert crossing["flat"] == remote  # every producer outside the root's container crosses


@pytest.mark.parametrize("p", [1, 2, 5, 16])
@pytest.mark.parametrize("m", [1, 2, 7, 16])
@pytest.mark.parametrize("algorithm", ["flat", "binary_tree", "ring"])
def test_broadcast_and_allreduce_reach_every_consumer_once(p, m, algorithm):
    b = graph("broadcast", algorithm, p, m)
    for index in range(p):
        delivering = [n for n in b.nodes
                      if n.delivers and leaves_reaching(b, n.id) == Counter([index])]
        assert sorted(n.host for n in delivering) == b.consumers
    a = graph("allreduce", algorithm, p, m)
    assert a.chunks == (p if algorithm == "ring" and p > 1 else 1)
    for chunk in range(a.chunks):  # each chunk of the tuple reaches every consumer once
        delivering = [n for n in a.nodes if n.delivers and n.chunk == chunk]
        assert sorted(n.host for n in delivering) == a.consumers
        for n in delivering:
            assert leaves_reaching(a, n.id) == Counter(range(p))
    if algorithm == "binary_tree":
        assert b.depth() <= 1 + ceil_log(m, 2)


def test_describe_names_every_node():
    g = graph("allreduce", "binary_tree", 4, 2)
    text = "\n".join(g.describe(lambda t: (t - 1) % 2))
    assert "collective allreduce P:s -> C  (binary_tree, degree 2, depth 3)" in text
    assert text.count("\n    node ") == len(g.nodes)
    assert "combines" in text and "leaf of P[3]" in text and "delivers" in text


@pytest.mark.parametrize("p", [2, 3, 8, 16])
def test_ring_allreduce_is_reduce_scatter_then_allgather(p):
    tasks = list(range(1, p + 1))
    spmd = build(CollectiveGraph(0, "allreduce", "ring", 2, "sum", "W", "s", "W", tasks, tasks),
                 lambda t: (t - 1) % 2)
    assert spmd.depth() == 2 * (p - 1)
    owners = [n.host for n in spmd.nodes if n.delivers and len(n.inputs) == 2]
    assert sorted(owners) == tasks  # each task reduces one chunk
    sends = Counter(n.host for n in spmd.nodes for out in n.outputs
                    if spmd.nodes[out].host != n.host)
    assert set(sends.values()) == {2 * (p - 1)}  # every task sends 2 (p - 1) chunks
