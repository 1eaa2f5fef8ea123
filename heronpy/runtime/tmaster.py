"""The topology master: registration, the physical plan's endpoints, completion and failures.

Peers talk to it over one ROUTER socket with msgpack dicts. Stream managers register their
data endpoints (and shared-memory domains); once all have, each gets the full map ("plan").
Tasks report "done" and "error" through their stream manager, executors report processes that
exit; clients (the launcher, the CLI) "watch" to receive these events and send "kill" to stop
the topology, "deactivate" / "activate" to pause and resume its spouts, and "status" for its
containers and the counts its tasks report every second, "restart" to restart one container's
processes (or every container's), and "update" to rescale it: the spouts stop, a savepoint is
taken, and every container starts again under the staged plan from it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from time import monotonic

import msgpack
import zmq

from heronpy import config
from heronpy._process import die_with_parent, setup_logging
from heronpy.api import api_constants
from heronpy.instance.checkpoints import CheckpointStore
from heronpy.runtime.checkpoint_coordinator import CheckpointCoordinator
from heronpy.runtime.rundir import RunDir
from heronpy.transport import zeromq

log = logging.getLogger(__name__)
LOST_AFTER_SECS = 5.0


class TopologyMaster:
    def __init__(self, rundir: RunDir, host: str):
        self._rundir = rundir
        layout = rundir.layout()
        self._containers = layout["containers"]
        self._tasks = layout["tasks"]
        self._start_timeout = config.number(layout["config"], config.START_TIMEOUT_SECS)
        self._start_deadline = monotonic() + self._start_timeout
        self._sock = zeromq.context().socket(zmq.ROUTER)
        self._sock.linger = zeromq.LINGER_MS
        self._sock.router_handover = 1  # a restarted peer takes over its name
        self.endpoint = zeromq.bind_tcp(self._sock, host)
        self._stmgrs: dict[int, str] = {}
        self._shm_domains: dict[int, str | None] = {}  # who can share /dev/shm segments
        self._inboxes: dict[int, dict] = {}  # container -> its tasks' inboxes (for neighbours)
        self._executors: set[bytes] = set()
        self._clients: set[bytes] = set()
        self._events: list[dict] = []
        self._metrics: dict[int, dict] = {}  # task -> its final counts
        self._live: dict[int, dict] = {}  # task -> its latest counts, and when they came
        self._active = True
        self._failed: set[int] = set()
        self._congested: set[int] = set()  # containers that asked for backpressure
        self._heartbeats: dict[int, float] = {}  # container -> when its stmgr last said so
        self._lost: set[int] = set()
        self._stopping = False
        self._max_rollbacks = int(config.number(layout["config"], config.RESTART_MAX))
        interval = None  # savepoints only, unless EFFECTIVELY_ONCE
        if (layout["config"].get(api_constants.TOPOLOGY_RELIABILITY_MODE)
                == api_constants.TopologyReliabilityMode.EFFECTIVELY_ONCE):
            interval = float(layout["config"].get(
                api_constants.TOPOLOGY_STATEFUL_CHECKPOINT_INTERVAL_SECONDS) or 1)
        self._coordinator = CheckpointCoordinator(
            CheckpointStore(rundir.checkpoints(layout["config"])), _indexed(self._tasks),
            interval, monotonic())
        self._update: _Update | None = None
        tmp = rundir.tmaster_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"endpoint": self.endpoint, "pid": os.getpid()}, f)
        os.replace(tmp, rundir.tmaster_file)

    def run(self) -> None:
        try:
            while not self._stopping:
                if self._sock.poll(200):
                    peer, payload = self._sock.recv_multipart()
                    self._handle(peer, msgpack.unpackb(payload, strict_map_key=False))
                self._check_heartbeats()
                self._start_checkpoint()
                self._check_update()
                if len(self._stmgrs) < self._containers and monotonic() > self._start_deadline:
                    missing = sorted(set(range(self._containers)) - set(self._stmgrs))
                    self._publish({"type": "failed", "what": f"containers {missing} did not start "
                                   "in time (see their logs)"})
                    self._start_deadline = float("inf")
        finally:
            zeromq.context().destroy(linger=zeromq.LINGER_MS)

    def _handle(self, peer: bytes, message: dict) -> None:
        kind = message["type"]
        if kind == "register_stmgr":  # at start, or a stream manager that was restarted
            container = message["container"]
            restarted = len(self._stmgrs) == self._containers
            self._stmgrs[container] = message["endpoint"]
            self._shm_domains[container] = message.get("shm")
            self._inboxes[container] = message.get("inboxes", {})
            self._heartbeats[container] = monotonic()
            self._backpressure(container, on=False)  # what its predecessor asked for ends
            if len(self._stmgrs) == self._containers:
                self._to_stmgrs({"type": "plan", "endpoints": self._stmgrs,
                                  "shm": self._shm_domains, "inboxes": self._inboxes})
                if self._congested:  # the newcomer pauses its spouts with the others
                    self._send(f"stmgr-{container}".encode(),
                               {"type": "backpressure", "on": True})
                self._publish({"type": "restarted", "container": container} if restarted
                              else {"type": "running"})
                if self._update is not None and self._update.restarted:
                    self._send(self._update.client, {"type": "updated",
                                                     "checkpoint": self._update.checkpoint})
                    self._update = None
        elif kind == "heartbeat":
            if message["container"] in self._lost:
                self._lost.discard(message["container"])
                log.info("container %d is back", message["container"])
                self._publish({"type": "container_back", "container": message["container"]})
            self._heartbeats[message["container"]] = monotonic()
        elif kind == "task_restarted":  # ended upstream tasks send it end of stream again
            self._to_stmgrs(message)
        elif kind == "process_restarting":
            log.warning("restarting (%d): %s", message["restarts"], message["what"])
            self._publish({**message, "type": "restarting"})
        elif kind == "backpressure":
            self._backpressure(message["container"], message["on"])
        elif kind == "register_executor":  # at start, or a container the scheduler restarted
            if peer in self._executors and self._coordinator.periodic:
                self._roll_back({"what": f"container {message['container']} restarted"})
            self._executors.add(peer)
        elif kind == "ping":
            self._send(peer, {"type": "pong"})
        elif kind == "saved":
            self._coordinator.saved(message["task"], message["checkpoint"])
        elif kind == "process_died":  # EFFECTIVELY_ONCE: everything back to the last checkpoint
            self._roll_back(message)
        elif kind == "done":
            self._coordinator.ended(message["task"])
            self._metrics[message["task"]] = message["metrics"]
            if len(self._metrics) == len(self._tasks):
                self._publish({"type": "finished", "metrics": self._metrics})
        elif kind == "error":
            self._failed.add(message["task"])
            component, _, _ = self._tasks[message["task"]]
            self._publish({"type": "failed", "task": message["task"], "component": component,
                           "what": message["traceback"]})
        elif kind == "process_exit":
            task = message.get("task")
            if not self._stopping and task not in self._failed:
                component = self._tasks[task][0] if task is not None else None
                self._publish({**message, "type": "failed", "component": component})
        elif kind == "metrics":
            self._live[message["task"]] = {**message, "at": monotonic()}
        elif kind in ("activate", "deactivate"):
            self._set_active(kind == "activate")
            self._send(peer, {"type": f"{kind}d"})
        elif kind == "update":
            self._begin_update(peer, message["staged"])
        elif kind == "restart":
            self._restart(message["container"])
            self._send(peer, {"type": "restarted"})
        elif kind == "status":
            self._send(peer, self._status())
        elif kind == "watch":
            self._clients.add(peer)
            for event in self._events:
                self._send(peer, event)
        elif kind == "kill":
            self._stopping = True
            for target in [f"stmgr-{c}".encode() for c in self._stmgrs] + list(self._executors):
                self._send(target, {"type": "shutdown"})
            self._send(peer, {"type": "killed"})
        else:
            log.warning("unknown message from %r: %r", peer, message)

    def _status(self) -> dict:
        now = monotonic()
        tasks = {task: {"component": component, "container": container,
                        **{k: v for k, v in self._live.get(task, {}).items()
                           if k in ("emitted", "executed", "cpu_seconds", "execute_latency")},
                        "age": now - self._live[task]["at"] if task in self._live else None,
                        "done": task in self._metrics}
                 for task, (component, _, container) in self._tasks.items()}
        return {"type": "status", "active": self._active, "containers": self._containers,
                "registered": sorted(self._stmgrs), "lost": sorted(self._lost),
                "congested": sorted(self._congested), "tasks": tasks}

    def _restart(self, container: int | None) -> None:
        """As if the processes of ``container`` (None: of every container) had died: their
        executors start them again; under EFFECTIVELY_ONCE everything rolls back."""
        what = "every container" if container is None else f"container {container}"
        if self._coordinator.periodic:
            self._roll_back({"what": f"restart of {what} requested"})
            return
        log.warning("restarting %s, as requested", what)
        for peer in self._executors:
            if container is None or peer == f"executor-{container}".encode():
                self._send(peer, {"type": "restart"})

    def _backpressure(self, container: int, on: bool) -> None:
        """``container``'s queues overflow (or no longer do): every stream manager stops
        reading its spouts while any container's do, and is told when none does."""
        was_on = bool(self._congested)
        (self._congested.add if on else self._congested.discard)(container)
        if bool(self._congested) != was_on:
            self._to_stmgrs({"type": "backpressure", "on": bool(self._congested)})

    def _set_active(self, active: bool) -> None:
        self._active = active
        self._to_stmgrs({"type": "activate" if active else "deactivate"})

    def _start_checkpoint(self) -> None:
        if len(self._stmgrs) < self._containers:
            return
        checkpoint = self._coordinator.due(monotonic())
        if checkpoint is not None:
            self._to_stmgrs({"type": "checkpoint", "id": checkpoint})

    def _begin_update(self, client: bytes, staged: str) -> None:
        """``heronpy update``, whose client has staged the rescaled plan as ``staged``: the
        spouts stop and a savepoint starts; ``_check_update`` goes on once it is complete."""
        if self._update is not None or len(self._stmgrs) < self._containers:
            self._send(client, {"type": "updated", "error": "the topology is starting, or "
                                "being updated: try again in a moment"})
            return
        self._set_active(False)
        checkpoint = self._coordinator.savepoint()
        self._to_stmgrs({"type": "checkpoint", "id": checkpoint})
        self._update = _Update(client, staged, checkpoint, monotonic() + self._start_timeout)

    def _check_update(self) -> None:
        """Once the savepoint is complete, every container restarts under the staged plan
        from it; if it does not complete in time, the topology goes on as it was."""
        update = self._update
        if update is None or update.restarted:
            return
        if self._coordinator.completed >= update.checkpoint:
            update.restarted = True
            self._rundir.promote(update.staged)
            self._tasks = self._rundir.layout()["tasks"]
            self._coordinator.restarted(_indexed(self._tasks))
            self._active = True
            self._restart_all({"type": "update", "checkpoint": update.checkpoint})
        elif monotonic() > update.deadline:
            self._update = None
            self._set_active(True)
            self._send(update.client, {"type": "updated", "error": (
                f"the savepoint did not complete in {self._start_timeout:.0f} s (see the "
                "logs); the topology goes on unchanged")})

    def _roll_back(self, death: dict) -> None:
        if self._stopping:
            return
        if self._coordinator.rollbacks >= self._max_rollbacks:
            task = death.get("task")
            self._publish({**death, "type": "failed",
                           "component": self._tasks[task][0] if task is not None else None})
            return
        checkpoint = self._coordinator.roll_back()
        log.warning("rolling back to checkpoint %s: %s", checkpoint, death["what"])
        self._restart_all({"type": "rollback", "checkpoint": checkpoint})
        self._publish({"type": "rollback", "checkpoint": checkpoint})

    def _restart_all(self, message: dict) -> None:
        """Has every executor restart its processes (``message`` says from where); the stream
        managers register anew."""
        self._stmgrs.clear()
        self._start_deadline = monotonic() + self._start_timeout
        self._metrics.clear()
        self._live.clear()
        for executor in self._executors:
            self._send(executor, message)

    def _check_heartbeats(self) -> None:
        """A stream manager silent for LOST_AFTER_SECS is lost (its node, or its executor
        too): clients hear of it; it rejoins by registering again."""
        now = monotonic()
        for container, seen in self._heartbeats.items():
            if now - seen > LOST_AFTER_SECS and container not in self._lost:
                self._lost.add(container)
                log.warning("container %d lost: no heartbeat for %.0f s", container, now - seen)
                self._publish({"type": "container_lost", "container": container})

    def _publish(self, event: dict) -> None:
        self._events.append(event)
        for client in self._clients:
            self._send(client, event)

    def _to_stmgrs(self, message: dict) -> None:
        for container in self._stmgrs:
            self._send(f"stmgr-{container}".encode(), message)

    def _send(self, peer: bytes, message: dict) -> None:
        self._sock.send_multipart([peer, msgpack.packb(message)])


@dataclass
class _Update:
    """An update in progress: who asked, its savepoint, until when it may take."""

    client: bytes
    staged: str  # the rescaled plan's name in the run directory
    checkpoint: int
    deadline: float
    restarted: bool = False  # the savepoint is complete and the containers restart


def _indexed(tasks: dict[int, list]) -> dict[int, tuple[str, int]]:
    """Each task's component and index, from the layout's tasks."""
    return {task: (component, index) for task, (component, index, _) in tasks.items()}


def main(argv: list[str]) -> int:
    rundir, host = argv
    die_with_parent()
    setup_logging("tmaster")
    TopologyMaster(RunDir(rundir), host).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
