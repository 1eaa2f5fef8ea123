"""Word count in streamz: each sentence is emitted into source -> split -> flatten ->
accumulate (a running count per word, kept in one dict)."""

from __future__ import annotations

from collections import Counter

from common import PARAMS, report, started
from streamz import Stream


def count(counts: Counter, word: str) -> Counter:
    counts[word] += 1
    return counts


source = Stream()
counts = source.map(str.split).flatten().accumulate(count, start=Counter())
with open(PARAMS["input"]) as lines:
    started()
    for line in lines:
        source.emit(line)
report("streamz", counts=counts.state)
