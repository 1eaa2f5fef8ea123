"""Helpers shared by the test modules: process inspection, polling, the CLI, small components."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil
import pytest

import heronpy
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.scheduler import runs
from heronpy.scheduler.base import Job
from heronpy.scheduler.slurm import job_state

REPO = Path(__file__).resolve().parents[1]
TOPOLOGIES = Path(__file__).resolve().parent / "topologies"
WORD_COUNT_EXAMPLE = REPO / "examples" / "word_count.py"

HERONPY_MODULES = ("heronpy.instance", "heronpy.stmgr", "heronpy.runtime", "heronpy.scheduler")
MARK_ENV = "HERONPY_TEST_MARK"
"""Set to a fresh value for every test; every process a test starts inherits it, which tells
this test's processes apart from any other heronpy run on the machine."""


def heronpy_cli() -> list[str]:
    """The ``heronpy`` console script of this environment (``python -m heronpy`` if absent)."""
    script = Path(sys.executable).with_name("heronpy")
    return [str(script)] if script.exists() else [sys.executable, "-m", "heronpy"]


def subprocess_env() -> dict[str, str]:
    """The environment for a subprocess: it imports the same heronpy as this process."""
    env = dict(os.environ)
    source = str(Path(heronpy.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
    return env


def wait_until(predicate: Callable[[], object], timeout: float, what: str,
               interval: float = 0.02):
    """Polls ``predicate`` until it returns something truthy (returned); fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def is_heronpy_process(proc: psutil.Process) -> bool:
    try:
        cmdline = " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return any(module in cmdline for module in HERONPY_MODULES)


def heronpy_processes(since: float, mark: str | None = None) -> list[psutil.Process]:
    """Live heronpy processes started at or after ``since`` (epoch seconds); with ``mark``, only
    those whose environment carries this test's mark."""
    found = []
    for proc in psutil.process_iter(["create_time"]):
        try:
            if proc.info["create_time"] is None or proc.info["create_time"] < since:
                continue
            if proc.status() == psutil.STATUS_ZOMBIE or not is_heronpy_process(proc):
                continue
            if mark is not None and proc.environ().get(MARK_ENV) != mark:
                continue
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        found.append(proc)
    return found


def live_children() -> list[psutil.Process]:
    """This process's descendants that are still running (not yet-unreaped zombies)."""
    alive = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                alive.append(child)
        except psutil.NoSuchProcess:
            continue
    return alive


def child_running(text: str) -> tuple[psutil.Process, list[str]] | None:
    """A descendant of this process whose command line contains ``text``, with that command
    line; None if there is none (yet)."""
    for proc in psutil.Process().children(recursive=True):
        try:
            cmdline = proc.cmdline()
        except psutil.Error:
            continue
        if text in " ".join(cmdline):
            return proc, cmdline
    return None


def describe(procs: list[psutil.Process]) -> str:
    lines = []
    for proc in procs:
        try:
            lines.append(f"{proc.pid}: {' '.join(proc.cmdline())}")
        except psutil.Error:
            lines.append(f"{proc.pid}: (gone)")
    return "\n".join(lines)


class ProcessGuard:
    """Knows when a test began and its mark; asserts that the test left no process behind."""

    def __init__(self, mark: str):
        self.mark = mark
        # psutil derives create_time from clock ticks since boot: allow for its rounding
        self.since = time.time() - 1.0

    def assert_clean(self) -> None:
        children = live_children()
        assert not children, f"child processes remain:\n{describe(children)}"
        remaining = heronpy_processes(self.since, self.mark)
        assert not remaining, f"heronpy processes remain:\n{describe(remaining)}"


# -- Slurm: tests/test_slurm.py (one node) and tests/test_slurm_multinode.py -----------------
# ``via``: the command prefix that runs a Slurm client where the controller is reachable
# (``nsenter --net=...`` on the multi-node cluster; nothing on the single-node one).

SLURM_TIMEOUT = 120.0


def submit(*args: str, cluster_args: Sequence[str] = ("--nodes", "1"),
           via: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """``heronpy submit``: by default on one node, whatever the cluster has."""
    return subprocess.run([*via, *heronpy_cli(), "submit", *args, *cluster_args],
                          env=subprocess_env(), capture_output=True, text=True,
                          timeout=SLURM_TIMEOUT, cwd=REPO)


def scontrol_state(job_id: str, via: Sequence[str] = ()) -> str:
    done = subprocess.run([*via, "scontrol", "--oneliner", "show", "job", job_id],
                          capture_output=True, text=True, timeout=30)
    return job_state(done.stdout) if done.returncode == 0 else "GONE"


def run_processes(rundir: str) -> list[psutil.Process]:
    """The live processes of a run, whoever started them (Slurm's are not our children)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if rundir in " ".join(proc.cmdline()) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def assert_nothing_left(process_guard: ProcessGuard, rundir: str) -> None:
    """No process of the run is left, nor any of the test's."""
    left = run_processes(rundir)
    assert not left, describe(left)
    process_guard.assert_clean()


def start_endless(via: Sequence[str] = (),
                  cluster_args: Sequence[str] = ("--nodes", "1")) -> tuple[subprocess.Popen, Job]:
    """``heronpy submit slurm`` of an unbounded topology, once both its containers run."""
    return start_on_slurm(TOPOLOGIES / "endless.py", via=via, cluster_args=cluster_args)


def start_on_slurm(topology: Path, *args: str, via: Sequence[str] = (),
                   cluster_args: Sequence[str] = ("--nodes", "1")) -> tuple[subprocess.Popen, Job]:
    """``heronpy submit slurm`` of a two-container topology, once both containers run."""
    watcher = subprocess.Popen(
        [*via, *heronpy_cli(), "submit", "slurm", str(topology), *args, *cluster_args],
        env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        job = wait_until(lambda: runs.known() and runs.known()[0], SLURM_TIMEOUT,
                         "the job's record")
        logs = Path(job.rundir, "logs")
        wait_until(lambda: sum("running" in p.read_text() for p in logs.glob("stmgr-*.log")) == 2,
                   SLURM_TIMEOUT, "both containers to run")
    except BaseException:
        stop(watcher)
        raise
    return watcher, job


def spout_rate(status: str) -> int:
    """The TUPLES/S column of the ``numbers`` spout's row of ``heronpy status`` (endless.py)."""
    row = next(line.split() for line in status.splitlines() if line.startswith("numbers"))
    return int(row[5].replace(",", ""))


def stop(watcher: subprocess.Popen) -> None:
    """Ends the submitting command if a test failed before it ended (its job ends with it)."""
    if watcher.poll() is None:
        watcher.terminate()
        watcher.communicate(timeout=SLURM_TIMEOUT)


# -- components used by several test modules (module level: shipped to tasks by reference) ---

class NumberSpout(Spout):
    """Emits 0..count-1 (config ``numbers``), split among its tasks by task index."""

    outputs = ["n"]

    def initialize(self, config, context):
        tasks = context.get_component_tasks(context.get_component_id())
        index = tasks.index(context.get_task_id())
        self.numbers = iter(range(index, int(config.get("numbers", 1000)), len(tasks)))

    def next_tuple(self):
        self.emit([next(self.numbers)])  # StopIteration ends the spout


class RecordBolt(Bolt):
    """Emits (receiving task, source task, stream, n) for every tuple it receives."""

    outputs = ["task", "source", "stream", "n"]

    def initialize(self, config, context):
        self.task_id = context.get_task_id()

    def process(self, tup):
        self.emit([self.task_id, tup.task, tup.stream, tup.values[0]])


class EndlessSpout(Spout):
    """Never ends: one tuple per call, for as long as the topology runs."""

    outputs = ["n"]

    def initialize(self, config, context):
        self.n = 0

    def next_tuple(self):
        self.n += 1
        self.emit([self.n])


def rdm_providers() -> set[str]:
    """The libfabric providers with reliable-datagram endpoints here (what the fabric
    transport uses); raises ``FabricUnavailable`` when that transport cannot load."""
    from heronpy.transport.fabric import providers

    return {p["provider"] for p in providers() if p["endpoint"] == "rdm"}


def provider_params(rdm: set[str]) -> list:
    """shm and tcp;ofi_rxm as test parameters, each skipped where this machine lacks it (not
    "sockets": its progress threads are slow on 2 cores)."""
    return [pytest.param(name, marks=pytest.mark.skipif(name not in rdm,
                                                        reason=f"no {name} provider here"))
            for name in ("shm", "tcp;ofi_rxm")]
