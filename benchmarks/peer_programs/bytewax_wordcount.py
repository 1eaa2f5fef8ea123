"""Word count in bytewax: sentence files (one partition each) -> split -> ``count_final``,
which emits each word's count once its input ends, as heronpy's count bolt does."""

from __future__ import annotations

from pathlib import Path

import bytewax.operators as op
from bytewax.connectors.files import DirSource
from bytewax.dataflow import Dataflow
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from common import PARAMS, report, started


def split(line: str) -> list[str]:
    started()
    return line.split()


class CountsPartition(StatelessSinkPartition):
    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: dict[str, int] = {}

    def write_batch(self, items: list[tuple[str, int]]) -> None:
        self.counts.update(items)

    def close(self) -> None:
        report(self.name, counts=self.counts)


class CountsSink(DynamicSink):
    def build(self, step_id: str, worker_index: int, worker_count: int) -> CountsPartition:
        return CountsPartition(f"worker{worker_index}")


flow = Dataflow("wordcount")
lines = op.input("sentences", flow, DirSource(Path(PARAMS["folder"]), PARAMS["files"],
                                              batch_size=int(PARAMS["batch"])))
words = op.flat_map("split", lines, split)
counts = op.count_final("count", words, lambda word: word)
op.output("counts", counts, CountsSink())
