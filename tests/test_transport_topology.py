"""Stream managers talking over libfabric in real topologies: tuples of every size (chunked
above 1 MiB) cross containers intact over shm and tcp;ofi_rxm, a killed stream manager rejoins,
SIGTERM leaves no shared memory behind, and a provider that is missing fails the topology with
a message that says which ones exist."""

import os
import random
import signal
import subprocess
import zlib

import psutil
import pytest
from helpers import (
    EndlessSpout,
    child_running,
    heronpy_cli,
    provider_params,
    rdm_providers,
    subprocess_env,
    wait_until,
)
from test_recovery import _run_with_a_kill

import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder
from heronpy.transport.libfabric import FabricUnavailable

try:
    RDM = rdm_providers()
except FabricUnavailable as e:
    pytest.skip(f"libfabric transport unavailable: {e}", allow_module_level=True)

PROVIDERS = provider_params(RDM)
SIZES = [1, 1000, 70_000, 1_500_000, 3_000_000]
BLOBS = 40
WAIT = 30.0


def fabric(provider: str) -> dict:
    return {"heronpy.transport": "fabric", "heronpy.fabric.provider": provider}


def blob(i: int) -> bytes:
    return random.Random(i).randbytes(SIZES[i % len(SIZES)])


class BlobSpout(Spout):
    outputs = ["i", "blob"]

    def initialize(self, config, context):
        self.blobs = iter(range(BLOBS))

    def next_tuple(self):
        i = next(self.blobs)
        self.emit([i, blob(i)])


class ChecksumBolt(Bolt):
    outputs = ["i", "size", "crc", "task"]

    def initialize(self, config, context):
        self.task = context.get_task_id()

    def process(self, tup):
        i, data = tup.values
        self.emit([i, len(data), zlib.crc32(data), self.task])


class Sink(Bolt):
    def process(self, tup):
        pass


@pytest.mark.parametrize("provider", PROVIDERS)
def test_tuples_of_every_size_cross_containers_intact(provider):
    builder = TopologyBuilder("blobs")
    spout = builder.add_spout("blobs", BlobSpout, par=1)
    builder.add_bolt("check", ChecksumBolt, par=2, inputs={spout: Grouping.fields("i")})
    builder.set_config({"topology.stmgrs": 2, **fabric(provider)})
    result = heronpy.local.run(builder, timeout=120)
    rows = sorted(result.outputs("check"))
    assert [row[:3] for row in rows] == [(i, len(blob(i)), zlib.crc32(blob(i)))
                                         for i in range(BLOBS)]
    tasks = result.plan.component_tasks["check"]
    assert {result.plan.tasks[task].container for _, _, _, task in rows} == {0, 1}
    assert {result.plan.tasks[t].container for t in result.plan.component_tasks["blobs"]} \
        == {0}  # so half the blobs crossed to container 1
    assert len(tasks) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_killed_stream_manager_rejoins_and_no_tuple_is_lost(provider, monkeypatch):
    """test_recovery's run over fabric: its peers' links swap to its successor's address."""
    for key, value in {"HERONPY_TRANSPORT": "fabric",
                       "HERONPY_FABRIC_PROVIDER": provider}.items():
        monkeypatch.setenv(key, value)
    _run_with_a_kill("heronpy.stmgr 1 ")


def segments(pid: int) -> list[str]:
    """The shared memory shm keeps for the endpoints of process ``pid``."""
    return [name for name in os.listdir("/dev/shm") if name.startswith(f"{pid}:")]


@pytest.mark.skipif("shm" not in RDM, reason="no shm provider here")
def test_sigterm_and_shutdown_leave_no_shared_memory():
    builder = TopologyBuilder("endless")
    spout = builder.add_spout("numbers", EndlessSpout, par=1)
    builder.add_bolt("sink", Sink, par=2, inputs={spout: Grouping.SHUFFLE})
    builder.set_config({"topology.stmgrs": 2, **fabric("shm")})
    stmgrs = []
    with heronpy.local.start(builder) as run:
        wait_until(lambda: run.status()["registered"] == [0, 1], WAIT, "both stream managers")
        for container in (0, 1):
            proc, _ = child_running(f"heronpy.stmgr {container} ")
            stmgrs.append(proc.pid)
            assert segments(proc.pid), "the stream manager has no shm endpoint"
        victim = psutil.Process(stmgrs[1])
        victim.send_signal(signal.SIGTERM)
        victim.wait(WAIT)
        assert segments(victim.pid) == []
        successor = wait_until(lambda: child_running("heronpy.stmgr 1 "), WAIT,
                               "the stream manager's restart")[0]
        stmgrs.append(successor.pid)
        wait_until(lambda: segments(successor.pid), WAIT, "its successor's endpoint")
    assert [name for pid in stmgrs for name in segments(pid)] == []


def test_a_missing_provider_fails_the_topology_and_names_those_there_are():
    builder = TopologyBuilder("nowhere")
    spout = builder.add_spout("numbers", EndlessSpout, par=1)
    builder.add_bolt("sink", Sink, par=1, inputs={spout: Grouping.SHUFFLE})
    builder.set_config(fabric("warp-drive"))
    with pytest.raises(heronpy.local.TopologyFailed,
                       match=r"stream manager 0: .*no provider 'warp-drive'.*these do: .*shm"):
        heronpy.local.run(builder, timeout=WAIT)


def test_fabric_info_says_which_providers_heronpy_can_use():
    shown = subprocess.run([*heronpy_cli(), "fabric-info"], capture_output=True, text=True,
                           env={**subprocess_env(), "HERONPY_TRANSPORT": "fabric"}, timeout=WAIT)
    assert shown.returncode == 0, shown.stderr
    table = shown.stdout.split("\n\n")[0].splitlines()[1:]
    rows = {line.split()[0]: line.split()[1] for line in table}
    assert {name: rows.get(name) for name in RDM} == {name: "yes" for name in RDM}
    assert "heronpy.transport is 'fabric' (HERONPY_TRANSPORT)" in shown.stdout
