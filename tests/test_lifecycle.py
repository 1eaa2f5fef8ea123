"""Lifecycle of a running topology: deactivate stops the spouts' emission within a second,
activate resumes it; status reports containers, tasks and their counts; the same from the
command line."""

import contextlib
import subprocess
import time

import psutil
import pytest
import stateful_words
from helpers import TOPOLOGIES, heronpy_cli, spout_rate, subprocess_env, wait_until

import heronpy.local
from heronpy.api import api_constants
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder

TUPLES = 6000


class PacedSpout(Spout):
    """TUPLES tuples stamped with their emit time, ~3000 a second; records its hooks."""

    outputs = ["seq", "at", Stream(["hook", "at"], name="hooks")]

    def initialize(self, config, context):
        self.seq = 0

    def next_tuple(self):
        if self.seq == TUPLES:
            raise StopIteration
        time.sleep(0.0003)  # pacing, so that the run lasts a few seconds
        self.emit([self.seq, time.time()])
        self.seq += 1

    def activate(self):
        self.emit(["activate", time.time()], stream="hooks")

    def deactivate(self):
        self.emit(["deactivate", time.time()], stream="hooks")


class Sink(Bolt):
    outputs = ["seq", "at"]

    def process(self, tup):
        self.emit(tup.values)


def topology():
    builder = TopologyBuilder("lifecycle")
    spout = builder.add_spout("spout", PacedSpout, par=2)
    builder.add_bolt("sink", Sink, par=2, inputs={spout: Grouping.SHUFFLE})
    builder.set_config({"topology.stmgrs": 2})
    return builder


def emitted(run) -> int:
    return sum(t.get("emitted", 0) for t in run.status()["tasks"].values()
               if t["component"] == "spout")


def test_deactivate_stops_emission_and_activate_resumes_it():
    with heronpy.local.start(topology()) as run:
        wait_until(lambda: emitted(run) > 500, 30, "the spouts to emit")
        status = wait_until(lambda: (s := run.status()) and all(
            t.get("execute_latency", {}).get("counts") for t in s["tasks"].values()
            if t["component"] == "sink") and s, 30, "the sinks to report execute latencies")
        assert status["active"] and status["registered"] == [0, 1] and status["lost"] == []
        assert {t["container"] for t in status["tasks"].values()} == {0, 1}
        run.deactivate()
        deactivated = time.time()
        time.sleep(1.5)  # the window in which nothing may be emitted
        assert not run.status()["active"]
        run.activate()
        activated = time.time()
        result = run.result(timeout=60)
    times = sorted(at for _, at in result.outputs("sink"))
    assert len(times) == 2 * TUPLES  # nothing lost
    hooks = sorted(result.outputs("spout", "hooks"), key=lambda h: h[1])
    assert [h for h, _ in hooks] == ["deactivate"] * 2 + ["activate"] * 2
    paused_from, resumed_at = hooks[1][1], hooks[2][1]  # both spouts paused in between
    assert [at for at in times if paused_from < at < resumed_at] == []
    assert all(deactivated - 1 < at < deactivated + 1 for h, at in hooks if h == "deactivate")
    assert all(at < activated + 1 for h, at in hooks if h == "activate")
    assert any(at < deactivated for at in times) and any(at > activated for at in times)


def test_restart_of_one_container_starts_its_processes_again_and_the_topology_goes_on():
    with heronpy.local.start(topology()) as run:
        wait_until(lambda: emitted(run) > 500, 30, "the spouts to emit")
        before = {c: proc.pid for c, proc in stream_managers().items()}
        run.restart(1)
        after = wait_until(lambda: (now := stream_managers()) and now.get(1) and now[1].pid
                           != before[1] and now, 30, "container 1's stream manager to restart")
        assert after[0].pid == before[0]  # container 0 goes on
        assert "--restarted" in after[1].cmdline()
        wait_until(lambda: run.status()["registered"] == [0, 1], 30, "both containers to run")
        result = run.result(timeout=60)
    # the restarted spout starts over (no state outside EFFECTIVELY_ONCE), the other goes on
    assert {seq for seq, _ in result.outputs("sink")} == set(range(TUPLES))


