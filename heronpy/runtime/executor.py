"""The executor of one container: starts its stream manager and task processes, reports the
ones that exit, and stops them all on the topology master's shutdown, or when the master has
not answered its pings for ``heronpy.master.timeout.secs``.

Its children share its process group, so whoever started the executor can kill the whole
container with one ``killpg`` even if the executor itself is gone.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from time import monotonic

import msgpack

from heronpy import config
from heronpy._process import die_with_parent, setup_logging, terminate
from heronpy.api import api_constants
from heronpy.runtime.rundir import RunDir
from heronpy.transport import peers, shm, zeromq

_TERM_GRACE_SECS = 2.0
_PING_SECS = 1.0
_ROLLBACK_GRACE_SECS = 0.5
_BACKOFF_SECS = 0.25  # first restart delay, doubled at each restart of the same process
_MAX_BACKOFF_SECS = 8.0
_LOG_TAIL_LINES = 40


def wait_for_tmaster(rundir: RunDir, timeout: float) -> str:
    """The master's endpoint, once it has written it (it may start after us on a cluster)."""
    deadline = monotonic() + timeout
    while monotonic() < deadline:
        try:
            with open(rundir.tmaster_file) as f:
                return json.load(f)["endpoint"]
        except FileNotFoundError:
            time.sleep(0.02)
    raise TimeoutError(f"no topology master in {rundir.path} after {timeout}s")


def log_tail(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-_LOG_TAIL_LINES:])
    except OSError:
        return ""


class MasterSilent(Exception):
    """The topology master did not answer for ``heronpy.master.timeout.secs``."""


class _Child:
    """One process of the container: how to start it, how to restart it, and its restarts."""

    def __init__(self, task: int | None, module_argv: list[str], log: str,
                 start_argv: tuple[str, ...] = (), restart_argv: tuple[str, ...] = ()):
        self.task = task
        self.module_argv = module_argv
        self.start_argv = start_argv
        self.restart_argv = restart_argv
        self.log = log
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self.restart_at: float | None = None
        self.given_up = False

    def start(self, restarted: bool = False) -> None:
        argv = [sys.executable, "-m", *self.module_argv,
                *(self.restart_argv if restarted else self.start_argv)]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)


