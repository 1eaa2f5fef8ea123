"""The Slurm scheduler: the batch script (pure text, runs everywhere), and topologies run as
Slurm jobs on a real cluster (skipped, with the reason, when none answers here; CI starts a
single-node cluster with scripts/slurm-single-node.sh and sets HERONPY_REQUIRE_SLURM=1, which
turns the skip into a failure)."""

import ipaddress
import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from functools import cache
from pathlib import Path

import psutil
import pytest
import stateful_words
from helpers import (
    SLURM_TIMEOUT,
    WORD_COUNT_EXAMPLE,
    assert_nothing_left,
    heronpy_cli,
    run_processes,
    scontrol_state,
    start_endless,
    stop,
    submit,
    subprocess_env,
    wait_until,
)

import heronpy.local
from heronpy.api.api_constants import TopologyReliabilityMode
from heronpy.config import CAPTURE_OUTPUTS
from heronpy.runtime.loader import load_file
from heronpy.runtime.rundir import RunDir
from heronpy.scheduler import runs
from heronpy.scheduler.address import node_address
from heronpy.scheduler.base import Job, SchedulerError
from heronpy.scheduler.batch import CONTAINER_MODULE, JOB_MODULE, batch_script, job_name
from heronpy.scheduler.run import finish, run, start
from heronpy.scheduler.slurm import SlurmScheduler, job_state
from heronpy.scheduler.slurm_job import Step, placement, srun_command
from heronpy.topology.physical import PhysicalPlan

TIMEOUT = SLURM_TIMEOUT
EFFECTIVELY_ONCE = TopologyReliabilityMode.EFFECTIVELY_ONCE

FAILING_TOPOLOGY = '''
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.topology import TopologyBuilder


class Numbers(Spout):
    outputs = ["n"]

    def initialize(self, config, context):
        self.numbers = iter(range(1000))

    def next_tuple(self):
        self.emit([next(self.numbers)])


class Boom(Bolt):
    outputs = ["n"]

    def initialize(self, config, context):
        self.seen = 0

    def process(self, tup):
        self.seen += 1
        if self.seen == 50:
            raise ValueError("boom")


builder = TopologyBuilder("failing")
numbers = builder.add_spout("numbers", Numbers, par=1)
builder.add_bolt("work", Boom, par=2, inputs=[numbers])
builder.set_config({"topology.stmgrs": 2})
'''


# -- the batch script, and parsing what Slurm prints: no cluster needed ----------------------

def script(**changes) -> str:
    args = {"rundir": "/shared/runs/heronpy-abc", "topology": "word count", "containers": 3,
            "nodes": 3, "python": "/opt/venv/bin/python", "pythonpath": "/home/u/src:/opt/lib"}
    return batch_script(**{**args, **changes})


def sbatch_options(text: str) -> list[str]:
    return [line.removeprefix("#SBATCH ") for line in text.splitlines()
            if line.startswith("#SBATCH ")]


def test_the_batch_script_asks_for_a_task_per_container_and_runs_the_supervisor():
    text = script()
    assert text.startswith("#!/bin/bash\n")
    assert sbatch_options(text) == [
        "--job-name=heronpy-word_count", "--nodes=3", "--ntasks=3",
        "--output=/shared/runs/heronpy-abc/logs/slurm-%j.log", "--no-requeue", "--no-kill"]
    assert "export PYTHONPATH=/home/u/src:/opt/lib\n" in text
    assert text.splitlines()[-1] == (
        f"exec /opt/venv/bin/python -m {JOB_MODULE} /shared/runs/heronpy-abc")


