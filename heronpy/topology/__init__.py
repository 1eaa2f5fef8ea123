"""Plans: the validated logical plan and its packing into containers (pure data, no I/O)."""
