"""The stream manager keeps routing valid frames whatever else arrives on its ports.

A real stream manager process is wired to sockets this test owns: it plays the topology master,
two local tasks and a peer stream manager. Hypothesis generates frames of every shape; after
each batch of them a probe frame must still reach a local task (from the peer) and the peer
(from a local task).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import uuid

import msgpack
import zmq
from helpers import subprocess_env
from hypothesis import given, settings
from hypothesis import strategies as st

from heronpy.transport.frame import HEADER, Kind, control, header

LOCAL_TASKS = (1, 2)
REMOTE_TASK = 3


class FakeNeighbours:
    """The master, two local tasks and a peer stream manager, around one real stmgr."""

    def __init__(self):
        self.ctx = zmq.Context()
        folder = tempfile.mkdtemp(prefix="fuzz-")
        self.master = self._bind(zmq.ROUTER, "tcp://127.0.0.1:*")
        self.tasks = {t: self._bind(zmq.PULL, f"ipc://{folder}/task-{t}") for t in LOCAL_TASKS}
        self.peer = self._bind(zmq.PULL, "tcp://127.0.0.1:*")
        config = {
            "inbox": f"ipc://{folder}/stmgr", "spout_inbox": f"ipc://{folder}/stmgr-spouts",
            "host": "127.0.0.1", "tasks": {t: s.last_endpoint.decode()
                                           for t, s in self.tasks.items()},
            "task_containers": {1: 0, 2: 0, REMOTE_TASK: 1},
            "tmaster": self.master.last_endpoint.decode(), "start_timeout": 30,
            "queue_frames": 8, "message_timeout": 30, "spout_tasks": [],
        }
        self.process = subprocess.Popen([sys.executable, "-m", "heronpy.stmgr", "0",
                                         json.dumps(config)], env=subprocess_env())
        self.local_inbox = self._connect(zmq.PUSH, config["inbox"])
        for task in LOCAL_TASKS:
            self.local_inbox.send_multipart(control(task, 0, {"type": "hello", "task": task}))
        register = self._from_master()
        assert register["type"] == "register_stmgr"
        self.data_endpoint = register["endpoint"]
        self.master.send_multipart([b"stmgr-0", msgpack.packb(
            {"type": "plan", "endpoints": {"0": self.data_endpoint,
                                           "1": self.peer.last_endpoint.decode()}})])
        for sock in self.tasks.values():
            assert self._receive(sock, lambda f: f[1] == msgpack.packb({"type": "start"}))
        self.remote_inbox = self._connect(zmq.PUSH, self.data_endpoint)

    def _bind(self, kind, endpoint):
        sock = self.ctx.socket(kind)
        sock.linger = 0
        sock.bind(endpoint)
        return sock

    def _connect(self, kind, endpoint):
        sock = self.ctx.socket(kind)
        sock.linger = 0
        sock.sndtimeo = 5000
        sock.connect(endpoint)
        return sock

    def _from_master(self) -> dict:
        assert self.master.poll(10_000), "the stream manager did not register"
        return msgpack.unpackb(self.master.recv_multipart()[1], strict_map_key=False)

    @staticmethod
    def _receive(sock, wanted, timeout_ms=5000) -> bool:
        """Reads frames until one satisfies ``wanted``; False if none came in time."""
        while sock.poll(timeout_ms):
            if wanted(sock.recv_multipart()):
                return True
        return False

    def probe(self) -> None:
        """Valid frames must still get through: from the peer to a local task, from a local
        task to the peer."""
        for inbox, dest, sock in ((self.remote_inbox, 1, self.tasks[1]),
                                  (self.local_inbox, REMOTE_TASK, self.peer)):
            tag = uuid.uuid4().bytes
            inbox.send_multipart([header(Kind.DATA, 0, 7, dest, 1), tag])
            assert self._receive(sock, lambda f, tag=tag: f[-1] == tag), f"probe to {dest} lost"
        assert self.process.poll() is None, "the stream manager died"

    def close(self):
        self.master.send_multipart([b"stmgr-0", msgpack.packb({"type": "shutdown"})])
        try:
            assert self.process.wait(10) == 0
        finally:
            self.process.kill()
            self.process.wait()
            self.ctx.destroy(linger=0)


headers = st.one_of(
    st.binary(max_size=40),
    st.builds(lambda kind, stream, src, dest, count, seq: HEADER.pack(kind, 0, stream, src, dest,
                                                                     count, seq),
              st.integers(0, 255), st.integers(0, 2**16 - 1), st.integers(0, 2**32 - 1),
              st.sampled_from([0, 1, 2, REMOTE_TASK, 4, 99, 2**32 - 1]),
              st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1)),
)
payloads = st.one_of(st.binary(max_size=200),
                     st.builds(msgpack.packb, st.dictionaries(st.text(max_size=5),
                                                              st.integers(-2**63, 2**63 - 1),
                                                              max_size=3)))
frames = st.one_of(st.lists(st.binary(max_size=60), min_size=1, max_size=4),
                   st.tuples(headers, payloads).map(list),
                   st.tuples(headers).map(list))


def test_stream_manager_survives_random_frames():
    neighbours = FakeNeighbours()
    try:
        @settings(max_examples=150, deadline=None, database=None)
        @given(st.lists(frames, min_size=1, max_size=20))
        def garbage_then_probe(batch):
            for i, parts in enumerate(batch):  # as if from the peer or from a local task
                (neighbours.remote_inbox, neighbours.local_inbox)[i % 2].send_multipart(parts)
            neighbours.probe()

        garbage_then_probe()
    finally:
        neighbours.close()


def test_stream_manager_survives_raw_bytes_on_its_tcp_port():
    neighbours = FakeNeighbours()
    try:
        host, port = neighbours.data_endpoint.removeprefix("tcp://").rsplit(":", 1)
        for size in (1, 10, 64, 1000, 65536):
            with socket.create_connection((host, int(port)), timeout=5) as raw:
                raw.sendall(os.urandom(size))
        neighbours.probe()
    finally:
        neighbours.close()
