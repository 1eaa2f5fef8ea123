"""The stream manager of one container: routes frames by destination task, never decoding them.

Start-up: bind the inboxes (ipc for local tasks; for peer stream managers, ZeroMQ tcp or a
libfabric endpoint: ``heronpy.transport``, see ``transport/peers.py``), wait for a hello from
every local task, register with the topology master, and on the master's plan connect to the
peers, warm the connections up, tell the local tasks which containers share their /dev/shm
(``transport/shm.py``) and to start. Then: read a frame, look at its destination task,
forward it to the local task or to the stream manager that owns it.
Control frames (task id 0) from local tasks go to the topology master.

Flow control (Heron's spout backpressure): every queue is bounded. Sends never block; a frame
that does not fit waits in the overflow queue of its destination, in order. While any overflow
queue is non-empty this container is congested: it stops reading from its spouts and tells the
master, which tells every stream manager to stop reading from theirs until no container is
congested. Bolts are always read, so data keeps draining towards the sinks and nothing
deadlocks; with spouts paused, what is in flight is bounded.

Bad input (a frame with the wrong shape, an unknown destination, a control message that does
not decode) is logged, counted and dropped; it never stops the routing of valid frames.
"""

from __future__ import annotations

import logging
from collections import deque
from time import monotonic

import msgpack
import zmq

from heronpy.stmgr.acker import Acker
from heronpy.topology.physical import CONTROL_TASK
from heronpy.transport import shm, zeromq
from heronpy.transport.frame import (
    FAIL,
    HEADER,
    INIT,
    Kind,
    control,
    destination,
    read_control,
)
from heronpy.transport.peers import Link, TransportError, open_peers

log = logging.getLogger(__name__)
HEARTBEAT_SECS = 1.0
_DRAIN = 256  # frames read from one socket before looking at the others
COPY_BELOW = 4 << 20
"""Parts smaller than this are copied into the message to a task, unless they are ZeroMQ
frames already (from ZeroMQ peers, or large parts ``transport/loans.py`` hands over): a fabric
peer's buffer is only lent until the next receive (larger than any fabric message, so always
copied), and a buffer pyzmq lends wakes its garbage-collector thread when sent (a futex wake
and a GIL hand-off): ~10 % of a stream manager's CPU per 64 KiB frame here."""


