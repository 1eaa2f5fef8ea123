"""The Mesos scheduler, against a test double of a Mesos master (tests/mesos_double.py: a real
HTTP server speaking the documented v1 scheduler protocol). No real Mesos master was available:
these tests show the framework keeps the protocol as documented, not that it has met Mesos.

The protocol tests run the framework's driver in a thread against the double; the end-to-end
tests run ``heronpy submit mesos`` with a double that really launches each task's command
on this machine, as an agent would.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from helpers import REPO, TOPOLOGIES, WORD_COUNT_EXAMPLE, describe, heronpy_cli, subprocess_env
from helpers import wait_until as poll_until
from mesos_double import TIMEOUT, MesosMasterDouble

from heronpy import config
from heronpy.runtime.launcher import child_environment
from heronpy.runtime.loader import load_file
from heronpy.runtime.rundir import RunDir
from heronpy.scheduler import runs
from heronpy.scheduler.base import JobStatus, SchedulerError
from heronpy.scheduler.batch import CONTAINER_MODULE
from heronpy.scheduler.mesos import (
    FAILOVER_TIMEOUT_SECS,
    KILL_TIMEOUT_SECS,
    MISSED_HEARTBEATS,
    Driver,
    Framework,
    MesosScheduler,
    container_resources,
    task_command,
)
from heronpy.topology.physical import PhysicalPlan

CONTAINER = {"cpus": 1.0, "mem": 512.0}


def framework(containers: int = 2, resources: dict | None = None,
              max_relaunches: int = 2) -> Framework:
    commands = [{"shell": True, "value": f"run container {c}"} for c in range(containers)]
    return Framework("wc", "tester", commands, resources or CONTAINER, max_relaunches)


@contextmanager
def running(double: MesosMasterDouble, fw: Framework, url: str | None = None) -> Iterator[Driver]:
    """The framework's driver, in a thread, against ``double`` (at ``url`` if given); killed
    at the end if it is still running. Re-raises what the driver raised."""
    driver = Driver(fw, url or double.url, timeout=5.0)
    raised: list[BaseException] = []

    def run() -> None:
        try:
            driver.run()
        except BaseException as err:
            raised.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield driver
    finally:
        driver.request_kill()
        thread.join(TIMEOUT)
    assert not thread.is_alive(), "the driver did not end"
    if raised:
        raise raised[0]


def launch(double: MesosMasterDouble, fw: Framework) -> list[str]:
    """Subscribes, offers room for every container, reports them running; their task ids."""
    double.wait_for("RECONCILE")
    double.offer((8.0, 8192.0))
    double.wait_for("ACCEPT")
    tasks = [info["task_id"]["value"] for info in double.launched()]
    for task in tasks:
        double.update(task, "TASK_RUNNING")
    double.wait_for("ACKNOWLEDGE", len(tasks))
    return tasks


def index_of(double: MesosMasterDouble, kind: str, nth: int = 0) -> int:
    """Where the ``nth`` call of type ``kind`` is in ``double.calls``."""
    return [i for i, call in enumerate(double.calls) if call.type == kind][nth]


# -- subscribing ------------------------------------------------------------------------------

def test_it_subscribes_then_reconciles_with_the_stream_id_it_was_given():
    with MesosMasterDouble() as double, running(double, framework()):
        (subscribe,) = double.wait_for("SUBSCRIBE")
        (reconcile,) = double.wait_for("RECONCILE")
        framework_id = double.framework_id
        stream = double.subscription.stream_id
    assert subscribe["subscribe"]["framework_info"] == {
        "user": "tester", "name": "heronpy wc", "failover_timeout": FAILOVER_TIMEOUT_SECS,
        "checkpoint": True}
    assert "framework_id" not in subscribe
    # no tasks yet: implicit reconciliation, every task the master knows of this framework
    assert reconcile == {"framework_id": {"value": framework_id}, "type": "RECONCILE",
                         "reconcile": {"tasks": []}}
    first, *others = double.calls
    assert first.stream_id is None  # SUBSCRIBE never carries one
    assert {(c.stream_id, c.status) for c in others} == {(stream, 202)}


def test_a_standby_master_redirects_the_framework_to_the_leader():
    with MesosMasterDouble() as leader, MesosMasterDouble(redirect_to=leader.url) as standby:
        with running(leader, framework(), url=standby.url):
            leader.wait_for("RECONCILE")
        assert standby.calls == []  # it only ever answered 307
        assert [c.type for c in leader.calls] == ["SUBSCRIBE", "RECONCILE", "TEARDOWN"]


def test_an_unreachable_master_is_a_clear_error_and_nothing_waits_for_ever():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(SchedulerError, match=rf"cannot subscribe to the Mesos master at "
                       rf"http://127.0.0.1:{closed}/api/v1/scheduler: .*refused"):
        Driver(framework(), f"127.0.0.1:{closed}", timeout=2.0).run()
    with socket.socket() as silent:  # accepts connections (the backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        with pytest.raises(SchedulerError, match="timed out"):
            Driver(framework(), f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5).run()
        assert time.monotonic() - started < 5


def test_an_error_event_instead_of_subscribed_ends_the_framework():
    fw = framework()
    with MesosMasterDouble(refuse="Framework is not authorized") as double:
        Driver(fw, double.url, timeout=5.0).run()
    assert fw.done
    assert fw.state == "FAILED"
    assert "Framework is not authorized" in fw.message


# -- offers -----------------------------------------------------------------------------------

def test_an_offer_is_accepted_with_one_task_per_container_and_the_containers_resources():
    resources = container_resources({"topology.container.cpu": 1.5,
                                     "topology.container.ram": 768 * 2**20})
    fw = framework(2, resources)
    with MesosMasterDouble() as double, running(double, fw):
        double.wait_for("RECONCILE")
        (offer,) = double.offer((4.0, 4096.0))
        (accept,) = double.wait_for("ACCEPT")
    assert accept["accept"]["offer_ids"] == [{"value": offer}]
    (operation,) = accept["accept"]["operations"]
    assert operation["type"] == "LAUNCH"
    infos = operation["launch"]["task_infos"]
    assert [info["command"] for info in infos] == fw.commands  # container 0, then 1
    assert len({info["task_id"]["value"] for info in infos}) == 2
    for info in infos:
        assert info["agent_id"] == {"value": "agent-1"}
        assert {r["name"]: r["scalar"]["value"] for r in info["resources"]} == {
            "cpus": 1.5, "mem": 768.0}
        assert all(r["type"] == "SCALAR" and r["role"] == "*"
                   and r["allocation_info"] == {"role": "*"} for r in info["resources"])
    assert accept["accept"]["filters"] == {"refuse_seconds": 120.0}  # nothing left to place
    assert double.calls_of("DECLINE") == []


def test_tasks_spread_over_offers_when_one_is_too_small_and_the_rest_is_declined():
    fw = framework(3, {"cpus": 1.0, "mem": 1024.0})
    with MesosMasterDouble() as double, running(double, fw):
        double.wait_for("RECONCILE")
        too_small, one, another = double.offer((0.5, 8192.0), (2.0, 1536.0), (1.0, 4096.0))
        first, second = double.wait_for("ACCEPT", 2)
        (declined,) = double.wait_for("DECLINE")
        (last,) = double.offer((2.0, 2048.0))
        third = double.wait_for("ACCEPT", 3)[2]
        (unneeded,) = double.offer((8.0, 8192.0))
        later = double.wait_for("DECLINE", 2)[1]
    assert [a["accept"]["offer_ids"] for a in (first, second, third)] == [
        [{"value": one}], [{"value": another}], [{"value": last}]]
    assert [len(a["accept"]["operations"][0]["launch"]["task_infos"])
            for a in (first, second, third)] == [1, 1, 1]  # 1536 MB hold one container only
    assert sorted(info["command"]["value"] for info in double.launched()) == [
        "run container 0", "run container 1", "run container 2"]
    assert declined["decline"] == {"offer_ids": [{"value": too_small}],
                                   "filters": {"refuse_seconds": 5.0}}  # one still waits
    assert later["decline"] == {"offer_ids": [{"value": unneeded}],
                                "filters": {"refuse_seconds": 120.0}}


def test_a_task_takes_its_resources_from_several_entries_of_an_offer():
    """E.g. cpus reserved for the framework's role beside unreserved ones: each part keeps
    its role and reservations (pure: no I/O)."""
    fw = framework(1, {"cpus": 1.0, "mem": 512.0})
    fw.handle({"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "F"}}}, 0.0)
    reserved = {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.25}, "role": "stream",
                "reservations": [{"type": "STATIC", "role": "stream"}]}
    offer = {"id": {"value": "O1"}, "agent_id": {"value": "A1"}, "resources": [
        reserved,
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 4.0}, "role": "*"},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 4096.0}, "role": "*"}]}
    (accept,) = fw.handle({"type": "OFFERS", "offers": {"offers": [offer]}}, 0.0)
    (info,) = accept["accept"]["operations"][0]["launch"]["task_infos"]
    assert info["resources"] == [
        {**reserved, "scalar": {"value": 0.25}},
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.75}, "role": "*"},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 512.0}, "role": "*"}]
    assert offer["resources"][1]["scalar"] == {"value": 4.0}  # the event is left as it was


# -- status updates ---------------------------------------------------------------------------

def test_updates_with_a_uuid_are_acknowledged_and_the_others_are_not():
    fw = framework()
    with MesosMasterDouble() as double, running(double, fw):
        tasks = launch(double, fw)  # two TASK_RUNNING updates, acknowledged
        double.update(tasks[0], "TASK_RUNNING", reliable=False)  # as RECONCILE answers
        double.update(tasks[1], "TASK_RUNNING", message="still running")
        acks = double.wait_for("ACKNOWLEDGE", 3)
        assert double.unacknowledged == set()
        assert len(double.calls_of("ACKNOWLEDGE")) == 3  # events are handled in order
    assert [a["acknowledge"]["task_id"]["value"] for a in acks] == [*tasks, tasks[1]]
    assert all(a["acknowledge"]["agent_id"] == {"value": "agent-1"} for a in acks)


@pytest.mark.parametrize("state", ["TASK_LOST", "TASK_FAILED", "TASK_ERROR", "TASK_DROPPED",
                                   "TASK_GONE"])
def test_a_lost_container_is_relaunched_as_a_new_task(state):
    fw = framework()
    with MesosMasterDouble() as double, running(double, fw):
        first, second = launch(double, fw)
        double.update(second, state, message="agent gone")
        double.wait_for("REVIVE")  # the offers it declined may come back at once
        (offer,) = double.offer((1.0, 512.0))
        relaunch = double.wait_for("ACCEPT", 2)[1]
        assert double.calls_of("KILL") == []
    (info,) = relaunch["accept"]["operations"][0]["launch"]["task_infos"]
    assert relaunch["accept"]["offer_ids"] == [{"value": offer}]
    assert info["command"] == fw.commands[1]  # the same container
    assert info["task_id"]["value"] not in (first, second)
    assert {r["name"]: r["scalar"]["value"] for r in info["resources"]} == CONTAINER
    assert fw.state == "KILLED"  # by `running`, at the end


def test_relaunches_are_bounded_by_heronpy_restart_max():
    fw = framework(max_relaunches=1)
    with MesosMasterDouble() as double, running(double, fw):
        _, second = launch(double, fw)
        double.update(second, "TASK_LOST")
        double.wait_for("REVIVE")
        double.offer((1.0, 512.0))
        double.wait_for("ACCEPT", 2)
        double.update(double.launched()[-1]["task_id"]["value"], "TASK_LOST")
        double.wait_for("TEARDOWN")
    assert len(double.calls_of("REVIVE")) == 1
    assert [k["kill"]["task_id"]["value"] for k in double.calls_of("KILL")] == [
        double.launched()[0]["task_id"]["value"]]  # container 0's, still running
    assert fw.state == "FAILED"
    assert f"relaunched 1 times already ({config.RESTART_MAX})" in fw.message


def test_container_0_is_not_relaunched_it_runs_the_topology_master():
    fw = framework()
    with MesosMasterDouble() as double, running(double, fw):
        first, second = launch(double, fw)
        double.update(first, "TASK_FAILED", message="Command exited with status 1")
        double.wait_for("TEARDOWN")
    assert [k["kill"]["task_id"]["value"] for k in double.calls_of("KILL")] == [second]
    assert double.calls_of("REVIVE") == []
    assert fw.state == "FAILED"
    assert "container 0: TASK_FAILED Command exited with status 1" in fw.message
    assert "topology master" in fw.message


def test_the_framework_ends_when_every_container_has_finished():
    fw = framework()
    with MesosMasterDouble() as double, running(double, fw):
        for task in launch(double, fw):
            double.update(task, "TASK_FINISHED")
        double.wait_for("TEARDOWN")
    assert fw.state == "FINISHED"
    assert double.calls_of("KILL") == []


# -- kill -------------------------------------------------------------------------------------

def test_kill_kills_every_task_and_tears_down_once_they_have_ended():
    fw = framework()
    with MesosMasterDouble() as double, running(double, fw) as driver:
        tasks = launch(double, fw)
        driver.request_kill()
        double.wait_for("TEARDOWN")
    assert [k["kill"] for k in double.calls_of("KILL")] == [
        {"task_id": {"value": t}, "agent_id": {"value": "agent-1"}} for t in tasks]
    # each KILL brought a TASK_KILLED update, acknowledged before the TEARDOWN
    after_kills = [c.type for c in double.calls[index_of(double, "KILL", 1) + 1:]]
    assert after_kills == ["ACKNOWLEDGE", "ACKNOWLEDGE", "TEARDOWN"]
    assert fw.state == "KILLED"


def test_no_relaunch_after_kill():
    fw = framework()
    with MesosMasterDouble(kill_reply="TASK_LOST") as double, running(double, fw) as driver:
        launch(double, fw)
        driver.request_kill()  # and the double answers each KILL with TASK_LOST
        double.wait_for("TEARDOWN")
    assert double.calls_of("REVIVE") == []
    assert len(double.calls_of("ACCEPT")) == 1
    assert fw.state == "KILLED"


def test_killed_tasks_that_do_not_end_are_torn_down_after_the_kill_timeout():
    fw = framework()  # pure, with its own clock
    fw.handle({"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "F"}}}, 0.0)
    offer = {"id": {"value": "O1"}, "agent_id": {"value": "A1"}, "resources": [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 2.0}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 1024.0}}]}
    fw.handle({"type": "OFFERS", "offers": {"offers": [offer]}}, 0.0)
    assert [call["type"] for call in fw.kill(100.0)] == ["KILL", "KILL"]
    assert fw.kill(101.0) == []  # once
    assert fw.tick(100.0 + KILL_TIMEOUT_SECS - 1) == []
    assert fw.tick(100.0 + KILL_TIMEOUT_SECS) == [
        {"framework_id": {"value": "F"}, "type": "TEARDOWN"}]
    assert (fw.state, fw.done) == ("KILLED", True)


# -- losing the master --------------------------------------------------------------------------

def test_it_resubscribes_with_its_framework_id_after_missed_heartbeats():
    fw = framework()
    with MesosMasterDouble(heartbeat_secs=0.1) as double, running(double, fw):
        tasks = launch(double, fw)
        framework_id, old_stream = double.framework_id, double.subscription.stream_id
        double.partition()  # the stream stays open, but nothing comes any more
        silent_since = time.monotonic()
        resubscribe = double.wait_for("SUBSCRIBE", 2)[1]
        reconcile = double.wait_for("RECONCILE", 2)[1]
        new_stream = double.subscription.stream_id
    resubscribed_at = double.calls[index_of(double, "SUBSCRIBE", 1)].at
    assert resubscribed_at - silent_since >= MISSED_HEARTBEATS * 0.1 - 0.05
    assert resubscribe["framework_id"] == {"value": framework_id}
    assert resubscribe["subscribe"]["framework_info"]["id"] == {"value": framework_id}
    assert reconcile["reconcile"]["tasks"] == [  # explicit: the tasks it has running
        {"task_id": {"value": t}, "agent_id": {"value": "agent-1"}} for t in tasks]
    assert new_stream != old_stream
    assert {c.stream_id for c in double.calls[index_of(double, "SUBSCRIBE", 1) + 1:]} == {
        new_stream}
    assert double.calls_of("REVIVE") == []  # the master answered: both still run


def test_after_a_lost_stream_reconciliation_relaunches_what_the_master_lost():
    fw = framework()
    with MesosMasterDouble() as double, running(double, fw):
        first, second = launch(double, fw)
        framework_id = double.framework_id
        del double.tasks[second]  # e.g. its agent was removed meanwhile
        double.disconnect()
        resubscribe = double.wait_for("SUBSCRIBE", 2)[1]
        double.wait_for("REVIVE")  # RECONCILE answered TASK_LOST for it
        double.offer((1.0, 512.0))
        double.wait_for("ACCEPT", 2)
    assert resubscribe["framework_id"] == {"value": framework_id}
    assert double.launched()[-1]["command"] == fw.commands[1]
    assert double.calls_of("KILL")[0]["kill"]["task_id"]["value"] == first


# -- pieces -----------------------------------------------------------------------------------

def test_container_resources_come_from_herons_container_keys():
    assert container_resources({}) == {"cpus": 1.0, "mem": 1024.0}
    assert container_resources({"topology.container.cpu": "2",
                                "topology.container.ram": str(3 * 2**29)}) == {
        "cpus": 2.0, "mem": 1536.0}
    with pytest.raises(SchedulerError, match="above 0"):
        container_resources({"topology.container.cpu": 0})


def test_a_task_runs_the_container_command_slurm_runs():
    command = task_command(RunDir("/shared/runs/r 1"), 3)
    assert command["shell"] is True
    assert command["value"] == (
        f"exec {sys.executable} -m {CONTAINER_MODULE} '/shared/runs/r 1' 3 "
        ">>'/shared/runs/r 1/logs/executor-3.log' 2>&1")
    variables = {v["name"]: v["value"] for v in command["environment"]["variables"]}
    assert variables == {"PYTHONPATH": child_environment()["PYTHONPATH"],
                         "PYTHONUNBUFFERED": "1"}  # as Slurm's batch script exports them


# -- end to end: `heronpy submit mesos`, the double running the tasks here ------------------

@pytest.fixture
def home(monkeypatch, rundir_parent) -> str:
    """``heronpy``'s runs directory (and default run directories) in this test's directory."""
    monkeypatch.setenv("HOME", rundir_parent)
    return rundir_parent


def heronpy(*args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([*heronpy_cli(), *args], env=subprocess_env(), capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


def submit_mesos(double: MesosMasterDouble, *args: str) -> subprocess.Popen:
    """``heronpy submit mesos``, once its framework has subscribed and been offered room for
    four containers on one agent."""
    watcher = subprocess.Popen([*heronpy_cli(), "submit", "mesos", *args, "--master", double.url],
                               env=subprocess_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        double.wait_for("RECONCILE")
        double.offer((4.0, 4096.0))
    except BaseException:
        end(watcher)
        raise
    return watcher


def end(watcher: subprocess.Popen) -> None:
    """Ends the submitting command if a test failed before it ended (its framework too)."""
    if watcher.poll() is None:
        watcher.terminate()
        watcher.communicate(timeout=TIMEOUT)


def rundir_of(double: MesosMasterDouble) -> str:
    return re.search(rf"-m {CONTAINER_MODULE} (\S+) 0 ",
                     double.launched()[0]["command"]["value"]).group(1)


def assert_nothing_left(process_guard, rundir: str) -> None:
    """No process of the run, whoever started it (the framework is not our child)."""
    left = []
    for proc in psutil.process_iter():
        try:
            if rundir in " ".join(proc.cmdline()) and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(proc)
        except psutil.Error:
            continue
    assert not left, describe(left)
    process_guard.assert_clean()


def test_word_count_on_mesos_gives_what_it_gives_locally(home, process_guard):
    with MesosMasterDouble(launch=True) as double:
        watcher = submit_mesos(double, str(WORD_COUNT_EXAMPLE), "--containers", "2")
        try:
            out, err = watcher.communicate(timeout=TIMEOUT)
        finally:
            end(watcher)
        assert watcher.returncode == 0, err
        assert re.search(r"running topology 'word_count' in 2 container\(s\) as Mesos "
                         rf"framework {double.calls_of('RECONCILE')[0]['framework_id']['value']}",
                         err)
        assert double.calls[-1].type == "TEARDOWN"  # every container finished
        assert len(double.launched()) == 2
        assert double.unacknowledged == set()
        rundir = rundir_of(double)
    here = heronpy("submit", "local", str(WORD_COUNT_EXAMPLE), "--containers", "2")
    assert here.returncode == 0, here.stderr
    assert out == here.stdout  # counters and outputs, printed the same way
    assert "count: executed 160000, emitted 16" in out
    assert not Path(rundir).exists()
    assert runs.known() == []  # the run directory was removed, and its record
    assert_nothing_left(process_guard, rundir)


def test_list_and_kill_a_mesos_topology(home, process_guard):
    with MesosMasterDouble(launch=True) as double:
        watcher = submit_mesos(double, str(TOPOLOGIES / "endless.py"))
        try:
            job = poll_until(lambda: runs.known() and runs.known()[0], TIMEOUT, "the record")
            logs = Path(job.rundir, "logs")
            poll_until(lambda: sum("running" in p.read_text() for p in logs.glob("stmgr-*.log"))
                       == 2, TIMEOUT, "both containers to run")
            listed = heronpy("list")
            assert re.search(rf"^endless +mesos +{job.id} +RUNNING +{job.rundir}$",
                             listed.stdout, re.MULTILINE), listed.stdout
            started = time.monotonic()
            kill = heronpy("kill", "endless")
            assert kill.returncode == 0, kill.stderr
            assert f"killed topology 'endless' (mesos job {job.id})" in kill.stderr
            assert time.monotonic() - started < 15
            _, err = watcher.communicate(timeout=TIMEOUT)
        finally:
            end(watcher)
        assert double.calls[-1].type == "TEARDOWN"
    assert watcher.returncode == 1
    assert f"mesos job {job.id} ended before the topology finished: FINISHED" in err
    assert "Traceback" not in err
    assert heronpy("list").stdout.split()[-4:] == ["mesos", job.id, "FINISHED", job.rundir]
    assert_nothing_left(process_guard, job.rundir)


def test_a_lost_container_is_relaunched_and_rejoins_the_running_topology(home, process_guard):
    with MesosMasterDouble(launch=True) as double:
        watcher = submit_mesos(double, str(TOPOLOGIES / "endless.py"))
        try:
            job = poll_until(lambda: runs.known() and runs.known()[0], TIMEOUT, "the record")
            stmgr_1 = Path(job.rundir, "logs", "stmgr-1.log")
            poll_until(lambda: stmgr_1.exists() and "running" in stmgr_1.read_text(), TIMEOUT,
                       "container 1 to run")
            lost = double.launched()[1]
            double.lose(lost["task_id"]["value"])  # its processes die with its agent
            double.wait_for("REVIVE")
            double.offer((1.0, 1024.0))
            poll_until(lambda: stmgr_1.read_text().count("running") == 2, TIMEOUT,
                       "the relaunched container 1 to join the topology")
            assert heronpy("kill", "endless").returncode == 0
            watcher.communicate(timeout=TIMEOUT)
        finally:
            end(watcher)
    relaunched = double.launched()[2]
    assert relaunched["command"] == lost["command"]
    assert relaunched["task_id"] != lost["task_id"]
    assert [c.type for c in double.calls].count("ACCEPT") == 2
    assert_nothing_left(process_guard, job.rundir)


def test_a_dead_topology_master_fails_the_framework_and_the_command_says_so(home, process_guard):
    with MesosMasterDouble(launch=True) as double:
        watcher = submit_mesos(double, str(TOPOLOGIES / "endless.py"))
        try:
            job = poll_until(lambda: runs.known() and runs.known()[0], TIMEOUT, "the record")
            master = json.loads(
                poll_until(lambda: read(Path(job.rundir, "tmaster.json")), TIMEOUT, "a master"))
            psutil.Process(master["pid"]).kill()
            _, err = watcher.communicate(timeout=TIMEOUT)
        finally:
            end(watcher)
        _, second = (info["task_id"]["value"] for info in double.launched())
        assert [k["kill"]["task_id"]["value"] for k in double.calls_of("KILL")] == [second]
        assert double.calls[-1].type == "TEARDOWN"
    assert watcher.returncode == 1
    assert f"mesos job {job.id} ended before the topology finished: FAILED" in err
    state = json.loads(Path(job.rundir, "mesos.json").read_text())
    assert state["message"].startswith("container 0: TASK_FAILED")
    assert "container 0: TASK_FAILED" in Path(job.rundir, "logs", "mesos.log").read_text()
    assert_nothing_left(process_guard, job.rundir)


def test_killing_a_framework_whose_tasks_run_on_kills_each_task(home, process_guard):
    """``MesosScheduler.kill`` without asking the topology master first (as when it does not
    answer): the framework gets SIGTERM, KILLs every task, and tears down once they ended."""
    with MesosMasterDouble(launch=True) as double:
        plan = PhysicalPlan.pack(load_file(str(TOPOLOGIES / "endless.py")))
        scheduler = MesosScheduler(double.url)
        job = scheduler.submit(RunDir.create(plan, home))
        try:
            double.offer((4.0, 4096.0))
            logs = Path(job.rundir, "logs")
            poll_until(lambda: sum("running" in p.read_text() for p in logs.glob("stmgr-*.log"))
                       == 2, TIMEOUT, "both containers to run")
            assert scheduler.status(job) == JobStatus("RUNNING", True)
        finally:
            scheduler.kill(job)
        assert sorted(k["kill"]["task_id"]["value"] for k in double.calls_of("KILL")) == sorted(
            info["task_id"]["value"] for info in double.launched())
        assert double.calls[-1].type == "TEARDOWN"
    assert scheduler.status(job) == JobStatus("KILLED", False)
    assert job.id == double.calls_of("RECONCILE")[0]["framework_id"]["value"]
    assert_nothing_left(process_guard, job.rundir)


def read(path: Path) -> str | None:
    try:
        return path.read_text() or None
    except FileNotFoundError:
        return None


def test_submitting_to_an_unreachable_master_fails_at_once_and_says_why(home, process_guard):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    started = time.monotonic()
    done = heronpy("submit", "mesos", str(WORD_COUNT_EXAMPLE), "--master",
                   f"http://127.0.0.1:{closed}")
    assert done.returncode == 1
    assert (f"heronpy: cannot subscribe to the Mesos master at "
            f"http://127.0.0.1:{closed}/api/v1/scheduler:") in done.stderr
    assert "Connection refused" in done.stderr
    assert time.monotonic() - started < 20
    process_guard.assert_clean()
