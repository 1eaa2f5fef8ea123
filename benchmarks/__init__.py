"""heronpy benchmarks: each prints its figures next to peers measured in the same run."""
