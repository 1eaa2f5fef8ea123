"""The latency histogram: percentiles within its precision, merging, its compact form."""

import numpy as np
import pytest

from heronpy.runtime.histogram import SIGNIFICANT_BITS, Histogram, _bounds, _index

PRECISION = 1 / (1 << SIGNIFICANT_BITS)


def test_buckets_tile_the_integers():
    values = np.unique(np.concatenate([np.arange(5000), np.logspace(3, 18, 2000).astype(np.int64),
                                       [2**62, 2**63 - 1]]))
    for value, index in zip(values.tolist(), _index(values).tolist(), strict=True):
        low, high = _bounds(index)
        assert low <= value < high
        assert high - low <= max(1, value * PRECISION)


@pytest.mark.parametrize("q", [1, 50, 90, 99, 99.9, 100])
def test_percentiles_match_numpy_within_the_precision(q):
    rng = np.random.default_rng(1)
    samples = rng.lognormal(mean=-7, sigma=1.5, size=100_000)  # seconds: ~1 ms, long tail
    histogram = Histogram()
    histogram.record_many(samples)
    exact = np.percentile(samples, q, method="inverted_cdf")
    assert histogram.percentile(q) == pytest.approx(exact, rel=PRECISION, abs=1e-6)


def test_merged_histograms_equal_one_histogram_of_everything():
    rng = np.random.default_rng(2)
    parts = [rng.exponential(0.01, size=n) for n in (10, 1000, 5000)]
    merged = Histogram()
    for part in parts:
        h = Histogram()
        h.record_many(part)
        merged.merge(Histogram.from_dict(h.to_dict()))
    whole = Histogram()
    whole.record_many(np.concatenate(parts))
    assert np.array_equal(merged.counts, whole.counts) and merged.count == 6010
    assert len(whole.to_dict()["buckets"]) < 2000  # compact: only non-empty buckets


def test_a_value_recorded_many_times_counts_that_many():
    h = Histogram()
    h.record(0.002, times=1000)
    h.record(0.5)
    assert h.count == 1001
    assert h.percentile(99) == pytest.approx(0.002, rel=PRECISION)
    assert h.percentile(100) == pytest.approx(0.5, rel=PRECISION)


def test_bad_values_and_empty_histograms():
    h = Histogram()
    assert np.isnan(h.percentile(50))
    with pytest.raises(ValueError, match=">= 0"):
        h.record(-1.0)
    with pytest.raises(ValueError, match="different resolutions"):
        h.merge(Histogram(resolution=1e-9))


def test_recording_one_value_lands_in_the_bucket_many_values_do():
    values = np.concatenate([np.arange(0, 3000) * 1e-6, np.logspace(-6, 6, 500)])
    one_by_one, all_at_once = Histogram(), Histogram()
    for value in values.tolist():
        one_by_one.record(value)
    all_at_once.record_many(values)
    assert np.array_equal(one_by_one.counts, all_at_once.counts)
