"""What the peer programs share. They run under a peer's own python (no heronpy there), with
this folder on ``PYTHONPATH``; each takes its parameters as JSON in ``$HERONPY_PEER`` and
writes one JSON report per worker into the folder ``PARAMS["out"]``."""

from __future__ import annotations

import json
import os
import time
from array import array
from collections.abc import Iterable
from pathlib import Path

PARAMS = json.loads(os.environ["HERONPY_PEER"])
_started: list[float] = []


def started() -> None:
    """Notes the time of this process's first call: when its first input item was seen."""
    if not _started:
        _started.append(time.time())


def report(name: str, **fields) -> None:
    """Writes ``fields`` as this worker's report, with when ``started`` was first called and
    when this was called (its work ended)."""
    fields.setdefault("started", _started[0] if _started else None)
    fields.setdefault("ended", time.time())
    Path(PARAMS["out"], f"{os.getpid()}-{name}.json").write_text(json.dumps(fields))


class Schedule:
    """The spout of benchmarks/passthrough.py: tuples (seq, due, warm-up?). At ``rate`` > 0,
    tuple i is due at start + i / rate and stamped with that due time, for ``seconds`` after
    ``warmup`` seconds; at rate 0, ``total`` tuples go out flat out, ``batch`` at a time,
    stamped with the time they go out."""

    def __init__(self) -> None:
        self.rate = float(PARAMS["rate"])
        self.end = float(PARAMS["seconds"]) + float(PARAMS["warmup"])
        self.warmup = float(PARAMS["warmup"])
        self.total, self.batch = int(PARAMS["total"]), int(PARAMS["batch"])
        self.seq = 0
        self.start: float | None = None

    def due(self) -> list[tuple[int, float, bool]]:
        """Whatever is due now (maybe nothing); raises StopIteration at the end."""
        now = time.time()
        if self.start is None:
            self.start = now
        if not self.rate:
            if self.seq >= self.total:
                raise StopIteration
            stop = min(self.seq + self.batch, self.total)
            out = [(seq, now, False) for seq in range(self.seq, stop)]
        else:
            if now - self.start >= self.end:
                raise StopIteration
            start, rate, warmup = self.start, self.rate, self.warmup
            stop = int((now - start) * rate) + 1
            out = [(seq, start + seq / rate, seq / rate < warmup)
                   for seq in range(self.seq, stop)]
        self.seq = stop
        return out

    def next_due(self) -> float | None:
        """When the next tuple is due; None when flat out or not started."""
        if not self.rate or self.start is None:
            return None
        return self.start + self.seq / self.rate


class Recorder:
    """The sink of benchmarks/passthrough.py: counts tuples and sums their sequence numbers
    (each must arrive exactly once) and keeps arrival - due of those after the warm-up."""

    def __init__(self) -> None:
        self.count = self.seq_sum = 0
        self.first: float | None = None
        self.latencies = array("d")

    def record(self, items: Iterable[tuple[int, float, bool]]) -> None:
        """``items`` arrived now."""
        now = time.time()
        latencies = self.latencies
        for seq, due, warmup in items:
            self.count += 1
            self.seq_sum += seq
            if not warmup:
                if self.first is None:
                    self.first = now
                latencies.append(now - due)

    def report(self, name: str) -> None:
        """The report, with the latencies (seconds, float64) in a file beside it."""
        path = Path(PARAMS["out"], f"{os.getpid()}-{name}.latencies")
        with open(path, "wb") as f:
            self.latencies.tofile(f)
        report(name, count=self.count, seq_sum=self.seq_sum, first=self.first,
               latencies=path.name)
