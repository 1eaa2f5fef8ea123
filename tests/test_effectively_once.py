"""EFFECTIVELY_ONCE: checkpoints with aligned barriers; a process killed at a random moment
rolls the whole topology back to the last complete checkpoint, and the final counts are
exact: nothing lost, nothing counted twice."""

import os
import random
import signal
import threading
import time

import pytest
import stateful_words
from helpers import child_running, wait_until

import heronpy.api.api_constants as constants
import heronpy.local
from heronpy.api.spout.spout import Spout
from heronpy.api.state.stateful_component import StatefulComponent
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder
from heronpy.windows import Count, WindowedBolt


def _topology() -> TopologyBuilder:
    return stateful_words.topology(constants.TopologyReliabilityMode.EFFECTIVELY_ONCE, **{
        constants.TOPOLOGY_STATEFUL_CHECKPOINT_INTERVAL_SECONDS: 0.3, "relay.slow.secs": 0.0002})


def _counts(result) -> dict[str, int]:
    return {word: count for word, count, *_ in result.outputs("count")}


def _kill_at_random(pattern: str, seed: int, killed: list) -> None:
    """Once a first checkpoint is complete, SIGKILLs the process whose command line contains
    ``pattern`` at a random (seeded) moment of the next second."""
    _, task_cmdline = wait_until(lambda: child_running("heronpy.instance"), 30, "a task")
    rundir = os.path.dirname(task_cmdline[3])  # the task's package: RUNDIR/topology.pkg
    wait_until(lambda: os.path.exists(os.path.join(rundir, "checkpoints", "LATEST")), 30,
               "a complete checkpoint")
    victim, _ = wait_until(lambda: child_running(pattern), 30, f"a process running {pattern!r}")
    time.sleep(random.Random(seed).uniform(0, 1))
    os.kill(victim.pid, signal.SIGKILL)
    killed.append(victim.pid)


def test_counts_are_exact_without_failures():
    result = heronpy.local.run(_topology(), timeout=60)
    assert _counts(result) == stateful_words.EXPECTED


@pytest.mark.parametrize(("pattern", "seed"), [
    ("/sock/task-4 ", 1),  # a count bolt (tasks: words 1, relay 2-3, count 4-5)
    ("/sock/task-2 ", 2),  # a relay bolt
    ("heronpy.stmgr 1 ", 3),  # a stream manager
    ("/sock/task-1 ", 4),  # the spout
], ids=["count bolt", "relay bolt", "stream manager", "spout"])
def test_a_kill_rolls_back_and_counts_stay_exact(pattern, seed):
    killed: list[int] = []
    killer = threading.Thread(target=_kill_at_random, args=(pattern, seed, killed),
                              daemon=True)
    killer.start()
    result = heronpy.local.run(_topology(), timeout=120)
    killer.join(5)
    assert killed, "nothing was killed"
    assert _counts(result) == stateful_words.EXPECTED
    # every process restarted from a checkpoint, not from scratch: the spout's last
    # incarnation resumed from a saved offset
    assert 0 < result.metrics["words"]["emitted"] < len(stateful_words.WORDS)


class NumberSource(StatefulComponent, Spout):
    """Emits 0..2999 from its saved position, paced."""

    outputs = ["n"]

    def init_state(self, stateful_state):
        self.state = stateful_state

    def initialize(self, config, context):
        self.n = self.state.get("n", 0)

    def next_tuple(self):
        if self.n >= 3000:
            raise StopIteration
        self.emit([self.n])
        self.n += 1
        if self.n % 50 == 0:
            time.sleep(0.05)

    def pre_save(self, checkpoint_id):
        self.state.put("n", self.n)


class WindowSums(WindowedBolt):
    outputs = ["start", "size", "total"]
    length = Count(100)

    def process_window(self, window, tuples):
        self.emit([window.start, len(tuples), sum(t.values[0] for t in tuples)])


def test_window_buffers_are_checkpointed_and_restored():
    builder = TopologyBuilder("windows_exactly")
    source = builder.add_spout("numbers", NumberSource, par=1)
    builder.add_bolt("sums", WindowSums, par=1, inputs={source: Grouping.SHUFFLE})
    builder.set_config({
        constants.TOPOLOGY_RELIABILITY_MODE: constants.TopologyReliabilityMode.EFFECTIVELY_ONCE,
        constants.TOPOLOGY_STATEFUL_CHECKPOINT_INTERVAL_SECONDS: 0.3, "topology.stmgrs": 2})
    killed: list[int] = []
    killer = threading.Thread(target=_kill_at_random, args=("/sock/task-2 ", 5, killed),
                              daemon=True)
    killer.start()
    result = heronpy.local.run(builder, timeout=120)
    killer.join(5)
    assert killed, "nothing was killed"
    expected = [(s, 100, sum(range(s, s + 100))) for s in range(0, 3000, 100)]
    assert result.outputs("sums") == expected
    assert 0 < result.metrics["numbers"]["emitted"] < 3000  # resumed from a checkpoint
