"""Two stream managers on two "hosts" talking over libfabric tcp;ofi_rxm: network namespaces
joined by a veth pair, nothing routed through this machine's own namespace.

The whole run happens inside the namespaces: a driver process in the first one (where the
master, the client and container 0 live) runs word count through a scheduler that starts
container 1's executor in the second one with ``nsenter --net``. Task inboxes are ipc sockets
in the shared run directory; everything between the hosts goes over their veth link.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
from helpers import subprocess_env
from test_wordcount import WORDS_PER_SENTENCE, CountBolt, SentenceSpout, SplitBolt, make_sentences

from heronpy.transport.libfabric import FabricUnavailable

try:
    from heronpy.transport.fabric import providers

    HAVE_TCP = any(p["provider"] == "tcp;ofi_rxm" for p in providers())
except FabricUnavailable:
    HAVE_TCP = False

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(not (shutil.which("ip") and shutil.which("nsenter")),
                       reason="needs iproute2 (ip) and util-linux (nsenter)"),
    pytest.mark.skipif(not HAVE_TCP, reason="no libfabric tcp;ofi_rxm provider here"),
]

SUBNET = "10.201.0"
SEED = 20240611
SENTENCES = 5000
WAIT = 120.0


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


@pytest.fixture
def hosts():
    """Two namespaces with fresh names (other users of namespaces on this machine are left
    alone), at SUBNET.1 and SUBNET.2; deleted afterwards, also when the test fails."""
    names = [f"hpy{uuid.uuid4().hex[:8]}{side}" for side in "ab"]
    try:
        for name in names:
            ip("netns", "add", name)
        ip("-n", names[0], "link", "add", "eth0", "type", "veth", "peer", "name", "eth0",
           "netns", names[1])
        for i, name in enumerate(names, start=1):
            ip("-n", name, "addr", "add", f"{SUBNET}.{i}/24", "dev", "eth0")
            ip("-n", name, "link", "set", "eth0", "up")
            ip("-n", name, "link", "set", "lo", "up")
    except subprocess.CalledProcessError as err:
        for name in names:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        pytest.skip(f"cannot make network namespaces here: {err.stderr.strip()}")
    yield names
    for name in names:
        ip("netns", "del", name)


def in_namespace(name: str) -> list[str]:
    return ["nsenter", f"--net=/run/netns/{name}"]


def drive(second_host: str) -> None:
    """The driver, run inside the first namespace: word count over 2 containers, container 1
    in ``second_host``; prints what it produced as JSON."""
    from heronpy.api.stream import Grouping
    from heronpy.api.topology import TopologyBuilder
    from heronpy.config import CAPTURE_OUTPUTS
    from heronpy.local import with_config
    from heronpy.runtime.launcher import child_environment
    from heronpy.runtime.loader import to_plan
    from heronpy.scheduler.base import Job, JobStatus, Scheduler
    from heronpy.scheduler.run import run

    class TwoHosts(Scheduler):
        """The master and container 0 here, container 1 in ``second_host``."""

        name = "two-hosts"

        def __init__(self):
            self.procs: list[subprocess.Popen] = []

        def submit(self, rundir):
            env = child_environment()
            for prefix, module, args in (
                    ([], "heronpy.runtime.tmaster", [f"{SUBNET}.1"]),
                    ([], "heronpy.runtime.executor", ["0", f"{SUBNET}.1"]),
                    (in_namespace(second_host), "heronpy.runtime.executor", ["1", f"{SUBNET}.2"])):
                with open(rundir.log(f"{module}-{args[0]}"), "ab") as log:
                    self.procs.append(subprocess.Popen(
                        [*prefix, sys.executable, "-m", module, rundir.path, *args], env=env,
                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            return Job(self.name, str(self.procs[0].pid), "word_count", rundir.path)

        def status(self, job):
            running = self.procs[0].poll() is None
            return JobStatus("RUNNING" if running else "EXITED", running)

        def kill(self, job):
            for proc in self.procs:
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()

    builder = TopologyBuilder("word_count")
    spout = builder.add_spout("sentences", SentenceSpout, par=2)
    split = builder.add_bolt("split", SplitBolt, par=2, inputs={spout: Grouping.SHUFFLE})
    builder.add_bolt("count", CountBolt, par=3, inputs={split: Grouping.fields("word")})
    builder.set_config({"topology.stmgrs": 2, "seed": SEED, "sentences": SENTENCES,
                        "heronpy.transport": "fabric", "heronpy.fabric.provider": "tcp;ofi_rxm"})
    result = run(TwoHosts(), with_config(to_plan(builder), {CAPTURE_OUTPUTS: True}),
                 timeout=WAIT - 20)
    print(json.dumps({
        "counts": result.outputs("count"),
        "containers": {t: result.plan.tasks[t].container
                       for t in result.plan.component_tasks["count"]},
        "split_emitted": result.metrics["split"]["emitted"]}))


def test_word_count_across_two_hosts_over_tcp_ofi_rxm(hosts):
    env = subprocess_env()
    env["PYTHONPATH"] = os.pathsep.join((str(Path(__file__).parent), env["PYTHONPATH"]))
    driver = subprocess.Popen(
        [*in_namespace(hosts[0]), sys.executable, "-c",
         f"import test_transport_netns as t; t.drive({hosts[1]!r})"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = driver.communicate(timeout=WAIT)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.communicate()
    assert driver.returncode == 0, err
    got = json.loads(out)
    expected = Counter(word for sentence in make_sentences(SEED, SENTENCES)
                       for word in sentence.split())
    assert {word: count for word, count, _ in got["counts"]} == expected
    assert got["split_emitted"] == SENTENCES * WORDS_PER_SENTENCE
    # count tasks on both hosts: words crossed between them
    assert {got["containers"][str(task)] for _, _, task in got["counts"]} == {0, 1}
