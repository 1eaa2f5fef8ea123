"""Peer links between stream managers (heronpy/transport/peers.py): the fabric message codec,
and two or three FabricPeers in this process over shm and tcp;ofi_rxm, driven in turns (their
calls never wait, so one thread moves data for all)."""

import contextlib
import glob
import os
import random
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zmq
from helpers import provider_params, rdm_providers, subprocess_env
from hypothesis import given, settings
from hypothesis import strategies as st

from heronpy.transport import peers
from heronpy.transport.libfabric import FabricUnavailable
from heronpy.transport.peers import CHUNK, FabricPeers, Reassembly, TransportError, encode

try:
    RDM = rdm_providers()
except FabricUnavailable as e:
    RDM = set()
    UNAVAILABLE = str(e)

PROVIDERS = provider_params(RDM)
WAIT = 30.0
BIG = 3 * peers.MAX_MESSAGE + 12345  # four chunks


def message(seed: int, *sizes: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(size) for size in sizes]


def joined(chunk: list) -> bytes:
    return b"".join(bytes(piece) for piece in chunk)


# -- the codec ------------------------------------------------------------------------------

def reassemble(chunks: list[bytes]) -> tuple[list, list[str]]:
    dropped: list[str] = []
    reassembly = Reassembly(dropped.append)
    done = [m for m in map(reassembly.take, chunks) if m is not None]
    return [[bytes(part) for part in m] for m in done], dropped


@settings(max_examples=200, deadline=None)
@given(sizes=st.lists(st.integers(0, 300), min_size=1, max_size=5),
       limit=st.integers(CHUNK.size + 1, 200))
def test_any_message_survives_chunking(sizes, limit):
    frames = message(sum(sizes), *sizes)
    chunks = [joined(c) for c in encode((3, 7), frames, limit)]
    assert all(len(c) <= limit for c in chunks)
    assert reassemble(chunks) == ([frames], [])


def test_a_message_that_fits_is_one_fabric_message_without_copies():
    frames = message(1, 24, 1000, 5000)
    [chunk] = encode((0, 1), frames)
    assert [bytes(piece) for piece in chunk[2:]] == frames
    assert chunk[2].obj is frames[0]  # a view of the frame, not a copy


