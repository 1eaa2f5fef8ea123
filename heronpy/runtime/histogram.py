"""A latency histogram with log-linear buckets (HdrHistogram's layout): cheap to record, small,
and mergeable across tasks, so percentiles of a whole topology come from adding counts.

Values (seconds, or any unit ≥ 0) are kept with ``SIGNIFICANT_BITS`` bits of precision: each
power of two is cut into 2**SIGNIFICANT_BITS buckets, so a reported percentile is within
1 / 2**SIGNIFICANT_BITS (0.8 % at 7 bits) of a recorded value. Values are stored as integer
multiples of ``resolution`` (default 1 µs), from 0 to 2**63 resolutions.

>>> h = Histogram()
>>> h.record_many([0.001, 0.002, 0.003, 0.100])
>>> round(h.percentile(50), 4), h.count
(0.002, 4)
"""

from __future__ import annotations

import numpy as np

SIGNIFICANT_BITS = 7
_SUB = 1 << SIGNIFICANT_BITS
_BUCKETS = (64 - SIGNIFICANT_BITS + 1) * _SUB


class Histogram:
    def __init__(self, resolution: float = 1e-6):
        self.resolution = resolution
        self.counts = np.zeros(_BUCKETS, dtype=np.int64)

    @property
    def count(self) -> int:
        return int(self.counts.sum())

    def record(self, value: float, times: int = 1) -> None:
        """Records ``value`` (``times`` times: e.g. a batch's mean, once per tuple)."""
        if not value >= 0:
            raise ValueError("a histogram records values >= 0 only")
        units = int(min(value / self.resolution, 2.0**63 - 1))
        shift = max(units.bit_length() - 1 - SIGNIFICANT_BITS, 0)  # as _index, without numpy:
        self.counts[shift * _SUB + (units >> shift)] += times  # called once per input frame

    def record_many(self, values) -> None:
        """Records many values at once (a numpy array or any sequence of numbers)."""
        units = np.asarray(values, dtype=np.float64) / self.resolution
        if units.size and (np.isnan(units).any() or units.min() < 0):
            raise ValueError("a histogram records values >= 0 only")
        np.add.at(self.counts, _index(np.minimum(units, 2.0**63 - 1).astype(np.int64)), 1)

    def merge(self, other: Histogram) -> Histogram:
        """Adds ``other``'s counts to this histogram (same resolution); returns self."""
        if other.resolution != self.resolution:
            raise ValueError("cannot merge histograms of different resolutions")
        self.counts += other.counts
        return self

    def percentile(self, q: float) -> float:
        """The value below which ``q`` percent of the recorded values fall (the bucket's
        midpoint); NaN when empty."""
        total = self.count
        if total == 0:
            return float("nan")
        rank = max(1, int(np.ceil(q / 100 * total)))
        index = int(np.searchsorted(np.cumsum(self.counts), rank))
        low, high = _bounds(index)
        return (low + high) / 2 * self.resolution

    def to_dict(self) -> dict:
        """A compact, msgpack-friendly form: the non-empty buckets only."""
        (nonzero,) = np.nonzero(self.counts)
        return {"resolution": self.resolution, "buckets": nonzero.tolist(),
                "counts": self.counts[nonzero].tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> Histogram:
        histogram = cls(data["resolution"])
        histogram.counts[np.asarray(data["buckets"], dtype=np.int64)] = data["counts"]
        return histogram


def _index(units: np.ndarray) -> np.ndarray:
    """Bucket of each integer value: exact below 2 * _SUB; above, a value v with
    2**e <= v < 2**(e+1) is shifted right by e - SIGNIFICANT_BITS, keeping its top bits."""
    exponent = np.floor(np.log2(np.maximum(units, 1))).astype(np.int64)
    shift = np.maximum(exponent - SIGNIFICANT_BITS, 0)
    return shift * _SUB + (units >> shift)


def _bounds(index: int) -> tuple[int, int]:
    """The range [low, high) of integer values in bucket ``index``."""
    if index < 2 * _SUB:
        return index, index + 1
    shift = index // _SUB - 1
    top = index - shift * _SUB
    return top << shift, (top + 1) << shift
