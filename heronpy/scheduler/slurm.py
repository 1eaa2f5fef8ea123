"""The Slurm scheduler: a topology is one batch job (``sbatch``), its containers one ``srun``
step; its state comes from ``scontrol show job`` and ``scancel`` ends it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from heronpy.runtime.launcher import child_environment
from heronpy.runtime.rundir import RunDir
from heronpy.scheduler.base import Job, JobStatus, Scheduler, SchedulerError
from heronpy.scheduler.batch import batch_script

ACTIVE_STATES = frozenset({"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED",
                           "RESIZING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SIGNALING",
                           "STAGE_OUT", "STOPPED"})
"""Job states in which the job's processes may still run (Slurm's ``JOB_STATE_CODES``)."""
_COMMAND_TIMEOUT_SECS = 60.0
_END_GRACE_SECS = 5.0
_KILL_TIMEOUT_SECS = 120.0  # Slurm's KillWait is 30 s by default


class SlurmScheduler(Scheduler):
    name = "slurm"

    def __init__(self, nodes: int | None = None, partition: str | None = None,
                 time_limit: str | None = None, sbatch_args: tuple[str, ...] = ()):
        self.nodes = nodes
        """Nodes to spread the containers over; default: one per container."""
        self.partition = partition
        self.time_limit = time_limit
        self.sbatch_args = tuple(sbatch_args)
        """Passed to ``sbatch`` as they are; they override the script's own options."""

    def submit(self, rundir: RunDir) -> Job:
        layout = rundir.layout()
        script = os.path.join(rundir.path, "job.sh")
        with open(script, "w") as f:
            f.write(batch_script(rundir.path, layout["name"], layout["containers"],
                                 self.nodes or layout["containers"], python=sys.executable,
                                 pythonpath=child_environment()["PYTHONPATH"],
                                 partition=self.partition, time_limit=self.time_limit))
        out = _slurm("sbatch", "--parsable", *self.sbatch_args, script)
        job_id = out.strip().split(";")[0]  # "ID" or "ID;CLUSTER"
        if not job_id.isdigit():
            raise SchedulerError(f"sbatch printed no job id: {out!r}")
        return Job(self.name, job_id, layout["name"], rundir.path)

    def status(self, job: Job) -> JobStatus:
        try:
            state = job_state(_slurm("scontrol", "--oneliner", "show", "job", job.id))
        except SchedulerError as err:
            if "Invalid job id" in str(err):  # ended longer ago than MinJobAge
                return JobStatus("GONE", False)
            return JobStatus("UNKNOWN", True)  # the controller did not answer: keep watching
        return JobStatus(state, state in ACTIVE_STATES)

    def kill(self, job: Job) -> None:
        """Gives a running job a few seconds to end by itself (its master has asked its
        processes to stop), then ``scancel``s it; returns once its processes are gone."""
        if self.wait_until_ended(job, _END_GRACE_SECS, "PENDING"):
            return
        try:
            _slurm("scancel", job.id)
        except SchedulerError:
            if self.status(job).active:
                raise
        if not self.wait_until_ended(job, _KILL_TIMEOUT_SECS):
            raise SchedulerError(f"Slurm job {job.id} is still {self.status(job).state} "
                                 f"{_KILL_TIMEOUT_SECS:.0f}s after scancel")


def job_state(scontrol_output: str) -> str:
    """The ``JobState`` in the output of ``scontrol show job``."""
    found = re.search(r"\bJobState=(\S+)", scontrol_output)
    if found is None:
        raise SchedulerError(f"no JobState in scontrol's output: {scontrol_output!r}")
    return found.group(1)


def _slurm(*argv: str) -> str:
    """Runs a Slurm command; its output, or ``SchedulerError`` with its message."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True,
                              timeout=_COMMAND_TIMEOUT_SECS)
    except FileNotFoundError:
        raise SchedulerError(f"{argv[0]} not found: is Slurm installed and on PATH?") from None
    except subprocess.TimeoutExpired:
        raise SchedulerError(f"{argv[0]} did not answer in {_COMMAND_TIMEOUT_SECS:.0f}s") from None
    if done.returncode != 0:
        raise SchedulerError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.stdout}")
    return done.stdout
