"""Word count throughput, end to end: heronpy with 1 and 2 containers vs a plain Python loop.

    python -m benchmarks.wordcount [--words 2000000] [--runs 3]

The topology is sentences (read from a file) -> split (shuffle) -> count (fields on "word").
Two figures per run: ``steady`` is words / (last count task's end - spout's first tuple);
``wall`` is words / the whole ``heronpy.local.run`` call, process start-up and shutdown
included. The serial loop gets the sentences already in memory. Every run checks its counts
against collections.Counter before reporting.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections import Counter

import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder

SENTENCE_WORDS = 10


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


def run_heronpy(path: str, words: int, containers: int, expected: Counter) -> tuple[float, float]:
    """Returns (steady words/s, wall words/s) after checking the counts."""
    started = time.perf_counter()
    result = heronpy.local.run(topology(path, containers), timeout=600)
    wall = time.perf_counter() - started
    counts = Counter(dict(result.outputs("count")))
    if counts != expected:
        raise AssertionError("heronpy word counts differ from collections.Counter")
    first = min(t for (t,) in result.outputs("sentences", "timing"))
    last = max(t for (t,) in result.outputs("count", "timing"))
    return words / (last - first), words / wall


def run_serial(sentences: list[str]) -> tuple[float, Counter]:
    """The COST baseline: one Python loop, one process."""
    started = time.perf_counter()
    counts: Counter = Counter()
    for sentence in sentences:
        for word in sentence.split():
            counts[word] += 1
    return sum(counts.values()) / (time.perf_counter() - started), counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sentences = make_sentences(args.words)
    words = len(sentences) * SENTENCE_WORDS
    rows: dict[str, list[float]] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write("\n".join(sentences) + "\n")
        f.flush()
        for _ in range(args.runs):
            rate, expected = run_serial(sentences)
            rows.setdefault("plain Python loop (1 process)", []).append(rate)
            for containers in (1, 2):
                steady, wall = run_heronpy(f.name, words, containers, expected)
                rows.setdefault(f"heronpy, {containers} container(s), steady", []).append(steady)
                rows.setdefault(f"heronpy, {containers} container(s), wall", []).append(wall)
    print(f"word count, {words:,} words, 10,000-word vocabulary, {args.runs} runs "
          "(split par 2, count par 3)")
    print(f"{'system':<42} {'min':>12} {'median':>12} {'max':>12}  words/s")
    for name, rates in rows.items():
        print(f"{name:<42} {min(rates):>12,.0f} {statistics.median(rates):>12,.0f} "
              f"{max(rates):>12,.0f}")


if __name__ == "__main__":
    main()
