"""Word count in each reliability mode: throughput, end-to-end latency and recovery time.

    python -m benchmarks.reliability [--words 300000] [--runs 3]

ATMOST_ONCE (no tracking), ATLEAST_ONCE (every sentence a tracked root, every word anchored
and acked) and EFFECTIVELY_ONCE (stateful counts, checkpoints every second). Latency is from
the spout's emit of a sentence to the count task's processing of each of its words (same
machine, same clock). Recovery: a task is killed with SIGKILL mid-run; the figure is the time
from the kill until its replacement processes its first tuple. ATLEAST_ONCE loses a killed
task's memory, so there a split task (stateless) is killed and every word must be counted at
least once; EFFECTIVELY_ONCE restores state, so a count task is killed and every count must be
exact. Every other run checks its counts against collections.Counter exactly.
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import threading
import time
from collections import Counter

import psutil

import heronpy.api.api_constants as constants
import heronpy.local
from benchmarks.suite import Result
from benchmarks.wordcount import make_sentences
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.state.stateful_component import StatefulComponent
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder

MODES = constants.TopologyReliabilityMode


class TimedSentences(StatefulComponent, Spout):
    """Sentences from a file, each with its emit time; tracked (tup_id) in ATLEAST_ONCE,
    rewound through its state in EFFECTIVELY_ONCE."""

    outputs = ["sentence", "sent_at"]

    def init_state(self, stateful_state):
        self.state = stateful_state

    def initialize(self, config, context):
        with open(config["bench.input"]) as f:
            self.lines = f.read().splitlines()
        self.tracked = config[constants.TOPOLOGY_RELIABILITY_MODE] == MODES.ATLEAST_ONCE
        self.position = self.state.get("position", 0) if hasattr(self, "state") else 0
        self.failed: list[int] = []

    def next_tuple(self):
        if self.failed:
            position = self.failed.pop()
        elif self.position < len(self.lines):
            position, self.position = self.position, self.position + 1
        else:
            raise StopIteration
        self.emit([self.lines[position], time.time()],
                  tup_id=position if self.tracked else None)

    def fail(self, tup_id):
        self.failed.append(tup_id)

    def pre_save(self, checkpoint_id):
        self.state.put("position", self.position)


STARTED = Stream(["task", "first_at"], name="started")
"""When each incarnation of a task processed its first tuple."""
VICTIMS = {MODES.ATLEAST_ONCE: ("split", 2), MODES.EFFECTIVELY_ONCE: ("count", 4)}
"""The component and task that a recovery run kills (tasks: spout 1, split 2-3, count 4-5)."""


def _note_start(bolt: Bolt) -> None:
    if bolt.first:
        bolt.first = False
        bolt.emit([bolt.task, time.time()], stream="started")


class Split(Bolt):
    outputs = ["word", "sent_at", STARTED]

    def initialize(self, config, context):
        self.task = context.get_task_id()
        self.first = True

    def process(self, tup):
        _note_start(self)
        sentence, sent_at = tup.values
        for word in sentence.split():
            self.emit([word, sent_at], anchors=[tup])
        self.ack(tup)


class TimedCount(StatefulComponent, Bolt):
    """Counts words (in its state: checkpointed in EFFECTIVELY_ONCE), samples latencies."""

    outputs = ["word", "count", Stream(["latency"], name="latency"), STARTED]

    def init_state(self, stateful_state):
        self.state = stateful_state

    def initialize(self, config, context):
        if not hasattr(self, "state"):
            self.state = {}
        self.task = context.get_task_id()
        self.first = True
        self.n = 0

    def process(self, tup):
        _note_start(self)
        word, sent_at = tup.values
        self.state[word] = self.state.get(word, 0) + 1
        self.n += 1
        if self.n % 50 == 0:
            self.emit([time.time() - sent_at], stream="latency")
        self.ack(tup)

    def end_of_stream(self):
        for word, count in self.state.items():
            self.emit([word, count])


def topology(path: str, mode: str) -> TopologyBuilder:
    builder = TopologyBuilder(f"reliability_{mode.lower()}")
    spout = builder.add_spout("sentences", TimedSentences, par=1)
    split = builder.add_bolt("split", Split, par=2, inputs={spout: Grouping.SHUFFLE})
    builder.add_bolt("count", TimedCount, par=2, inputs={split: Grouping.fields("word")})
    builder.set_config({"topology.stmgrs": 2, "bench.input": path,
                        constants.TOPOLOGY_RELIABILITY_MODE: mode,
                        constants.TOPOLOGY_MAX_SPOUT_PENDING: 2000,
                        constants.TOPOLOGY_MESSAGE_TIMEOUT_SECS: 5,
                        constants.TOPOLOGY_STATEFUL_CHECKPOINT_INTERVAL_SECONDS: 1})
    return builder


def _kill_task(task: int, after: float, killed: list) -> None:
    """SIGKILLs ``task`` ``after`` seconds after it appears."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for proc in psutil.Process().children(recursive=True):
            try:
                if f"/sock/task-{task} " in " ".join(proc.cmdline()):
                    time.sleep(after)
                    killed.append(time.time())
                    os.kill(proc.pid, signal.SIGKILL)
                    return
            except psutil.Error:
                continue
        time.sleep(0.02)


