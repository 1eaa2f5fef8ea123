"""The per-container stream manager: frame routing between tasks and containers."""