class Executor:
    def __init__(self, rundir: RunDir, container: int, host: str):
        self.rundir = rundir
        self.container = container
        self._host = host
        layout = rundir.layout()
        self._start_timeout = config.number(layout["config"], config.START_TIMEOUT_SECS)
        self._tmaster_endpoint = wait_for_tmaster(rundir, self._start_timeout)
        self._tmaster = zeromq.dealer(zeromq.context(), self._tmaster_endpoint,
                                      f"executor-{container}")
        # EFFECTIVELY_ONCE: a process that dies rolls the whole topology back (the master
        # decides); otherwise the executor restarts it by itself, from scratch
        self._stateful = (layout["config"].get(api_constants.TOPOLOGY_RELIABILITY_MODE)
                          == api_constants.TopologyReliabilityMode.EFFECTIVELY_ONCE)
        self._checkpoints = rundir.checkpoints(layout["config"])
        self._max_restarts = int(config.number(layout["config"], config.RESTART_MAX))
        self._master_timeout = config.number(layout["config"], config.MASTER_TIMEOUT_SECS)
        shm.remove_stale_segments()
        self._children = self._plan_children(layout, restore="none")
        for child in self._children.values():
            child.start()

    def _plan_children(self, layout: dict, restore: str) -> dict[str, _Child]:
        """The container's stream manager and tasks under ``layout``, their tasks to start
        from checkpoint ``restore``."""
        rundir, container = self.rundir, self.container
        mine = {t: v for t, v in layout["tasks"].items() if v[2] == container}
        stmgr_config = {
            "inbox": rundir.stmgr_inbox(container),
            "spout_inbox": rundir.stmgr_inbox(container, spouts=True), "host": self._host,
            "tasks": {t: rundir.task_inbox(t) for t in mine},
            "task_containers": {t: v[2] for t, v in layout["tasks"].items()},
            "tmaster": self._tmaster_endpoint, "start_timeout": self._start_timeout,
            "queue_frames": int(config.number(layout["config"], config.QUEUE_FRAMES)),
            "message_timeout": config.message_timeout(layout["config"]),
            "spout_tasks": [t for t, v in layout["tasks"].items() if v[0] in layout["spouts"]],
            "transport": peers.setting(layout["config"], config.TRANSPORT),
            "fabric_provider": peers.setting(layout["config"], config.FABRIC_PROVIDER),
            "host_per_container": config.flag(layout["config"], config.HOST_PER_CONTAINER),
        }
        stmgr = f"stmgr-{container}"
        children = {stmgr: _Child(None, ["heronpy.stmgr", str(container), json.dumps(stmgr_config)],
                                  rundir.log(stmgr), restart_argv=("--restarted",))}
        spouts = set(layout["spouts"])
        for task, (component, _, _) in mine.items():
            stmgr_inbox = rundir.stmgr_inbox(container, spouts=component in spouts)
            name = f"{component}-task-{task}"
            children[name] = _Child(
                task, ["heronpy.instance", rundir.package, str(task), rundir.task_inbox(task),
                       stmgr_inbox, rundir.outputs(task), self._checkpoints], rundir.log(name),
                start_argv=(restore,), restart_argv=("none",))
        return children

    def run(self) -> None:
        """Until the master's shutdown; raises ``MasterSilent`` when the master is gone."""
        self._send({"type": "register_executor", "container": self.container})
        heard = next_ping = monotonic()
        try:
            while True:
                if self._tmaster.poll(100):
                    heard = monotonic()
                    message = msgpack.unpackb(self._tmaster.recv())
                    if message["type"] == "shutdown":
                        return
                    if message["type"] == "rollback":
                        self._roll_back(message["checkpoint"])
                    elif message["type"] == "update":
                        self._update(message["checkpoint"])
                    elif message["type"] == "restart":
                        self._restart()
                now = monotonic()
                if now - heard > self._master_timeout:
                    raise MasterSilent(f"container {self.container}: no word from the topology "
                                       f"master for {now - heard:.0f} s; stopping")
                if now >= next_ping:
                    next_ping = now + _PING_SECS
                    self._send({"type": "ping", "container": self.container})
                for name, child in self._children.items():
                    self._watch(name, child, now)
        finally:
            self._stop_children()
            zeromq.context().destroy(linger=zeromq.LINGER_MS)

    def _watch(self, name: str, child: _Child, now: float) -> None:
        """Restarts a child that exited, after a back-off; reports it once it has used up
        ``heronpy.restart.max`` restarts."""
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.restart_at = None
                child.start(restarted=True)
            return
        code = child.process.poll() if child.process else None
        if code is None or child.given_up:
            return
        shm.remove_segments(child.process.pid)
        how = f"killed by signal {-code}" if code < 0 else f"exited with status {code}"
        what = f"{name} {how}; last lines of {child.log}:\n{log_tail(child.log)}"
        if self._stateful:
            child.given_up = True  # until the rollback restarts everything
            self._send({"type": "process_died", "task": child.task,
                        "container": self.container, "what": what})
        elif child.restarts < self._max_restarts:
            child.restart_at = now + min(_MAX_BACKOFF_SECS, _BACKOFF_SECS * 2 ** child.restarts)
            child.restarts += 1
            self._send({"type": "process_restarting", "task": child.task,
                        "container": self.container, "restarts": child.restarts, "what": what})
        else:
            child.given_up = True
            self._send({"type": "process_exit", "task": child.task,
                        "container": self.container, "what": what})

    def _roll_back(self, checkpoint: int | None) -> None:
        """Every process of the container starts again, its tasks from ``checkpoint``. A short
        grace lets the stream manager close its transport (shm leaves segments otherwise)."""
        self._stop_children(grace=_ROLLBACK_GRACE_SECS)
        restore = "none" if checkpoint is None else str(checkpoint)
        for child in self._children.values():
            if child.task is not None:
                child.start_argv = (restore,)
            child.given_up = False
            child.restart_at = None
            child.start()

    def _restart(self) -> None:
        """``heronpy restart``: every process of the container starts again, as after a
        crash."""
        self._stop_children(grace=_ROLLBACK_GRACE_SECS)
        for child in self._children.values():
            child.restart_at = None
            child.start(restarted=True)

    def _update(self, checkpoint: int) -> None:
        """The topology was rescaled: the container's processes start again under the new
        layout, their tasks from the savepoint ``checkpoint``."""
        self._stop_children(grace=_ROLLBACK_GRACE_SECS)
        self._children = self._plan_children(self.rundir.layout(), restore=str(checkpoint))
        for child in self._children.values():
            child.start()

    def _stop_children(self, grace: float = _TERM_GRACE_SECS) -> None:
        processes = [c.process for c in self._children.values() if c.process is not None]
        terminate(processes, grace)
        for process in processes:
            shm.remove_segments(process.pid)

    def _send(self, message: dict) -> None:
        self._tmaster.send(msgpack.packb(message))


def main(argv: list[str]) -> int:
    rundir, container, host = argv
    die_with_parent()
    setup_logging(f"executor[{container}]")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run the finally: stop children
    try:
        Executor(RunDir(rundir), int(container), host).run()
    except MasterSilent as err:
        logging.getLogger(__name__).error("%s", err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
