"""Runs a topology on a scheduler until it ends, and collects what it produced."""

from __future__ import annotations

import shutil
from collections.abc import Callable

from heronpy.runtime.launcher import RunningTopology, RunResult
from heronpy.runtime.rundir import RunDir
from heronpy.scheduler.base import Job, JobProcesses, Scheduler
from heronpy.topology.logical import LogicalPlan
from heronpy.topology.physical import PhysicalPlan


def run(scheduler: Scheduler, plan: LogicalPlan, timeout: float | None,
        rundir_parent: str | None = None,
        on_submit: Callable[[Job], None] | None = None) -> RunResult:
    """Packs ``plan``, writes its run directory under ``rundir_parent`` (default: the system's
    temporary directory), submits it and watches it until every task has ended.

    The topology is stopped in every case. Raises ``TopologyFailed`` when a task fails or the
    job ends early, ``TimeoutError`` after ``timeout`` seconds; the run directory is then kept
    for its logs, and removed after a run that finished.
    """
    physical = PhysicalPlan.pack(plan)
    rundir = RunDir.create(physical, rundir_parent)
    try:
        job = scheduler.submit(rundir)
    except BaseException:
        shutil.rmtree(rundir.path, ignore_errors=True)
        raise
    with RunningTopology(rundir, JobProcesses(scheduler, job)) as running:
        if on_submit is not None:
            on_submit(job)
        task_metrics = running.wait(timeout)
        outputs = running.read_outputs()
    shutil.rmtree(rundir.path, ignore_errors=True)
    return RunResult.collect(physical, outputs, task_metrics)