def test_a_restart_under_effectively_once_rolls_back_and_every_count_is_exact():
    mode = api_constants.TopologyReliabilityMode.EFFECTIVELY_ONCE
    with heronpy.local.start(stateful_words.topology(mode)) as run:
        wait_until(lambda: stateful_words.counted(run) > 2000, 30, "words to be counted")
        run.restart(1)
        result = run.result(timeout=90)
    assert {w: c for w, c, *_ in result.outputs("count")} == stateful_words.EXPECTED


def stream_managers() -> dict[int, psutil.Process]:
    """This test's stream manager processes, by container."""
    found = {}
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            cmdline = proc.cmdline()
            if "heronpy.stmgr" in cmdline:
                found[int(cmdline[cmdline.index("heronpy.stmgr") + 1])] = proc
    return found


def cli_run(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([*heronpy_cli(), *args], env=env, capture_output=True, text=True,
                          timeout=60)


def detached_processes() -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if "heronpy.scheduler.detached" in " ".join(proc.cmdline()):
                found.append(proc)
    return found


@pytest.mark.slow  # ~40 s: a CLI round trip per command
def test_a_detached_topology_is_managed_from_the_cli(rundir_parent):
    """status, deactivate, activate, update, restart and kill of a `--detach` run."""
    # a home of its own (for `heronpy list`), short enough for the run's ipc socket paths
    env = {**subprocess_env(), "HOME": rundir_parent}
    try:
        submitted = cli_run("submit", "local", str(TOPOLOGIES / "endless.py"), "--detach",
                            env=env)
        assert submitted.returncode == 0, submitted.stderr
        assert "runs in the background" in submitted.stderr
        listed = cli_run("list", env=env).stdout
        assert "endless" in listed and "RUNNING" in listed
        status = wait_until(lambda: (out := cli_run("status", "endless", env=env)).returncode
                            == 0 and "2/2 containers running" in out.stdout and out, 30,
                            "both containers to run")
        assert "'endless' (local job" in status.stdout and "active," in status.stdout
        drop = next(line.split() for line in status.stdout.splitlines()
                    if line.startswith("drop"))
        assert float(drop[6].replace(",", "")) > 0  # the bolts' execute latency, p50 µs
        assert spout_rate(status.stdout) > 0  # emitting
        assert cli_run("deactivate", "endless", env=env).returncode == 0
        wait_until(lambda: spout_rate(cli_run("status", "endless", env=env).stdout) == 0, 20,
                   "the deactivated spout's throughput to show 0")  # counts lag up to 1 s
        assert "deactivated" in cli_run("status", "endless", env=env).stdout.splitlines()[0]
        assert cli_run("activate", "endless", env=env).returncode == 0
        assert "active," in cli_run("status", "endless", env=env).stdout
        updated = cli_run("update", "endless", "--component-parallelism", "drop:3", env=env)
        assert updated.returncode == 0, updated.stderr
        assert "updated topology 'endless': drop x3" in updated.stderr
        drop = next(line.split() for line in cli_run("status", "endless", env=env).stdout
                    .splitlines() if line.startswith("drop"))
        assert drop[1] == "3"  # tasks
        refused = cli_run("update", "endless", "--component-parallelism", "dropp:3", env=env)
        assert refused.returncode == 2 and "no component 'dropp'" in refused.stderr
        restarted = cli_run("restart", "endless", "--container", "1", env=env)
        assert restarted.returncode == 0, restarted.stderr
        assert "restarting container 1 of topology 'endless'" in restarted.stderr
        refused = cli_run("restart", "endless", "--container", "2", env=env)
        assert refused.returncode == 1 and "containers 0 to 1, not 2" in refused.stderr
    finally:
        killed = cli_run("kill", "endless", env=env)
    assert killed.returncode == 0, killed.stderr
    assert cli_run("status", "endless", env=env).returncode == 1  # gone
    wait_until(lambda: not detached_processes(), 10, "the background process to end")
