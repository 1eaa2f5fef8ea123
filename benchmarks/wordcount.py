"""Word count throughput, end to end: heronpy with 1 and 2 containers vs a plain Python loop,
a numpy loop and (``--peers``) bytewax, streamz and PyFlink.

    python -m benchmarks.wordcount [--words 2000000] [--runs 3] [--peers]

The topology is sentences (read from a file) -> split (shuffle) -> count (fields on "word").
Figures per run: ``steady`` is words / (last count task's end - spout's first tuple);
``wall`` is words / the whole ``heronpy.local.run`` call, process start-up and shutdown
included; ``start-up s`` is from launching to the first sentence read. The serial Python loop
(the COST baseline) and the numpy loop (``np.unique``) get the sentences already in memory.

The peers (``benchmarks/peer_programs/*_wordcount.py``, each in its own venv, see
``benchmarks.peers``) read the same sentences from files and report the same ``steady`` and
``start-up s`` (their first sentence read, their last count done):
- bytewax 0.21: ``DirSource`` over two part files (batches of ``BYTEWAX_BATCH`` lines) ->
  ``flat_map`` split -> ``count_final``, in 1 process and in 2 (``-i``/``-a``, a key exchange).
- streamz 0.6: emit each sentence -> ``map(str.split)`` -> ``flatten`` -> ``accumulate`` into
  one dict (its own ``frequencies`` copies the dict on every word).
- PyFlink 2.3 DataStream, streaming mode, parallelism 1: file source -> Python ``flat_map`` ->
  ``key_by`` -> Python ``reduce`` (a running count) -> ``print``; Python in thread mode (~30x
  its process mode here); its job start-up (a JVM, a mini cluster) is the ``start-up s``.
  Skipped, with the reason printed, when there is no Java.
Every run of every system checks its final count per word against collections.Counter before
reporting.
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

import heronpy.local
from benchmarks.peers import (
    bytewax_processes,
    bytewax_python,
    pyflink_python,
    run_program,
    script,
    streamz_python,
)
from benchmarks.suite import Result
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder

SENTENCE_WORDS = 10
BYTEWAX_BATCH = 10_000  # lines (100,000 words) per batch: x2-3 the words/s of 1,000 here


def make_sentences(words: int, vocabulary: int = 10_000, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(vocabulary)]
    return [" ".join(rng.choices(vocab, k=SENTENCE_WORDS))
            for _ in range(words // SENTENCE_WORDS)]


class SentenceSpout(Spout):
    """Reads sentences from a text file, one per line, as a log-tailing spout would."""

    outputs = ["sentence", Stream(["started"], name="timing")]

    def initialize(self, config, context):
        self.lines = open(config["bench.input"])  # noqa: SIM115 - read until the end
        self.started = False

    def next_tuple(self):
        if not self.started:
            self.started = True
            self.emit([time.time()], stream="timing")
        for line in self.lines:
            self.emit([line.rstrip("\n")])
            return
        self.lines.close()
        raise StopIteration


class SplitBolt(Bolt):
    outputs = ["word"]

    def process(self, tup):
        emit = self.emit
        for word in tup.values[0].split():
            emit([word])


class CountBolt(Bolt):
    outputs = ["word", "count", Stream(["ended"], name="timing")]

    def initialize(self, config, context):
        self.counts = Counter()

    def process(self, tup):
        self.counts[tup.values[0]] += 1

    def end_of_stream(self):
        self.emit([time.time()], stream="timing")
        for word, count in self.counts.items():
            self.emit([word, count])


def topology(path: str, containers: int, split: int = 2, count: int = 3) -> TopologyBuilder:
    builder = TopologyBuilder("wordcount_bench")
    spout = builder.add_spout("sentences", SentenceSpout, par=1)
    splitter = builder.add_bolt("split", SplitBolt, par=split, inputs={spout: Grouping.SHUFFLE})
    builder.add_bolt("count", CountBolt, par=count, inputs={splitter: Grouping.fields("word")})
    builder.set_config({"topology.stmgrs": containers, "bench.input": path})
    return builder


def run_heronpy(path: str, words: int, containers: int,
                expected: Counter) -> tuple[float, float, float]:
    """Returns (steady words/s, wall words/s, start-up s) after checking the counts."""
    launched, started = time.time(), time.perf_counter()
    result = heronpy.local.run(topology(path, containers), timeout=600)
    wall = time.perf_counter() - started
    check("heronpy", Counter(dict(result.outputs("count"))), expected)
    first = min(t for (t,) in result.outputs("sentences", "timing"))
    last = max(t for (t,) in result.outputs("count", "timing"))
    return words / (last - first), words / wall, first - launched


def check(name: str, counts: Counter, expected: Counter) -> None:
    if counts != expected:
        wrong = sorted(w for w in counts.keys() | expected.keys()
                       if counts.get(w) != expected.get(w))
        raise AssertionError(f"{name}: {len(wrong)} word counts differ from collections.Counter, "
                             f"e.g. {wrong[0]}: {counts.get(wrong[0])} != "
                             f"{expected.get(wrong[0])}")


def run_serial(sentences: list[str]) -> tuple[float, Counter]:
    """The COST baseline: one Python loop, one process."""
    started = time.perf_counter()
    counts: Counter = Counter()
    for sentence in sentences:
        for word in sentence.split():
            counts[word] += 1
    return sum(counts.values()) / (time.perf_counter() - started), counts


def run_numpy(sentences: list[str]) -> tuple[float, Counter]:
    """The vectorised baseline: split, then ``np.unique`` over all words, one process."""
    started = time.perf_counter()
    words, counts = np.unique(np.array(" ".join(sentences).split()), return_counts=True)
    elapsed = time.perf_counter() - started
    return int(counts.sum()) / elapsed, Counter(dict(zip(words.tolist(), counts.tolist(),
                                                         strict=True)))


def peer_commands(pythons: dict[str, Path | None],
                  folder: Path) -> list[tuple[str, list[list[str]], dict]]:
    """(system, command lines, parameters) of each peer; made anew for every run, as
    bytewax's processes need free ports."""
    commands = []
    if python := pythons.get("bytewax"):
        params = {"folder": str(folder), "files": "part*.txt", "batch": BYTEWAX_BATCH}
        commands += [(f"bytewax -p {n}, batch {BYTEWAX_BATCH:,}",
                      bytewax_processes(python, "bytewax_wordcount.py", n), params)
                     for n in (1, 2)]
    if python := pythons.get("streamz"):
        commands.append(("streamz", script(python, "streamz_wordcount.py"),
                         {"input": str(folder / "all.txt")}))
    if python := pythons.get("pyflink"):
        commands.append(("PyFlink, thread mode, parallelism 1",
                         script(python, "pyflink_wordcount.py"),
                         {"input": str(folder / "all.txt"), "mode": "thread", "parallelism": 1}))
    return commands


