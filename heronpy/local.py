"""Run a topology on this machine and get back what it produced.

>>> result = heronpy.local.run("examples/word_count.py", timeout=60)   # doctest: +SKIP
>>> result.outputs("count")[:3]                                         # doctest: +SKIP
"""

from __future__ import annotations

import shutil
from dataclasses import replace

from heronpy.config import CAPTURE_OUTPUTS
from heronpy.runtime.errors import TopologyFailed
from heronpy.runtime.launcher import RunResult
from heronpy.runtime.loader import to_plan
from heronpy.scheduler.local import LocalScheduler
from heronpy.scheduler.run import finish
from heronpy.scheduler.run import run as run_on
from heronpy.scheduler.run import start as start_on
from heronpy.topology.logical import LogicalPlan

__all__ = ["LocalRun", "RunResult", "TopologyFailed", "run", "start"]


def run(topology, config: dict | None = None, timeout: float | None = 60.0) -> RunResult:
    """Runs ``topology`` in real processes until every spout has ended and every tuple has
    been processed. ``config`` overrides the topology's config (e.g. ``topology.stmgrs``).

    Raises ``InvalidTopologyError`` before starting anything when the topology is invalid,
    ``TopologyFailed`` (with the task id and traceback) when a task fails, and
    ``TimeoutError`` after ``timeout`` seconds; the topology is stopped in every case.
    """
    plan = with_config(to_plan(topology), {CAPTURE_OUTPUTS: True, **(config or {})})
    return run_on(LocalScheduler(), plan, timeout)


class LocalRun:
    """A topology running in the background: ``deactivate()``, ``activate()``, ``status()``,
    ``restart(container)``, ``update(parallelism)``, then ``result(timeout)`` once it ends;
    use as a context manager, which stops it."""

    def __init__(self, topology, config: dict | None = None):
        plan = with_config(to_plan(topology), {CAPTURE_OUTPUTS: True, **(config or {})})
        self._running, _, self._physical = start_on(LocalScheduler(), plan)
        self.deactivate = self._running.deactivate
        self.activate = self._running.activate
        self.status = self._running.status
        self.restart = self._running.restart
        self._finished = False

    def update(self, parallelism: dict[str, int], timeout: float = 120.0) -> None:
        """Rescales the running topology (``RunningTopology.update``), e.g.
        ``update({"count": 4})``."""
        self._physical = self._running.update(parallelism, timeout)

    def result(self, timeout: float | None = 60.0) -> RunResult:
        """Waits for the topology to end (as ``run`` does) and returns what it produced."""
        result = finish(self._running, self._physical, timeout)
        self._finished = True
        return result

    def stop(self) -> None:
        """Stops the topology; its run directory is kept for its logs unless it finished."""
        self._running.stop()
        if self._finished:
            shutil.rmtree(self._running.rundir.path, ignore_errors=True)

    def __enter__(self) -> LocalRun:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start(topology, config: dict | None = None) -> LocalRun:
    """Starts ``topology`` like ``run``, without waiting for it to end."""
    return LocalRun(topology, config)


def with_config(plan: LogicalPlan, overrides: dict) -> LogicalPlan:
    """The plan with topology config ``overrides`` (validated like the topology's own)."""
    updated = replace(plan, config={**plan.config, **overrides})
    updated.num_containers  # noqa: B018 - validates topology.stmgrs
    return updated
