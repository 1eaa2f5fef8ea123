"""The stream manager of one container: routes frames by destination task, never decoding them.

Start-up: bind the inbox (ipc for local tasks, tcp for peer stream managers), wait for a hello
from every local task, register with the topology master, and on the master's plan connect to
the peers and tell the local tasks to start. Then: read a frame, look at its destination task,
forward it to the local task or to the stream manager that owns it. Control frames (task id 0)
from local tasks go to the topology master.
"""

from __future__ import annotations

import logging
from time import monotonic

import msgpack
import zmq

from heronpy.topology.physical import CONTROL_TASK
from heronpy.transport import zeromq
from heronpy.transport.frame import control, destination, read_control

log = logging.getLogger(__name__)
_DRAIN = 256


class StreamManager:
    def __init__(self, container: int, task_containers: dict[int, int], inbox: str, host: str,
                 task_inboxes: dict[int, str], tmaster: str, start_timeout: float):
        self.container = container
        self._task_containers = task_containers
        ctx = zeromq.context()
        self._inbox = zeromq.pull(ctx, inbox)
        self.data_endpoint = zeromq.bind_tcp(self._inbox, host)
        self._tmaster = zeromq.dealer(ctx, tmaster, f"stmgr-{container}")
        self._local = {task: zeromq.push(ctx, ep) for task, ep in task_inboxes.items()}
        self._routes: list[zmq.Socket | None] = [None] * (max(task_containers) + 1)
        for task, sock in self._local.items():
            self._routes[task] = sock
        self._waiting_hello = set(task_inboxes)
        self._start_deadline = monotonic() + start_timeout
        self._running = True

    def run(self) -> None:
        poller = zmq.Poller()
        poller.register(self._inbox, zmq.POLLIN)
        poller.register(self._tmaster, zmq.POLLIN)
        recv = self._inbox.recv_multipart
        routes = self._routes
        try:
            while self._running:
                if self._waiting_hello and monotonic() > self._start_deadline:
                    raise TimeoutError(f"tasks {sorted(self._waiting_hello)} never said hello")
                for sock, _ in poller.poll(1000):
                    if sock is self._tmaster:
                        self._on_master(msgpack.unpackb(self._tmaster.recv(), strict_map_key=False))
                        continue
                    for _ in range(_DRAIN):
                        try:
                            frames = recv(zmq.NOBLOCK, copy=False)
                        except zmq.Again:
                            break
                        dest = destination(frames[0].buffer)
                        if dest == CONTROL_TASK:
                            self._on_task_control(read_control(frames[1].buffer))
                        else:
                            routes[dest].send_multipart(frames, copy=False)
        finally:
            zeromq.context().destroy(linger=zeromq.LINGER_MS)

    def _on_task_control(self, message: dict) -> None:
        if message["type"] == "hello":
            self._waiting_hello.discard(message["task"])
            if not self._waiting_hello:
                self._to_master({"type": "register_stmgr", "container": self.container,
                                 "endpoint": self.data_endpoint})
        else:  # done, error: the master decides
            self._to_master(message)

    def _on_master(self, message: dict) -> None:
        kind = message["type"]
        if kind == "plan":
            ctx = zeromq.context()
            for container, endpoint in message["endpoints"].items():
                if int(container) == self.container:
                    continue
                peer = zeromq.push(ctx, endpoint)
                for task, owner in self._task_containers.items():
                    if owner == int(container):
                        self._routes[task] = peer
            for task, sock in self._local.items():
                sock.send_multipart(control(CONTROL_TASK, task, {"type": "start"}))
            log.info("container %d running", self.container)
        elif kind == "shutdown":
            for task, sock in self._local.items():
                sock.send_multipart(control(CONTROL_TASK, task, {"type": "shutdown"}))
            self._running = False

    def _to_master(self, message: dict) -> None:
        self._tmaster.send(msgpack.packb(message))