def test_containers_share_nodes_in_blocks_and_each_is_one_srun_step_on_its_node():
    assert placement(4, ["n1", "n2"]) == ["n1", "n1", "n2", "n2"]
    assert placement(3, ["n1", "n2", "n3"]) == ["n1", "n2", "n3"]
    assert placement(3, ["n1"]) == ["n1"] * 3
    assert srun_command("/runs/r", Step(1, "n2"), "/opt/venv/bin/python") == [
        "srun", "--nodes=1", "--ntasks=1", "--nodelist=n2", "--overlap", "--kill-on-bad-exit=1",
        "--open-mode=append", "--output=/runs/r/logs/executor-1.log",
        "/opt/venv/bin/python", "-m", CONTAINER_MODULE, "/runs/r", "1"]


def test_the_batch_script_spreads_containers_over_fewer_nodes_and_takes_partition_and_time():
    options = sbatch_options(script(containers=4, nodes=2, partition="debug",
                                    time_limit="1:00:00"))
    assert "--nodes=2" in options
    assert "--ntasks=4" in options
    assert "--partition=debug" in options
    assert "--time=1:00:00" in options


def test_the_batch_script_quotes_paths_for_the_shell():
    text = script(rundir="/runs/my run", pythonpath="/a b:/c")
    assert "export PYTHONPATH='/a b:/c'\n" in text
    assert f"-m {JOB_MODULE} '/runs/my run'" in text
    if shutil.which("bash"):
        subprocess.run(["bash", "-n"], input=text, text=True, check=True)  # valid syntax


def test_job_names_are_safe_in_sbatch_lines():
    assert job_name("word_count") == "heronpy-word_count"
    assert job_name("a b;c$(x)") == "heronpy-a_b_c__x_"


def test_job_state_is_read_from_scontrol():
    line = ("JobId=7 JobName=heronpy-endless UserId=root(0) GroupId=root(0) Priority=1 "
            "JobState=CANCELLED Reason=None Dependency=(null) Requeue=0 Restarts=0")
    assert job_state(line) == "CANCELLED"
    with pytest.raises(SchedulerError, match="no JobState"):
        job_state("JobId=7 JobName=x")


def test_the_node_address_is_ipv4_and_follows_the_route_to_the_master():
    assert node_address(toward="127.0.0.1") == "127.0.0.1"
    address = ipaddress.ip_address(node_address())
    assert address.version == 4
    assert node_address(toward=str(address)) == str(address)


