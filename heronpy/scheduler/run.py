"""Runs a topology on a scheduler until it ends, and collects what it produced."""

from __future__ import annotations

import shutil
from collections.abc import Callable

from heronpy.runtime.launcher import RunningTopology, RunResult
from heronpy.runtime.rundir import RunDir
from heronpy.scheduler.base import Job, JobProcesses, Scheduler
from heronpy.topology.logical import LogicalPlan
from heronpy.topology.physical import PhysicalPlan


def start(scheduler: Scheduler, plan: LogicalPlan,
          rundir_parent: str | None = None) -> tuple[RunningTopology, Job, PhysicalPlan]:
    """Packs ``plan``, writes its run directory under ``rundir_parent`` (default: the system's
    temporary directory) and submits it; the caller owns the running topology (a context
    manager that stops it)."""
    physical = PhysicalPlan.pack(plan)
    rundir = RunDir.create(physical, rundir_parent)
    try:
        job = scheduler.submit(rundir)
    except BaseException:
        shutil.rmtree(rundir.path, ignore_errors=True)
        raise
    return RunningTopology(rundir, JobProcesses(scheduler, job)), job, physical


def run(scheduler: Scheduler, plan: LogicalPlan, timeout: float | None,
        rundir_parent: str | None = None,
        on_submit: Callable[[Job], None] | None = None) -> RunResult:
    """Starts ``plan`` and watches it until every task has ended.

    The topology is stopped in every case. Raises ``TopologyFailed`` when a task fails or the
    job ends early, ``TimeoutError`` after ``timeout`` seconds; the run directory is then kept
    for its logs, and removed after a run that finished.
    """
    running, job, physical = start(scheduler, plan, rundir_parent)
    with running:
        if on_submit is not None:
            on_submit(job)
        result = finish(running, physical, timeout)
    shutil.rmtree(running.rundir.path, ignore_errors=True)
    return result


def finish(running: RunningTopology, physical: PhysicalPlan, timeout: float | None) -> RunResult:
    """Waits until every task of ``running`` has ended; returns what it produced."""
    task_metrics = running.wait(timeout)
    return RunResult.collect(physical, running.read_outputs(), task_metrics)