class StreamManager:
    def __init__(self, container: int, task_containers: dict[int, int], inbox: str,
                 spout_inbox: str, host: str, task_inboxes: dict[int, str], tmaster: str,
                 start_timeout: float, queue_frames: int, message_timeout: float | None,
                 spout_tasks: list[int], *, restarted: bool, transport: str,
                 fabric_provider: str, host_per_container: bool):
        self.container = container
        self._spout_tasks = [t for t in spout_tasks if t in task_inboxes]
        self._task_containers = task_containers
        ctx = zeromq.context()
        self._tmaster = zeromq.dealer(ctx, tmaster, f"stmgr-{container}")
        try:
            self._mesh = open_peers(transport, fabric_provider, container, host, queue_frames)
        except TransportError as err:
            self._give_up(err)
            ctx.destroy(linger=zeromq.LINGER_MS)
            raise
        self.data_endpoint = self._mesh.address
        self._inbox = zeromq.pull(ctx, queue_frames, inbox)
        self._spouts = zeromq.pull(ctx, queue_frames, spout_inbox)
        self._task_inboxes = task_inboxes
        self._local = {task: zeromq.push(ctx, ep, queue_frames)
                       for task, ep in task_inboxes.items()}
        self._routes: list[Link | None] = [None] * (max(task_containers) + 1)
        for task, sock in self._local.items():
            sock.copy_threshold = COPY_BELOW
            self._routes[task] = sock
        self._peer_routes = list(self._routes)  # peers send only for local tasks
        self._overflow: dict[Link, deque] = {}
        self._poller_key = None
        self._cached_poller: zmq.Poller | None = None
        self._congested = False  # this container has overflowing queues
        self._reported_congested = False
        self._paused_by_master = False  # some other container has
        self.dropped = 0
        self._acker = Acker(message_timeout)
        self._waiting_hello = set(task_inboxes)
        self._start_deadline = monotonic() + start_timeout
        self._restarted = restarted
        self._peers: dict[int, tuple[str | bytes, Link]] = {}  # container -> (address, link)
        self._started = False
        self._shm_domain = shm.domain()
        if host_per_container and self._shm_domain is not None:  # config.HOST_PER_CONTAINER
            self._shm_domain += f":container {container}"
        self._hosts = {"type": "hosts", "neighbours": {}}  # for tasks: see _on_master
        self._next_heartbeat = 0.0
        self._running = True
        if restarted:  # our tasks run already: they will not say hello again
            self._waiting_hello.clear()
            self._register()

    def run(self) -> None:
        try:
            while self._running:
                if self._waiting_hello and monotonic() > self._start_deadline:
                    raise TimeoutError(f"tasks {sorted(self._waiting_hello)} never said hello")
                wait_ms = self._mesh.wait_ms(100 if len(self._acker) else 1000)
                for sock, event in self._poller().poll(wait_ms):
                    if event & zmq.POLLOUT:
                        self._drain_overflow(sock)
                    elif sock is self._tmaster:
                        self._on_master(msgpack.unpackb(self._tmaster.recv(), strict_map_key=False))
                    elif sock is self._inbox or sock is self._spouts:
                        self._route_from(sock)
                for frames in self._mesh.receive(_DRAIN):  # from the peers, whatever woke us
                    self._route(frames, self._peer_routes)
                for link in [link for link in self._overflow if not isinstance(link, zmq.Socket)]:
                    self._drain_overflow(link)  # a fabric link: it may have room now
                self._tell_spouts()
                self._update_congestion()
                self._heartbeat()
        finally:
            self._mesh.close()
            zeromq.context().destroy(linger=zeromq.LINGER_MS)

    def stop(self) -> None:
        """Ends ``run`` at the next turn of its loop (within a poll timeout), cleanly."""
        self._running = False

    def _poller(self) -> zmq.Poller:
        """What to wait for: spouts only while nobody is congested, overflowing sockets for
        room. Rebuilt only when that changes."""
        key = (self._congested or self._paused_by_master, tuple(self._overflow),
               tuple(self._mesh.handles))
        if key != self._poller_key:
            self._poller_key = key
            self._cached_poller = poller = zmq.Poller()
            poller.register(self._tmaster, zmq.POLLIN)
            poller.register(self._inbox, zmq.POLLIN)
            for handle in self._mesh.handles:
                poller.register(handle, zmq.POLLIN)
            if not key[0]:
                poller.register(self._spouts, zmq.POLLIN)
            for sock in self._overflow:
                if isinstance(sock, zmq.Socket):  # fabric links: retried after each poll
                    poller.register(sock, zmq.POLLOUT)
        return self._cached_poller

    def _route_from(self, inbox: zmq.Socket) -> None:
        for _ in range(_DRAIN):
            try:
                frames = inbox.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            self._route(frames, self._routes)
            if self._congested and inbox is self._spouts:
                return  # stop reading spouts at once

    def _route(self, frames: list, routes: list[Link | None]) -> None:
        """Forwards one message (zmq Frames, or buffers from a fabric peer) by its header, on
        ``routes`` (by destination task)."""
        if len(frames) < 2 or len(frames[0]) != HEADER.size:
            self._drop(f"a frame of {len(frames)} parts / header {len(frames[0])} bytes")
            return
        head = memoryview(frames[0])
        dest = destination(head)
        if dest == CONTROL_TASK:
            self._on_task_control(memoryview(frames[1]))
        elif head[0] == Kind.ACK and dest in self._local:
            self._on_acks(head[1], memoryview(frames[1]))
        elif dest < len(routes) and routes[dest] is not None:
            self._forward(routes[dest], frames)
        else:
            self._drop(f"a frame for unknown task {dest}")

    def _on_acks(self, flags: int, payload) -> None:
        """Acks, fails and new roots for this container's spouts (ATLEAST_ONCE)."""
        try:
            entries = msgpack.unpackb(payload)
            now = monotonic()
            for root, value in entries:
                if flags & INIT:
                    self._acker.init(root, value, now)
                elif flags & FAIL:
                    self._acker.fail(root, now)
                else:
                    self._acker.ack(root, value)
        except (ValueError, TypeError, msgpack.UnpackException) as err:
            self._drop(f"an ack frame that does not decode ({err})")

    def _tell_spouts(self) -> None:
        """Completed and failed roots go back to the spouts that emitted them."""
        self._acker.expire(monotonic())
        for kind, by_task in zip(("acked", "failed"), self._acker.results(), strict=True):
            for task, roots in by_task.items():
                if task in self._local:
                    self._forward(self._local[task],
                                  control(CONTROL_TASK, task, {"type": kind, "roots": roots}))

    def _forward(self, sock: Link, frames) -> None:
        queue = self._overflow.get(sock)
        if queue is not None:  # keep the order: behind what already waits
            queue.append(self._mesh.keep(frames))
            return
        try:
            sock.send_multipart(frames, zmq.NOBLOCK, copy=False)
        except zmq.Again:
            self._overflow[sock] = deque([self._mesh.keep(frames)])
            self._congested = True

    def _drain_overflow(self, sock: Link) -> None:
        queue = self._overflow[sock]
        try:
            while queue:
                sock.send_multipart(queue[0], zmq.NOBLOCK, copy=False)
                self._mesh.release(queue.popleft())
        except zmq.Again:
            return
        del self._overflow[sock]

    def _update_congestion(self) -> None:
        """Tells the master when this container becomes congested and when it recovers."""
        self._congested = bool(self._overflow)
        if self._congested != self._reported_congested:
            self._reported_congested = self._congested
            self._to_master({"type": "backpressure", "container": self.container,
                             "on": self._congested})

    def _drop(self, what: str) -> None:
        self.dropped += 1
        if self.dropped & (self.dropped - 1) == 0:  # log the 1st, 2nd, 4th, 8th, ... only
            log.warning("dropped %s (%d bad frames so far)", what, self.dropped)

    def _on_task_control(self, payload) -> None:
        try:
            message = read_control(payload)
            kind = message["type"]
        except (ValueError, TypeError, KeyError, msgpack.UnpackException) as err:
            self._drop(f"a control frame that does not decode ({err})")
            return
        if kind == "hello":
            task = message.get("task")
            if self._started and task in self._local:  # a restarted task
                self._forward(self._local[task], control(CONTROL_TASK, task, self._hosts))
                self._forward(self._local[task], control(CONTROL_TASK, task, {"type": "start"}))
                self._to_master({"type": "task_restarted", "task": task})
                return
            self._waiting_hello.discard(task)
            if not self._waiting_hello:
                self._register()
        else:  # done, error: the master decides
            self._to_master(message)

    def _register(self) -> None:
        self._to_master({"type": "register_stmgr", "container": self.container,
                         "endpoint": self.data_endpoint, "shm": self._shm_domain,
                         "inboxes": self._task_inboxes})

    def _on_master(self, message: dict) -> None:
        kind = message["type"]
        if kind == "plan":  # the endpoints of every stream manager (again after a restart)
            try:
                for container, endpoint in message["endpoints"].items():
                    self._connect_peer(int(container), endpoint)
            except TransportError as err:
                self._give_up(err)
                raise
            domains = message.get("shm", {})  # tasks on our host: reached through /dev/shm
            inboxes = message.get("inboxes", {})  # and directly (transport/direct.py)
            self._hosts["neighbours"] = {
                task: inbox for c, d in domains.items() if d is not None and d == self._shm_domain
                for task, inbox in inboxes.get(c, {}).items()}
            self._tell_tasks(self._hosts)
            if not self._started:
                self._started = True
                self._mesh.warm_up([link for _, link in self._peers.values()])
                self._tell_tasks({"type": "start"})  # running tasks ignore it
                if self._restarted:  # what the acker tracked died with our predecessor
                    self._tell_tasks({"type": "acker_reset"})
                log.info("container %d running", self.container)
        elif kind == "task_restarted":
            self._tell_tasks(message)
        elif kind in ("checkpoint", "activate", "deactivate"):  # these concern the spouts
            for task in self._spout_tasks:
                self._forward(self._local[task], control(CONTROL_TASK, task, message))
        elif kind == "backpressure":
            self._paused_by_master = message["on"]
        elif kind == "shutdown":
            self._tell_tasks({"type": "shutdown"})
            self._running = False

    def _connect_peer(self, container: int, endpoint: str | bytes) -> None:
        """Routes the tasks of ``container`` to its stream manager at ``endpoint``; a peer that
        restarted has a new endpoint, and what was queued for the old one is dropped (tuples
        lost with a process are replayed in ATLEAST_ONCE mode)."""
        if container == self.container or self._peers.get(container, ("",))[0] == endpoint:
            return
        if container in self._peers:
            old = self._peers[container][1]
            self._overflow.pop(old, None)
            old.close(linger=0)
        peer = self._mesh.connect(endpoint)
        self._peers[container] = (endpoint, peer)
        for task, owner in self._task_containers.items():
            if owner == container:
                self._routes[task] = peer

    def _give_up(self, err: TransportError) -> None:
        """Tells the master why this stream manager cannot run: it fails the topology with
        that message (rather than have the executor restart us in vain)."""
        self._to_master({"type": "process_exit", "task": None, "container": self.container,
                         "what": f"stream manager {self.container}: {err}"})

    def _heartbeat(self) -> None:
        now = monotonic()
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + HEARTBEAT_SECS
            self._to_master({"type": "heartbeat", "container": self.container})

    def _tell_tasks(self, message: dict) -> None:
        for task, sock in self._local.items():
            self._forward(sock, control(CONTROL_TASK, task, message))

    def _to_master(self, message: dict) -> None:
        self._tmaster.send(msgpack.packb(message))