def test_sbatch_output_gives_the_job_id(tmp_path, monkeypatch, rundir_parent):
    """Against a stand-in sbatch on PATH: the script is written, the id parsed."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sbatch").write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\n'
                                 'echo "4242;cluster"\n')
    (fake / "sbatch").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    plan = PhysicalPlan.pack(load_file(str(WORD_COUNT_EXAMPLE)))
    rundir = RunDir.create(plan, rundir_parent)
    job = SlurmScheduler(nodes=1, sbatch_args=("--exclusive",)).submit(rundir)
    assert job == Job("slurm", "4242", "word_count", rundir.path)
    script_path = Path(rundir.path, "job.sh")
    assert (fake / "args").read_text().split() == ["--parsable", "--exclusive", str(script_path)]
    assert "#SBATCH --ntasks=2" in script_path.read_text()


def test_records_live_as_long_as_their_run_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    rundir = tmp_path / "heronpy-x"
    rundir.mkdir()
    job = Job("slurm", "12", "wc", str(rundir))
    runs.record(job)
    assert runs.known() == [job]
    rundir.rmdir()
    assert runs.known() == []
    assert os.listdir(runs.runs_dir()) == []
    runs.record(job)
    runs.forget(job)  # what `heronpy submit` does when it removed the run directory
    assert os.listdir(runs.runs_dir()) == []


def test_kill_of_an_unknown_topology_says_so(tmp_path):
    env = {**subprocess_env(), "HOME": str(tmp_path)}
    done = subprocess.run([*heronpy_cli(), "kill", "nothing"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert "0 topologies match 'nothing'" in done.stderr
    listed = subprocess.run([*heronpy_cli(), "list"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert listed.returncode == 0
    assert listed.stdout.split() == ["TOPOLOGY", "CLUSTER", "JOB", "STATE", "RUN", "DIRECTORY"]


# -- on a real cluster ----------------------------------------------------------------------

@cache
def why_no_cluster() -> str | None:
    if shutil.which("sbatch") is None:
        return "sbatch is not on PATH (no Slurm here)"
    try:
        done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"sinfo does not answer: {err}"
    if done.returncode != 0 or not done.stdout.strip():
        last_words = (done.stderr.strip().splitlines() or ["no nodes"])[-1]
        return f"no Slurm cluster answers sinfo ({last_words})"
    return None


@pytest.fixture
def cluster(monkeypatch, rundir_parent):
    """A Slurm cluster to submit to; ``heronpy``'s runs directory in this test's directory."""
    reason = why_no_cluster()
    if reason is not None:
        if os.environ.get("HERONPY_REQUIRE_SLURM"):
            pytest.fail(reason)
        pytest.skip(reason)
    monkeypatch.setenv("HOME", rundir_parent)


def test_word_count_on_slurm_gives_what_it_gives_locally(cluster, process_guard, rundir_parent):
    on_slurm = submit("slurm", str(WORD_COUNT_EXAMPLE), "--containers", "2")
    assert on_slurm.returncode == 0, on_slurm.stderr
    job_id = re.search(r"running topology 'word_count' in 2 container\(s\) as Slurm job (\d+)",
                       on_slurm.stderr).group(1)
    here = submit("local", str(WORD_COUNT_EXAMPLE), "--containers", "2", cluster_args=())
    assert here.returncode == 0, here.stderr
    assert on_slurm.stdout == here.stdout  # counters and outputs, printed the same way
    assert "count: executed 160000, emitted 16" in on_slurm.stdout
    assert scontrol_state(job_id) in ("COMPLETED", "GONE")
    assert runs.known() == []  # the run directories were removed, and their records
    process_guard.assert_clean()


def test_every_count_of_a_slurm_run_equals_the_local_one(cluster, process_guard, rundir_parent):
    plan = heronpy.local.with_config(load_file(str(WORD_COUNT_EXAMPLE)),
                                     {CAPTURE_OUTPUTS: True, "sentences": 5000})
    jobs = []
    on_slurm = run(SlurmScheduler(nodes=1), plan, TIMEOUT, rundir_parent, on_submit=jobs.append)
    here = heronpy.local.run(plan, timeout=TIMEOUT)
    counts = Counter(dict(on_slurm.outputs("count")))
    assert counts == Counter(dict(here.outputs("count")))
    assert sum(counts.values()) == 5000 * 8
    assert on_slurm.outputs("count") == here.outputs("count")  # same tasks, same order
    def counters(result):
        return {name: (m["emitted"], m["executed"]) for name, m in result.metrics.items()}
    assert counters(on_slurm) == counters(here)
    assert scontrol_state(jobs[0].id) in ("COMPLETED", "GONE")
    assert_nothing_left(process_guard, jobs[0].rundir)


def test_kill_ends_an_unbounded_slurm_topology(cluster, process_guard, rundir_parent):
    watcher, job = start_endless()
    try:
        listed = subprocess.run([*heronpy_cli(), "list"], env=subprocess_env(),
                                capture_output=True, text=True, timeout=60)
        assert re.search(rf"^endless +slurm +{job.id} +RUNNING +{job.rundir}$", listed.stdout,
                         re.MULTILINE), listed.stdout
        started = time.monotonic()
        kill = subprocess.run([*heronpy_cli(), "kill", "endless"], env=subprocess_env(),
                              capture_output=True, text=True, timeout=TIMEOUT)
        assert kill.returncode == 0, kill.stderr
        assert f"killed topology 'endless' (slurm job {job.id})" in kill.stderr
        assert time.monotonic() - started < 15
        assert scontrol_state(job.id) in ("CANCELLED", "COMPLETED", "GONE")
        _, err = watcher.communicate(timeout=30)
    finally:
        stop(watcher)
    assert watcher.returncode == 1
    assert f"slurm job {job.id} ended before the topology finished" in err
    assert "Traceback" not in err
    assert_nothing_left(process_guard, job.rundir)


def test_terminating_the_command_ends_its_slurm_job(cluster, process_guard, rundir_parent):
    watcher, job = start_endless()
    try:
        watcher.terminate()  # as when its terminal closes: the job must not outlive it
        _, err = watcher.communicate(timeout=30)
    finally:
        stop(watcher)
    assert watcher.returncode == 130
    assert "heronpy: stopped" in err
    assert scontrol_state(job.id) in ("CANCELLED", "COMPLETED", "GONE")
    assert_nothing_left(process_guard, job.rundir)


def test_a_dead_master_ends_the_slurm_job_and_the_command_says_so(
        cluster, process_guard, rundir_parent):
    watcher, job = start_endless()
    try:
        master = json.loads(Path(job.rundir, "tmaster.json").read_text())["pid"]
        psutil.Process(master).kill()
        _, err = watcher.communicate(timeout=30)
    finally:
        stop(watcher)
    assert watcher.returncode == 1
    assert f"slurm job {job.id} ended before the topology finished: FAILED" in err
    assert_nothing_left(process_guard, job.rundir)


def test_a_killed_container_restarts_inside_the_job_and_counts_stay_exact(
        cluster, process_guard, rundir_parent):
    """kill -9 of container 1's executor (its processes die with it): the job's supervisor
    starts the container again in a new step; under EFFECTIVELY_ONCE the master rolls the
    topology back when it registers, and every count is exact."""
    plan = heronpy.local.with_config(
        stateful_words.topology(EFFECTIVELY_ONCE).build(), {CAPTURE_OUTPUTS: True})
    running, job, physical = start(SlurmScheduler(nodes=1), plan, rundir_parent)
    with running:
        wait_until(lambda: stateful_words.counted(running) > 2000, TIMEOUT, "words counted")
        executor(job.rundir, 1).kill()
        result = finish(running, physical, TIMEOUT)
    counts = {word: count for word, count, *_ in result.outputs("count")}
    assert counts == stateful_words.EXPECTED
    job_log = next(Path(job.rundir, "logs").glob("slurm-*.log")).read_text()
    assert "container 1 on localhost exited with" in job_log
    assert "restarting it (1/5)" in job_log
    assert "container 1 restarted" in Path(job.rundir, "logs", "tmaster.log").read_text()
    assert_nothing_left(process_guard, job.rundir)


def executor(rundir: str, container: int) -> psutil.Process:
    return next(p for p in run_processes(rundir) if p.cmdline()[-4:-2] == [
        "heronpy.runtime.executor", rundir] and p.cmdline()[-2] == str(container))


def test_a_failing_bolt_on_slurm_is_reported_with_its_task_and_traceback(
        cluster, process_guard, rundir_parent):
    path = Path(rundir_parent, "failing.py")
    path.write_text(FAILING_TOPOLOGY)
    done = submit("slurm", str(path))
    assert done.returncode == 1
    work_tasks = PhysicalPlan.pack(load_file(str(path))).component_tasks["work"]
    failed = re.search(r"heronpy: 'work' task (\d+) failed:", done.stderr)
    assert failed, done.stderr
    assert int(failed.group(1)) in work_tasks
    assert "Traceback (most recent call last)" in done.stderr
    assert 'raise ValueError("boom")' in done.stderr
    assert "ValueError: boom" in done.stderr
    job = json.loads(next(Path(runs.runs_dir()).glob("slurm-*.json")).read_text())
    assert scontrol_state(job["id"]) in ("COMPLETED", "CANCELLED", "GONE")
    assert Path(job["rundir"], "logs", "tmaster.log").exists()  # kept for its logs
    assert_nothing_left(process_guard, job["rundir"])
