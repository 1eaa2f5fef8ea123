"""Task-to-task datagrams (transport/direct.py), both ends in this process: frames arrive
whole and in order however large, wait (in order) while the neighbour is full, unbound or
restarting, and malformed datagrams are dropped without stopping the rest."""

import os
import socket

import numpy as np
import pytest
import zmq

from heronpy.transport import direct
from heronpy.transport.direct import CHUNK, DirectInbox, DirectLinks

NEIGHBOUR = 3


@pytest.fixture
def where(tmp_path):
    return str(tmp_path / "task-3.d")


@pytest.fixture
def poller():
    return zmq.Poller()


@pytest.fixture
def dropped():
    return []


@pytest.fixture
def inbox(where, dropped):
    box = DirectInbox(where, dropped.append)
    yield box
    box.close()


@pytest.fixture
def links(where, poller):
    out = DirectLinks(7, poller)
    out.add_neighbours({NEIGHBOUR: where})
    yield out
    out.close()


def frame(i: int, size: int = 16) -> tuple:
    return (i.to_bytes(24, "little"), b"payload %d" % i, np.full(size // 8, i, np.float64))


def as_bytes(parts) -> list[bytes]:
    return [bytes(memoryview(p).cast("B")) for p in parts]


def exchange(links: DirectLinks, inbox: DirectInbox, count: int) -> list[list[bytes]]:
    """Receives ``count`` frames, flushing what waits meanwhile."""
    got = []
    for _ in range(10_000):
        got += [as_bytes(f) for f in inbox.receive(64)]
        links.flush()
        if len(got) >= count and not links.backlog:
            return got
    raise AssertionError(f"{len(got)} of {count} frames arrived")


def test_the_datagram_socket_sits_beside_the_zeromq_inbox():
    assert direct.path("ipc:///run/x/sock/task-3") == "/run/x/sock/task-3.d"


def test_frames_arrive_whole_and_in_order_however_large(links, inbox):
    sizes = [16, 3 * CHUNK + 5, 8, 1 << 20, 24]
    sent = [frame(i, size) for i, size in enumerate(sizes)]
    for parts in sent:
        links.send(NEIGHBOUR, parts)
    assert exchange(links, inbox, len(sent)) == [as_bytes(p) for p in sent]


def test_a_full_neighbour_keeps_frames_waiting_in_order(links, inbox, poller):
    for i in range(50):  # far more datagrams than a Unix socket queues (max_dgram_qlen)
        links.send(NEIGHBOUR, frame(i))
    assert links.backlog
    (fd,) = [fd for fd, _ in poller.sockets]  # polled for room...
    assert not dict(poller.poll(0)).get(fd, 0) & zmq.POLLOUT  # ...which there is not
    first = inbox.receive(64)
    assert dict(poller.poll(0)).get(fd, 0) & zmq.POLLOUT  # read: room again
    got = [as_bytes(f) for f in first] + exchange(links, inbox, 50 - len(first))
    assert got == [as_bytes(frame(i)) for i in range(50)]
    assert not poller.sockets  # nothing waits: nothing polled


def test_an_unbound_neighbour_gets_its_frames_once_bound(links, where, dropped, poller):
    links.send(NEIGHBOUR, frame(1))
    assert links.backlog and not poller.sockets  # unconnected: retried, not polled
    inbox = DirectInbox(where, dropped.append)
    try:
        assert exchange(links, inbox, 1) == [as_bytes(frame(1))]
    finally:
        inbox.close()


def test_a_restarted_neighbour_gets_what_follows(links, inbox, where, dropped):
    links.send(NEIGHBOUR, frame(1))
    assert exchange(links, inbox, 1) == [as_bytes(frame(1))]
    inbox.close()
    assert not os.path.exists(where)
    successor = DirectInbox(where, dropped.append)
    try:
        links.send(NEIGHBOUR, frame(2))  # refused by the old socket: reconnects
        assert exchange(links, successor, 1) == [as_bytes(frame(2))]
    finally:
        successor.close()


def test_malformed_datagrams_are_dropped_and_the_rest_arrives(links, inbox, where, dropped):
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as raw:
        raw.sendto(b"short", where)
        raw.sendto(b"\0" * 40, where)  # a header that claims no parts
    links.send(NEIGHBOUR, frame(5))
    assert exchange(links, inbox, 1) == [as_bytes(frame(5))]
    assert len(dropped) == 2
