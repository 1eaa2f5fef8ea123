"""Processes of a running topology: topology master, executors, the local launcher."""
