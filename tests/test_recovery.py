"""Recovery: processes killed with SIGKILL are restarted by their executor; in ATLEAST_ONCE
mode the tuples lost with them time out and are replayed, so every spout tuple is acked."""

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest
from helpers import child_running, wait_until

import heronpy.api.api_constants as constants
import heronpy.local
from heronpy import config
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder
from heronpy.runtime.rundir import RunDir

N = 3000


class PacedReplayingSpout(Spout):
    """Emits 0..N-1 (tup_id = n) over ~3 s, replays failures, logs acks."""

    outputs = ["n", Stream(["n"], name="acked")]

    def initialize(self, config, context):
        self.todo = list(range(N))[::-1]

    def next_tuple(self):
        if not self.todo:
            raise StopIteration
        n = self.todo.pop()
        self.emit([n], tup_id=n)
        if n % 100 == 0:
            time.sleep(0.1)

    def ack(self, tup_id):
        self.emit([tup_id], stream="acked")

    def fail(self, tup_id):
        self.todo.append(tup_id)


class Relay(Bolt):
    outputs = ["n"]

    def process(self, tup):
        self.emit([tup.values[0]], anchors=[tup])
        self.ack(tup)


class Sink(Bolt):
    outputs = ["n"]

    def process(self, tup):
        self.ack(tup)


def _topology() -> TopologyBuilder:
    builder = TopologyBuilder("recovery")
    spout = builder.add_spout("numbers", PacedReplayingSpout, par=1)
    relay = builder.add_bolt("relay", Relay, par=2, inputs={spout: Grouping.SHUFFLE})
    builder.add_bolt("sink", Sink, par=2, inputs={relay: Grouping.fields("n")})
    builder.set_config({
        constants.TOPOLOGY_RELIABILITY_MODE: constants.TopologyReliabilityMode.ATLEAST_ONCE,
        constants.TOPOLOGY_MESSAGE_TIMEOUT_SECS: 2, "topology.stmgrs": 2})
    return builder


def _kill_one(pattern: str, killed: list) -> None:
    """Once a process whose command line contains ``pattern`` runs and the spout has been
    going for a second, SIGKILL it."""
    victim, _ = wait_until(lambda: child_running(pattern), 30, f"a process running {pattern!r}")
    time.sleep(1.0)  # let the topology get going: data is in flight when the kill lands
    os.kill(victim.pid, signal.SIGKILL)
    killed.append(victim.pid)


def _run_with_a_kill(pattern: str):
    killed: list[int] = []
    killer = threading.Thread(target=_kill_one, args=(pattern, killed), daemon=True)
    killer.start()
    result = heronpy.local.run(_topology(), timeout=120)
    killer.join(5)
    assert killed, "nothing was killed"
    acked = [n for (n,) in result.outputs("numbers", "acked")]
    assert sorted(acked) == list(range(N))  # each acked once: none lost
    return result


@pytest.mark.parametrize("pattern", [
    "/sock/task-2 ",  # a relay bolt (tasks: numbers 1, relay 2-3, sink 4-5)
    "/sock/task-5 ",  # a sink bolt
    "heronpy.stmgr 0 ",  # the spout's stream manager: its acker state is lost too
    "heronpy.stmgr 1 ",  # the other one: its peers must reconnect to its new endpoint
], ids=["relay bolt", "sink bolt", "spout's stream manager", "other stream manager"])
def test_a_killed_process_is_restarted_and_no_tuple_is_lost(pattern):
    _run_with_a_kill(pattern)


def test_a_container_whose_master_is_silent_stops_by_itself():
    """The fence of a cut-off node: with the master stopped (SIGSTOP), every executor stops its
    stream manager and tasks once heronpy.master.timeout.secs has passed, and exits 1."""
    builder = TopologyBuilder("orphaned")
    spout = builder.add_spout("spout", PacedReplayingSpout, par=1)
    builder.add_bolt("sink", Sink, par=2, inputs={spout: Grouping.SHUFFLE})
    builder.set_config({"topology.stmgrs": 2, config.MASTER_TIMEOUT_SECS: 2})
    with heronpy.local.start(builder):
        wait_until(lambda: len(descendants("heronpy.instance")) == 3, 30, "the tasks")
        executors = descendants("heronpy.runtime.executor")
        rundir = RunDir(executors[0].cmdline()[-3])
        master, _ = child_running("heronpy.runtime.tmaster")
        master.suspend()
        stopped = time.monotonic()
        try:
            codes = [proc.wait(timeout=30) for proc in executors]
            waited = time.monotonic() - stopped
            assert descendants("heronpy.instance") == descendants("heronpy.stmgr") == []
        finally:
            master.resume()
        log = Path(rundir.log("executor-0")).read_text()
    assert codes == [1, 1]
    # the timeout (2 s), a ping interval (1 s), the children's grace to exit on SIGTERM (2 s;
    # a stream manager lingers over what it could not send the master), and slack
    assert 2 <= waited < 7
    assert "no word from the topology master for 2 s; stopping" in log


def descendants(text: str) -> list[psutil.Process]:
    """This process's descendants whose command line contains ``text``."""
    found = []
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if text in " ".join(proc.cmdline()):
                found.append(proc)
    return found
