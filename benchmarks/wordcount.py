"""Word count throughput, end to end: heronpy with 1 and 2 containers vs a plain Python loop.

    python -m benchmarks.wordcount [--words 2000000] [--runs 3]

The topology is sentences (read from a file) -> split (shuffle) -> count (fields on "word").
Two figures per run: ``steady`` is words / (last count task's end - spout's first tuple);
``wall`` is words / the whole ``heronpy.local.run`` call, process start-up and shutdown
included. The serial Python loop (the COST baseline) and the numpy loop (``np.unique``) get
the sentences already in memory. Every run checks its counts
against collections.Counter before reporting.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter

import numpy as np

import heronpy.local
from benchmarks.suite import Result
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


def run_numpy(sentences: list[str]) -> tuple[float, Counter]:
    """The vectorised baseline: split, then ``np.unique`` over all words, one process."""
    started = time.perf_counter()
    words, counts = np.unique(np.array(" ".join(sentences).split()), return_counts=True)
    elapsed = time.perf_counter() - started
    return int(counts.sum()) / elapsed, Counter(dict(zip(words.tolist(), counts.tolist(),
                                                         strict=True)))


def measure(quick: bool = False, peers: bool = False, words: int | None = None,
            runs: int | None = None) -> Result:
    """Serial and numpy loops and heronpy with 1 and 2 containers, taking turns each run."""
    words = words or (200_000 if quick else 2_000_000)
    runs = runs or (1 if quick else 3)
    sentences = make_sentences(words)
    words = len(sentences) * SENTENCE_WORDS
    result = Result("wordcount", f"{words:,} words, 10,000-word vocabulary, sentences -> split "
                    "(par 2, shuffle) -> count (par 3, fields); words/s")
    expected = Counter(word for sentence in sentences for word in sentence.split())
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write("\n".join(sentences) + "\n")
        f.flush()
        for _ in range(runs):
            for containers in (2, 1):  # the first heronpy figure is what ratios compare
                steady, wall = run_heronpy(f.name, words, containers, expected)
                result.add(f"heronpy, {containers} container(s), steady", "words/s", steady)
                result.add(f"heronpy, {containers} container(s), wall", "words/s", wall)
            for name, baseline in (("plain Python loop (1 process)", run_serial),
                                   ("numpy loop (1 process)", run_numpy)):
                rate, counts = baseline(sentences)
                if counts != expected:
                    raise AssertionError(f"{name}: counts differ")
                result.add(name, "words/s", rate)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(measure(words=args.words, runs=args.runs).table())


if __name__ == "__main__":
    main()
