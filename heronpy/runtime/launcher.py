"""The client side of a running topology, the same whichever scheduler runs its processes.

It finds the topology master through the run directory (``tmaster.json``), watches its events
until the topology finishes, fails or times out, asks the master to stop it, and reads what it
emitted. Only starting and ending the processes differs between schedulers (``Processes``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from time import monotonic
from typing import Any, Protocol

import cloudpickle
import msgpack
import zmq

from heronpy.instance import codec
from heronpy.runtime.errors import TopologyFailed, UpdateFailed
from heronpy.runtime.rundir import RunDir
from heronpy.topology.physical import PhysicalPlan
from heronpy.topology.rescale import rescale

log = logging.getLogger(__name__)
_POLL_MS = 200
_CHECK_EVERY_SECS = 1.0  # how often the client asks the scheduler whether the job still runs
_KILL_REPLY_SECS = 2.0
_REPLY_SECS = 10.0
_UPDATE_SECS = 120.0


def child_environment() -> dict[str, str]:
    """The environment of topology processes: they see this process's ``sys.path``."""
    env = dict(os.environ)
    paths = [os.path.abspath(p or os.curdir) for p in sys.path]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Processes(Protocol):
    """A topology's processes as a scheduler runs them: a local process tree, a Slurm job."""

    def ended(self) -> str | None:
        """Why the processes are gone; ``None`` while they may still run."""

    def kill(self) -> None:
        """Ends whatever is left of them, and returns once it is gone."""


class RunningTopology:
    """A submitted topology, watched through its master; use as a context manager so it is
    always stopped."""

    def __init__(self, rundir: RunDir, processes: Processes):
        self.rundir = rundir
        self._processes = processes
        self._layout = rundir.layout()
        self._ctx = zmq.Context()
        self._client: zmq.Socket | None = None
        self._pending: list[dict] = []  # events read while awaiting a reply
        self._lost: dict[int, float] = {}  # container -> when the master lost it

    def __enter__(self) -> RunningTopology:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait(self, timeout: float | None) -> dict[int, dict]:
        """Blocks until every task has ended; returns per-task metrics.

        Raises ``TopologyFailed`` when a task or process fails or the processes end early,
        ``TimeoutError`` after ``timeout`` seconds (``None``: wait for ever, e.g. for an
        unbounded topology). A job still queued counts against ``timeout``.
        """
        deadline = monotonic() + timeout if timeout is not None else float("inf")
        next_check = monotonic()
        while True:
            wait_ms = min(_POLL_MS, max(0, (deadline - monotonic()) * 1000))
            if self._pending or (self._connect() and self._client.poll(wait_ms)):
                event = (self._pending.pop(0) if self._pending
                         else msgpack.unpackb(self._client.recv(), strict_map_key=False))
                if event["type"] == "finished":
                    return event["metrics"]
                if event["type"] == "failed":
                    raise TopologyFailed(event["what"], event.get("component"), event.get("task"))
                self._on_container_event(event)
            elif monotonic() >= next_check:  # nothing to read: are the processes still there?
                next_check = monotonic() + _CHECK_EVERY_SECS
                reason = self._processes.ended()
                if reason is not None:
                    lost = "".join(f"; container {c} was lost {monotonic() - at:.0f} s before"
                                   for c, at in sorted(self._lost.items()))
                    raise TopologyFailed(f"{reason}{lost} (see {self.rundir.path}/logs)")
            elif self._client is None:  # no master yet (a Slurm job may still be queued)
                time.sleep(min(wait_ms, 20) / 1000)
            if monotonic() >= deadline:
                raise TimeoutError(f"topology '{self._layout['name']}' did not finish in "
                                   f"{timeout}s; it was stopped (logs: {self.rundir.path}/logs)")

    def _on_container_event(self, event: dict) -> None:
        """Containers the master lost (no heartbeat) and found again: said as they happen,
        and named if the job ends meanwhile."""
        if event["type"] == "container_lost":
            self._lost[event["container"]] = monotonic()
            log.warning("container %d lost: its stream manager is silent (a node or link down?)",
                        event["container"])
        elif event["type"] == "container_back" and self._lost.pop(event["container"], None):
            log.warning("container %d is back", event["container"])

    def read_outputs(self) -> dict[tuple[str, str], list[tuple]]:
        """What each component emitted on streams nothing subscribes to, in task order."""
        outputs: dict[tuple[str, str], list[tuple]] = {}
        tasks = {**self._layout["retired"],
                 **{task: component for task, (component, _, _) in self._layout["tasks"].items()}}
        for task, component in sorted(tasks.items()):
            path = self.rundir.outputs(task)
            if not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                for stream, batch in codec.unpacker(f):
                    outputs.setdefault((component, stream), []).extend(map(tuple, batch))
        return outputs

    def deactivate(self) -> None:
        """Spouts stop emitting (``deactivate`` is called on each); what is in flight drains."""
        self.request({"type": "deactivate"}, "deactivated")

    def activate(self) -> None:
        """Spouts emit again (``activate`` is called on each)."""
        self.request({"type": "activate"}, "activated")

    def restart(self, container: int | None = None) -> None:
        """Restarts the processes of ``container`` (None: of every container), as if they had
        died: their tasks start afresh, or, under EFFECTIVELY_ONCE, the whole topology rolls
        back to its last checkpoint."""
        if container is not None and not 0 <= container < self._layout["containers"]:
            raise ValueError(f"topology '{self._layout['name']}' has containers 0 to "
                             f"{self._layout['containers'] - 1}, not {container}")
        self.request({"type": "restart", "container": container}, "restarted")

    def update(self, parallelism: dict[str, int], timeout: float = _UPDATE_SECS) -> PhysicalPlan:
        """Rescales the running topology to ``parallelism`` (component -> tasks); returns the
        new plan once every container runs it.

        The spouts stop, a savepoint is taken, and every process starts again from it under
        the new plan: each task keeps its ``State``, and a rescaled bolt's keyed state is split
        again by key (``heronpy.topology.rescale``). Raises ``InvalidTopologyError`` when the
        change is not possible, ``UpdateFailed`` when the savepoint does not complete (then
        nothing has changed).
        """
        with open(self.rundir.package, "rb") as f:
            plan = rescale(cloudpickle.load(f), parallelism)
        staged = self.rundir.stage(plan)
        reply = self.request({"type": "update", "staged": staged}, "updated", timeout)
        if "error" in reply:  # the master gave it up: its plan will not be promoted
            self.rundir.discard(staged)
            raise UpdateFailed(f"topology '{self._layout['name']}' was not updated: "
                               f"{reply['error']}")
        self._layout = self.rundir.layout()
        return plan

    def status(self) -> dict:
        """The master's view: ``active``, ``containers``, ``registered``, ``lost``,
        ``congested`` and per task its component, container, latest ``emitted`` /
        ``executed`` / ``cpu_seconds`` counts, its ``execute_latency`` histogram
        (``Histogram.to_dict``), their ``age`` in seconds and ``done``."""
        return self.request({"type": "status"}, "status")

    def request(self, message: dict, reply: str, timeout: float = _REPLY_SECS) -> dict:
        """Sends ``message`` to the master (once it has started); returns its reply of type
        ``reply``."""
        deadline = monotonic() + timeout
        while not self._connect():
            if monotonic() >= deadline:
                raise TimeoutError(f"topology '{self._layout['name']}' has no master after "
                                   f"{timeout}s (logs: {self.rundir.path}/logs)")
            time.sleep(0.02)  # the master writes its endpoint file once it is up
        self._send(message)
        answer = self._await(reply, deadline - monotonic())
        if answer is None:
            raise TimeoutError(f"the master of '{self._layout['name']}' did not answer "
                               f"{message['type']!r} in {timeout}s")
        return answer

    def stop(self) -> None:
        """Asks the master to shut the topology down, then has the scheduler end what is left."""
        try:
            if self._processes.ended() is None and self._connect():
                self._send({"type": "kill"})
                self._await("killed", _KILL_REPLY_SECS)
            self._processes.kill()
        finally:
            self.close()

    def close(self) -> None:
        """Lets go of the master's connection, leaving the topology running."""
        self._ctx.destroy(linger=0)

    def _connect(self) -> bool:
        """Connects to the master and watches it once it has written its endpoint."""
        if self._client is None:
            try:
                with open(self.rundir.tmaster_file) as f:
                    endpoint = json.load(f)["endpoint"]
            except FileNotFoundError:
                return False
            self._client = self._ctx.socket(zmq.DEALER)
            self._client.routing_id = f"client-{uuid.uuid4().hex}".encode()
            self._client.linger = 0
            self._client.connect(endpoint)
            self._send({"type": "watch"})
        return True

    def _await(self, kind: str, timeout: float) -> dict | None:
        """Reads the master's messages until one of type ``kind`` (returned), for ``timeout``
        seconds; events read meanwhile are kept for ``wait``."""
        deadline = monotonic() + timeout
        while (remaining := deadline - monotonic()) > 0 and self._client.poll(remaining * 1000):
            message = msgpack.unpackb(self._client.recv(), strict_map_key=False)
            if message["type"] == kind:
                return message
            self._pending.append(message)
        return None

    def _send(self, message: dict) -> None:
        self._client.send(msgpack.packb(message))


