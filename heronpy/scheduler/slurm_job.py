"""``python -m heronpy.scheduler.slurm_job RUNDIR``: what a topology's Slurm batch script runs.

Each container runs as its own ``srun`` step (``slurm_container``), container ``i`` on the
``i``-th share of the job's nodes, and this process supervises the steps. A step that fails
(its executor killed) starts again inside the allocation, after a back-off, on its node while
Slurm says that node is up, else on the up node with the fewest containers; at most
``heronpy.restart.max`` times per container. A node Slurm marks DOWN does not end the job (it
runs with ``--no-kill``), but ``srun`` does not end the steps it had there either: this process
ends them, and their containers move. (Their executors, cut off from the master, have stopped
by themselves: ``heronpy.master.timeout.secs``.) Container 0 runs the topology master, whose
state a restart cannot bring back: the job ends with it, and the other steps are then stopped.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from time import monotonic

from heronpy import config
from heronpy._process import setup_logging, terminate
from heronpy.runtime.rundir import RunDir
from heronpy.scheduler.batch import container_command

log = logging.getLogger(__name__)
_POLL_SECS = 0.2
_BACKOFF_SECS = 1.0
_STOP_GRACE_SECS = 10.0
_NODE_CHECK_SECS = 2.0
_DOWN_STATES = ("down", "drain", "fail", "maint", "reboot", "power")


@dataclass
class Step:
    """One container's current ``srun`` step."""

    container: int
    node: str
    process: subprocess.Popen | None = None
    restarts: int = 0
    restart_at: float | None = None
    ended: bool = False  # with the topology


def placement(containers: int, nodes: list[str]) -> list[str]:
    """The node of each container: consecutive containers share a node (srun's block
    distribution)."""
    return [nodes[c * len(nodes) // containers] for c in range(containers)]


def srun_command(rundir: str, step: Step, python: str) -> list[str]:
    """One container as a one-task step on its node; ``--overlap``: steps never wait for
    each other's resources inside the job."""
    return ["srun", "--nodes=1", "--ntasks=1", f"--nodelist={step.node}", "--overlap",
            "--kill-on-bad-exit=1", "--open-mode=append",
            f"--output={rundir}/logs/executor-{step.container}.log",
            *container_command(python, rundir, step.container)]


def node_states(nodes: list[str]) -> dict[str, str]:
    """Slurm's state of each node (``sinfo``'s: ``mixed``, ``down*``, ...; ``*``: not
    responding); none when sinfo does not answer."""
    try:
        done = subprocess.run(["sinfo", "-h", "-N", "-n", ",".join(nodes), "-o", "%N %T"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return dict(line.split() for line in done.stdout.splitlines() if line.strip())


def is_down(state: str) -> bool:
    return state.startswith(_DOWN_STATES)


def is_up(state: str) -> bool:
    return not is_down(state) and not state.endswith("*")


def job_nodes() -> list[str]:
    """The job's nodes, in Slurm's order."""
    done = subprocess.run(["scontrol", "show", "hostnames", os.environ["SLURM_JOB_NODELIST"]],
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.split()


class Supervisor:
    def __init__(self, rundir: RunDir, nodes: list[str], python: str = sys.executable):
        layout = rundir.layout()
        self._rundir = rundir
        self._nodes = nodes
        self._python = python
        self._max_restarts = int(config.number(layout["config"], config.RESTART_MAX))
        self.steps = [Step(c, node)
                      for c, node in enumerate(placement(layout["containers"], nodes))]

    def run(self) -> int:
        """Until container 0's step ends: its exit status."""
        for step in self.steps:
            self._start(step)
        next_check = monotonic() + _NODE_CHECK_SECS
        try:
            while True:
                now = monotonic()
                if len(self._nodes) > 1 and now >= next_check:
                    next_check = now + _NODE_CHECK_SECS
                    self._end_steps_on_down_nodes()
                for step in self.steps:
                    code = self._watch(step, now)
                    if code is not None:
                        return code
                time.sleep(_POLL_SECS)
        finally:
            self._stop_all()

    def _watch(self, step: Step, now: float) -> int | None:
        """Restarts ``step`` when due; returns the job's exit status once it must end."""
        if step.restart_at is not None:
            if now >= step.restart_at:
                step.restart_at = None
                self._move_if_down(step)
                self._start(step)
            return None
        code = None if step.ended else step.process.poll()
        if code is None:
            return None
        if step.container == 0:
            return code
        if code == 0 and is_up(node_states([step.node]).get(step.node, "")):
            step.ended = True  # srun also ends with 0 when its node fails
            return None
        if step.restarts >= self._max_restarts:
            log.error("container %d failed (%d) %d times: the job ends", step.container, code,
                      step.restarts + 1)
            return code or 1
        step.restarts += 1
        step.restart_at = now + _BACKOFF_SECS * 2 ** (step.restarts - 1)
        log.warning("container %d on %s exited with %d: restarting it (%d/%d)", step.container,
                    step.node, code, step.restarts, self._max_restarts)
        return None

    def _end_steps_on_down_nodes(self) -> None:
        down = {node for node, state in node_states(self._nodes).items() if is_down(state)}
        for step in self.steps:
            if step.node in down and step.restart_at is None and not step.ended \
                    and step.process.poll() is None:
                log.warning("container %d: its node %s is down; ending its step",
                            step.container, step.node)
                step.process.kill()

    def _move_if_down(self, step: Step) -> None:
        up = {node for node, state in node_states(self._nodes).items() if is_up(state)}
        if step.node in up or not up:
            return
        load = {node: sum(s.node == node for s in self.steps if s is not step) for node in up}
        step.node = min(sorted(up), key=load.__getitem__)
        log.warning("container %d moves to %s: its node is down", step.container, step.node)

    def _start(self, step: Step) -> None:
        step.process = subprocess.Popen(srun_command(self._rundir.path, step, self._python),
                                        stdin=subprocess.DEVNULL)

    def _stop_all(self) -> None:
        """srun passes SIGTERM on to its step's tasks."""
        terminate((s.process for s in self.steps if s.process is not None), _STOP_GRACE_SECS)


def main(argv: list[str]) -> int:
    (rundir,) = argv
    setup_logging("slurm-job")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # scancel: stop the steps first
    return Supervisor(RunDir(rundir), job_nodes()).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