def run(path: str, words: int, expected: Counter, mode: str, kill_after: float | None):
    killed: list[float] = []
    victim, task = VICTIMS.get(mode, (None, None))
    if kill_after is not None:
        threading.Thread(target=_kill_task, args=(task, kill_after, killed), daemon=True).start()
    started = time.perf_counter()
    result = heronpy.local.run(topology(path, mode), timeout=600)
    elapsed = time.perf_counter() - started
    counts = Counter(dict(result.outputs("count")))
    if killed and mode == MODES.ATLEAST_ONCE:
        if not counts >= expected:
            raise AssertionError(f"{mode}: a word was lost after the kill of {victim}")
    elif counts != expected:
        raise AssertionError(f"{mode}: counts differ from collections.Counter")
    latencies = sorted(x for (x,) in result.outputs("count", "latency"))
    recovery = None
    if killed:
        firsts = [at for t, at in result.outputs(victim, "started") if t == task and at > killed[0]]
        recovery = min(firsts) - killed[0] if firsts else None
    return words / elapsed, latencies, recovery


def _percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


def measure(quick: bool = False, peers: bool = False, words: int | None = None,
            runs: int | None = None) -> Result:
    """Each mode ``runs`` times, then (but for ATMOST_ONCE, which loses the killed task's
    tuples, and in a quick run, too short to kill anything mid-run) once more with a count
    task killed mid-run."""
    words = words or (60_000 if quick else 300_000)
    runs = runs or (1 if quick else 3)
    sentences = make_sentences(words)
    words = len(sentences) * 10
    expected = Counter(w for s in sentences for w in s.split())
    result = Result("reliability", f"word count by reliability mode, {words:,} words, 2 "
                    "containers; words/s include start-up; latency spout emit -> count")
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write("\n".join(sentences) + "\n")
        f.flush()
        for mode in (MODES.ATMOST_ONCE, MODES.ATLEAST_ONCE, MODES.EFFECTIVELY_ONCE):
            system = f"heronpy, {mode}"
            for _ in range(runs):
                rate, latencies, _ = run(f.name, words, expected, mode, None)
                result.add(system, "words/s", rate)
                result.add(system, "p50 ms", _percentile(latencies, 0.5), False)
                result.add(system, "p99 ms", _percentile(latencies, 0.99), False)
            if mode != MODES.ATMOST_ONCE and not quick:
                _, _, recovery = run(f.name, words, expected, mode, kill_after=1.5)
                if recovery is not None:
                    result.add(system, "recovery s", recovery, False)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(measure(words=args.words, runs=args.runs).table())


if __name__ == "__main__":
    main()