@dataclass
class RunResult:
    """What a finished topology emitted on its unsubscribed streams, and its counters."""

    plan: PhysicalPlan
    _outputs: dict[tuple[str, str], list[tuple]] = field(repr=False)
    metrics: dict[str, dict[str, Any]]
    """Per component: ``emitted`` and ``executed`` totals and ``tasks``, per task id."""

    @classmethod
    def collect(cls, plan: PhysicalPlan, outputs: dict[tuple[str, str], list[tuple]],
                task_metrics: dict[int, dict]) -> RunResult:
        """The result from what ``RunningTopology`` read: metrics summed per component."""
        metrics = {}
        for component, tasks in plan.component_tasks.items():
            per_task = {t: task_metrics.get(t, {}) for t in tasks}
            metrics[component] = {
                "emitted": sum(m.get("emitted", 0) for m in per_task.values()),
                "executed": sum(m.get("executed", 0) for m in per_task.values()),
                "tasks": per_task,
            }
        return cls(plan, outputs, metrics)

    def outputs(self, component: str, stream: str = "default") -> list[tuple]:
        """The values ``component`` emitted on ``stream``: each task's in emission order,
        tasks in order. Only for streams that nothing subscribes to."""
        comp = self.plan.logical.components.get(component)
        if comp is None:
            raise KeyError(f"no component '{component}' in topology '{self.plan.logical.name}'")
        if stream not in comp.outputs:
            raise KeyError(f"component '{component}' has no stream '{stream}'")
        if self.plan.logical.consumers(component, stream):
            raise ValueError(f"stream '{stream}' of '{component}' is consumed by other components;"
                             " only unsubscribed streams are collected")
        return list(self._outputs.get((component, stream), []))
