"""Runs a topology on this machine: a topology master and one executor per container, each in
its own process group, watched until the topology finishes, fails, times out or is stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from time import monotonic

import msgpack
import zmq

from heronpy.instance import codec
from heronpy.runtime.errors import TopologyFailed
from heronpy.runtime.executor import wait_for_tmaster
from heronpy.runtime.rundir import RunDir
from heronpy.topology.physical import PhysicalPlan

_STOP_GRACE_SECS = 5.0


def child_environment() -> dict[str, str]:
    """The environment of topology processes: they see this process's ``sys.path``."""
    env = dict(os.environ)
    paths = [os.path.abspath(p or os.curdir) for p in sys.path]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env["PYTHONUNBUFFERED"] = "1"
    return env


class LocalTopology:
    """A topology running on this machine; use as a context manager so it is always stopped."""

    def __init__(self, plan: PhysicalPlan, host: str = "127.0.0.1"):
        self.plan = plan
        self.rundir = RunDir.create(plan)
        self._env = child_environment()
        self._procs: list[subprocess.Popen] = []
        self._ctx = zmq.Context()
        self._client = None
        try:
            self._tmaster = self._start("tmaster", "heronpy.runtime.tmaster", host)
            for c in range(plan.num_containers):  # they wait for the master themselves
                self._start(f"executor-{c}", "heronpy.runtime.executor", str(c), host)
            endpoint = wait_for_tmaster(self.rundir, 30)
            self._client = self._ctx.socket(zmq.DEALER)
            self._client.routing_id = f"client-{uuid.uuid4().hex}".encode()
            self._client.linger = 0
            self._client.connect(endpoint)
            self._send({"type": "watch"})
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> LocalTopology:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _start(self, name: str, module: str, *args: str) -> subprocess.Popen:
        with open(self.rundir.log(name), "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", module, self.rundir.path, *args],
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=self._env, start_new_session=True)
        self._procs.append(proc)
        return proc

    def wait(self, timeout: float | None) -> dict[int, dict]:
        """Blocks until every task has ended; returns per-task metrics.

        Raises ``TopologyFailed`` when a task or process fails, ``TimeoutError`` after
        ``timeout`` seconds (``None``: wait for ever, e.g. for an unbounded topology).
        """
        deadline = monotonic() + timeout if timeout is not None else float("inf")
        while True:
            if self._client.poll(min(200, max(0, (deadline - monotonic()) * 1000))):
                event = msgpack.unpackb(self._client.recv(), strict_map_key=False)
                if event["type"] == "finished":
                    return event["metrics"]
                if event["type"] == "failed":
                    raise TopologyFailed(event["what"], event.get("component"), event.get("task"))
            elif self._tmaster.poll() is not None:
                raise TopologyFailed(f"the topology master exited (see {self.rundir.path}/logs)")
            if monotonic() >= deadline:
                raise TimeoutError(f"topology '{self.plan.logical.name}' did not finish in "
                                   f"{timeout}s; it was stopped (logs: {self.rundir.path}/logs)")

    def read_outputs(self) -> dict[tuple[str, str], list[tuple]]:
        """What each component emitted on streams nothing subscribes to, in task order."""
        outputs: dict[tuple[str, str], list[tuple]] = {}
        for task in sorted(self.plan.tasks):
            path = self.rundir.outputs(task)
            if not os.path.exists(path):
                continue
            component = self.plan.tasks[task].component
            with open(path, "rb") as f:
                for stream, batch in codec.unpacker(f):
                    outputs.setdefault((component, stream), []).extend(map(tuple, batch))
        return outputs

    def stop(self) -> None:
        """Asks the master to shut the topology down, then makes sure every process is gone."""
        if self._client is not None and self._tmaster.poll() is None:
            self._send({"type": "kill"})
        deadline = monotonic() + _STOP_GRACE_SECS
        for proc in self._procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.0, deadline - monotonic()))
        for proc in self._procs:  # whatever is left of each process group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        self._ctx.destroy(linger=0)

    def _send(self, message: dict) -> None:
        self._client.send(msgpack.packb(message))