def test_an_incomplete_message_of_a_dead_sender_is_dropped():
    old = [joined(c) for c in encode((2, 1), message(1, 24, 500), limit=200)]
    new = [joined(c) for c in encode((2, 9), message(2, 24, 500), limit=200)]
    assert len(old) > 1
    done, dropped = reassemble(old[:1] + new)
    assert done == [message(2, 24, 500)]
    assert dropped == ["dropped an incomplete message from sender 2's previous incarnation"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_garbage_is_dropped_never_raised(data):
    done, dropped = reassemble([data])
    assert len(done) + len(dropped) <= 1


# -- settings and errors ------------------------------------------------------------------

def test_settings_come_from_the_topology_then_the_environment(monkeypatch):
    monkeypatch.delenv("HERONPY_TRANSPORT", raising=False)
    assert peers.setting({}, "heronpy.transport") == "zmq"
    monkeypatch.setenv("HERONPY_TRANSPORT", "fabric")
    monkeypatch.setenv("HERONPY_FABRIC_PROVIDER", "shm")
    assert peers.setting({}, "heronpy.transport") == "fabric"
    assert peers.setting({}, "heronpy.fabric.provider") == "shm"
    assert peers.setting({"heronpy.transport": "zmq"}, "heronpy.transport") == "zmq"


def test_an_unknown_transport_or_provider_is_a_clear_error():
    with pytest.raises(TransportError, match="must be one of zmq, fabric"):
        peers.open_peers("carrier-pigeon", "shm", 0, "127.0.0.1", 8)
    if not RDM:
        pytest.skip(f"libfabric transport unavailable: {UNAVAILABLE}")
    with pytest.raises(TransportError, match=r"'warp-drive'.*these do: .*shm.*tcp;ofi_rxm"):
        peers.open_peers("fabric", "warp-drive", 0, "127.0.0.1", 8)


def test_containers_on_different_transports_are_a_clear_error(provider):
    zmq_peers = peers.ZmqPeers("127.0.0.1", 8)
    fabric_peers = FabricPeers(provider, 0)
    try:
        with pytest.raises(TransportError, match="every container must use the same"):
            fabric_peers.connect(zmq_peers.address)
        with pytest.raises(TransportError, match="every container must use the same"):
            zmq_peers.connect(fabric_peers.address)
        with pytest.raises(TransportError, match=r"cannot reach a peer .*not a fabric endpoint"):
            fabric_peers.connect(b"\0" * 8)
    finally:
        zmq_peers.close()
        fabric_peers.close()


# -- FabricPeers ----------------------------------------------------------------------------

def collect(receiver: FabricPeers, count: int, *others: FabricPeers) -> list[list[bytes]]:
    """``count`` messages from ``receiver``, while ``others`` (the senders) move their data."""
    got: list[list[bytes]] = []
    deadline = time.monotonic() + WAIT
    while len(got) < count:
        assert time.monotonic() < deadline, f"received {len(got)} of {count} messages"
        for other in others:
            assert other.receive(256) == []
        got += [[bytes(part) for part in m] for m in receiver.receive(256)]
    return got


def send(link, frames: list[bytes], sender: FabricPeers, receiver: FabricPeers) -> list:
    """Sends ``frames`` on ``link``, waiting while it is full (the first message to a peer
    also waits for the connection); returns what ``receiver`` took meanwhile."""
    got = []
    deadline = time.monotonic() + WAIT
    while True:
        try:
            link.send_multipart(frames, zmq.NOBLOCK, copy=False)
            return got
        except zmq.Again:
            assert time.monotonic() < deadline, "the link stayed full"
            sender.receive(0)
            got += [[bytes(part) for part in m] for m in receiver.receive(256)]


def connect(link, sender: FabricPeers, receiver: FabricPeers) -> None:
    """Sends one message and waits for it: the connection is made."""
    got = send(link, [b"hello"], sender, receiver)
    assert got + collect(receiver, 1 - len(got), sender) == [[b"hello"]]


def send_until_full(link, size: int) -> list[list[bytes]]:
    """Sends messages of ``size`` bytes on ``link`` until it refuses one (zmq.Again)."""
    sent: list[list[bytes]] = []
    while True:
        frames = message(len(sent), 24, size)
        try:
            link.send_multipart(frames, zmq.NOBLOCK, copy=False)
        except zmq.Again:
            return sent
        sent.append(frames)
        assert len(sent) < 10_000, "the link never filled up"


@pytest.fixture(params=PROVIDERS)
def provider(request):
    return request.param


@pytest.fixture
def pair(provider):
    a, b = FabricPeers(provider, 0), FabricPeers(provider, 1)
    try:
        yield a, b, a.connect(b.address)
    finally:
        a.close()
        b.close()


def test_messages_of_every_shape_arrive_intact_and_in_order(pair):
    a, b, a_to_b = pair
    sent = [message(0, 24, 100), message(1, 24, 0), message(2, 24, 70_000, 8, 300_000),
            message(3, 24, BIG), message(4, 24, 1), message(5, 24, 5000, BIG // 2)]
    got = []
    for frames in sent:  # a large message may wait for the previous one's last chunks
        got += send(a_to_b, frames, a, b)
    assert got + collect(b, len(sent) - len(got), a) == sent


def test_a_full_link_refuses_and_loses_nothing(pair):
    a, b, a_to_b = pair
    connect(a_to_b, a, b)
    sent = send_until_full(a_to_b, 65536)  # b takes nothing meanwhile
    assert len(sent) >= peers.SEND_BUFFERS // 2
    assert collect(b, len(sent), a) == sent
    more = message(99, 24, 65536)
    a_to_b.send_multipart(more)  # room again
    assert collect(b, 1, a) == [more]


def deliver(link, sent: list[list[bytes]], sender: FabricPeers, receiver: FabricPeers,
            take=lambda message: message) -> list:
    """Sends ``sent`` on ``link`` while ``receiver`` takes each message as it arrives (what
    ``take`` makes of it is returned, in order): the receive buffers stay lent meanwhile."""
    got, waiting = [], list(sent)
    deadline = time.monotonic() + WAIT
    while len(got) < len(sent):
        assert time.monotonic() < deadline, f"{len(got)} of {len(sent)} arrived"
        if waiting:
            with contextlib.suppress(zmq.Again):
                link.send_multipart(waiting[0], zmq.NOBLOCK)
                waiting.pop(0)
        sender.receive(0)
        got += [take(m) for m in receiver.receive(256)]
    return got


def test_kept_messages_stay_lent_up_to_a_bound_then_are_copied(pair):
    """What a stream manager does while a task's queue is full: it keeps every message. The
    first ``LENT_BUFFERS`` stay in their receive buffers, the rest are copied, so that buffers
    remain to receive into; released ones take messages again."""
    a, b, a_to_b = pair
    connect(a_to_b, a, b)

    def send_and_keep(sent: list[list[bytes]]) -> list[bool]:
        """Sends ``sent``, keeps each message; returns which ones were copied."""
        kept = deliver(a_to_b, sent, a, b, take=b.keep)
        assert [[bytes(part) for part in m] for m in kept] == sent  # intact all along
        for m in kept:
            b.release(m)
        return [all(isinstance(part, bytes) for part in m) for m in kept]

    many = peers.RECV_BUFFERS + 4
    copied = send_and_keep([message(i, 24, 1000) for i in range(many)])
    assert copied == [False] * peers.LENT_BUFFERS + [True] * (many - peers.LENT_BUFFERS)
    # released: lent again
    assert send_and_keep([message(i, 24, 99) for i in range(peers.LENT_BUFFERS)]) == \
        [False] * peers.LENT_BUFFERS


def test_large_parts_go_to_zeromq_from_the_receive_buffer(pair, tmp_path):
    """Parts of LEND_FROM bytes or more become ZeroMQ frames over the receive buffer (up to
    LENT_BUFFERS buffers at a time: the rest are received as usual), and the buffer takes
    messages again only once ZeroMQ has sent them and let go."""
    a, b, a_to_b = pair
    connect(a_to_b, a, b)

    many = peers.RECV_BUFFERS + 4
    sent = [message(i, 24, peers.LEND_FROM) for i in range(many)]
    got = deliver(a_to_b, sent, a, b)  # held, as ZeroMQ holds frames it has not sent yet
    lent = [isinstance(m[1], zmq.Frame) for m in got]
    assert lent == [True] * peers.LENT_BUFFERS + [False] * (many - peers.LENT_BUFFERS)
    first = slice(peers.LENT_BUFFERS)
    assert [bytes(m[1]) for m in got[first]] == [m[1] for m in sent[first]]  # not overwritten
    ctx = zmq.Context()
    try:
        push, pull = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL)
        pull.bind(f"ipc://{tmp_path}/task")
        push.connect(f"ipc://{tmp_path}/task")
        for m in got[first]:
            push.send_multipart([m[0], m[1]], copy=False)
        del got, m
        for frames in sent[first]:
            assert pull.poll(WAIT * 1000) and pull.recv_multipart() == frames
    finally:
        ctx.destroy(linger=0)
    deadline = time.monotonic() + WAIT
    while not isinstance(deliver(a_to_b, [message(99, 24, peers.LEND_FROM)], a, b)[0][1],
                         zmq.Frame):
        assert time.monotonic() < deadline, "ZeroMQ's loans never came back"


def test_two_senders_interleave_chunked_messages(provider):
    a, c, b = FabricPeers(provider, 0), FabricPeers(provider, 2), FabricPeers(provider, 1)
    try:
        a_to_b, c_to_b = a.connect(b.address), c.connect(b.address)
        from_a = [message(i, 24, BIG) for i in range(3)]
        from_c = [message(10 + i, 24, BIG + i) for i in range(3)]
        for x, y in zip(from_a, from_c, strict=True):
            got = send(a_to_b, x, a, b)  # both begin before either ends
            got += send(c_to_b, y, c, b)
            got += collect(b, 2 - len(got), a, c)
            assert sorted(got) == sorted([x, y])
    finally:
        for p in (a, c, b):  # senders first: shm peers in one process share memory
            p.close()


def idle_peer(provider: str) -> None:
    """The peer process of the next test: prints its address, takes one message, says so,
    then takes nothing more (it blocks on stdin until it is killed)."""
    mine = FabricPeers(provider, 1)
    print(mine.address.hex(), flush=True)
    deadline = time.monotonic() + WAIT
    while not mine.receive(1) and time.monotonic() < deadline:
        pass
    print("connected", flush=True)
    sys.stdin.read()


def readline(child: subprocess.Popen, sender: FabricPeers) -> str:
    """The child's next line, while ``sender`` moves its data."""
    deadline = time.monotonic() + WAIT
    while not select.select([child.stdout], [], [], 0.01)[0]:
        assert time.monotonic() < deadline, "the peer process said nothing"
        sender.receive(0)
    return child.stdout.readline().strip()


def test_a_peer_that_dies_with_sends_in_flight_is_replaced(provider):
    """What a stream manager restart does: the peer is killed with sends in flight to it,
    which never complete (libfabric 1.17); the link to its successor must still work (shm
    needs a fresh sending endpoint for that)."""
    env = subprocess_env()
    env["PYTHONPATH"] = os.pathsep.join((str(Path(__file__).parent), env["PYTHONPATH"]))
    child = subprocess.Popen(
        [sys.executable, "-c", f"import test_transport_peers as t; t.idle_peer({provider!r})"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    a = FabricPeers(provider, 0)
    new = None
    try:
        link = a.connect(bytes.fromhex(readline(child, a)))
        assert send(link, [b"hello"], a, a) == []
        assert readline(child, a) == "connected"
        assert len(send_until_full(link, 65536)) > 0  # in flight: the peer takes nothing
        child.kill()
        child.wait(WAIT)
        link.close()
        new = FabricPeers(provider, 1)
        link = a.connect(new.address)
        sent = [message(i, 24, 65536) for i in range(3 * peers.SEND_BUFFERS)]
        got = []
        for frames in sent:
            got += send(link, frames, a, new)
        assert got + collect(new, len(sent) - len(got), a) == sent
    finally:
        a.close()  # senders before receivers: shm peers in one process share memory
        if new is not None:
            new.close()
        if child.poll() is None:
            child.kill()
        child.wait(WAIT)
        child.stdin.close()
        child.stdout.close()
        for name in glob.glob(f"/dev/shm/{child.pid}:*"):  # what a killed shm peer leaves
            os.unlink(name)