PRINTED = re.compile(r"^(?:\d+> )?\((.+),(\d+)\)$", re.MULTILINE)  # "(word,count)", "2> (...)"


def run_peer(name: str, argvs: list[list[str]], params: dict, words: int,
             expected: Counter) -> tuple[float, float]:
    """Returns (steady words/s, start-up s) after checking the counts: those its workers
    reported plus the running counts it printed (PyFlink), the last one per word."""
    with tempfile.TemporaryDirectory(prefix="wordcount-peer-") as out:
        run = run_program(argvs, params, Path(out), timeout=3600)
        counts: Counter = Counter()
        for report in run.reports:
            counts.update(report.get("counts", {}))
        for stdout in Path(out).glob("stdout-*.txt"):
            for word, count in PRINTED.findall(stdout.read_text()):
                counts[word] = max(counts[word], int(count))
    check(name, counts, expected)
    first = min(r["started"] for r in run.reports if r["started"] is not None)
    last = max(r["ended"] for r in run.reports)
    return words / (last - first), first - run.launched


def measure(quick: bool = False, peers: bool = False, words: int | None = None,
            runs: int | None = None) -> Result:
    """Serial and numpy loops, heronpy with 1 and 2 containers and (``peers``) the peers,
    taking turns each run."""
    words = words or (200_000 if quick else 2_000_000)
    runs = runs or (1 if quick else 3)
    sentences = make_sentences(words)
    words = len(sentences) * SENTENCE_WORDS
    result = Result("wordcount", f"{words:,} words, 10,000-word vocabulary, sentences -> split "
                    "(par 2, shuffle) -> count (par 3, fields); words/s in steady state, "
                    "start-up apart")
    expected = Counter(word for sentence in sentences for word in sentence.split())
    pythons = ({"bytewax": bytewax_python(), "streamz": streamz_python(),
                "pyflink": pyflink_python()} if peers else {})
    with tempfile.TemporaryDirectory(prefix="wordcount-bench-") as scratch:
        folder = Path(scratch)
        (folder / "all.txt").write_text("\n".join(sentences) + "\n")
        for part in (0, 1):  # bytewax's partitions
            (folder / f"part{part}.txt").write_text("\n".join(sentences[part::2]) + "\n")
        for _ in range(runs):
            for containers in (2, 1):  # the first heronpy figure is what ratios compare
                steady, wall, startup = run_heronpy(str(folder / "all.txt"), words, containers,
                                                    expected)
                result.add(f"heronpy, {containers} container(s)", "words/s", steady)
                result.add(f"heronpy, {containers} container(s)", "words/s incl. start-up", wall)
                result.add(f"heronpy, {containers} container(s)", "start-up s", startup,
                           higher_is_better=False)
            for name, baseline in (("plain Python loop (1 process)", run_serial),
                                   ("numpy loop (1 process)", run_numpy)):
                rate, counts = baseline(sentences)
                check(name, counts, expected)
                result.add(name, "words/s", rate)
            for name, argvs, params in peer_commands(pythons, folder):
                steady, startup = run_peer(name, argvs, params, words, expected)
                result.add(name, "words/s", steady)
                result.add(name, "start-up s", startup, higher_is_better=False)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peers", action="store_true", help="also bytewax, streamz, PyFlink")
    args = parser.parse_args()
    print(measure(words=args.words, runs=args.runs, peers=args.peers).table())


if __name__ == "__main__":
    main()
