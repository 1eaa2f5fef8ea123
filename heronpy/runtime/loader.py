"""Turns what a user hands us (a file, a builder, a Topology class) into a logical plan.

A topology file runs as ``__main__`` (so Heron files that call ``build_and_submit()`` under
``if __name__ == "__main__"`` work); its components are then shipped to task processes by
value, which fixes Heron's "cannot import __main__" defect.
"""

from __future__ import annotations

import os
import runpy
import sys

from heronpy.api import topology as api_topology
from heronpy.api.topology import Topology, TopologyBuilder
from heronpy.streamlet.builder import Builder
from heronpy.topology.logical import InvalidTopologyError, LogicalPlan


def to_plan(topology) -> LogicalPlan:
    """Accepts a ``LogicalPlan``, ``TopologyBuilder``, ``Topology`` subclass or file path."""
    if isinstance(topology, LogicalPlan):
        return topology
    if isinstance(topology, TopologyBuilder):
        return topology.build()
    if isinstance(topology, type) and issubclass(topology, Topology) and topology is not Topology:
        return topology.logical_plan
    if isinstance(topology, (str, os.PathLike)):
        return load_file(os.fspath(topology))
    build = getattr(topology, "build_plan", None)  # other front ends (the Streamlet API)
    if callable(build):
        return build()
    raise TypeError(f"not a topology: {topology!r}")


def load_file(path: str, argv: list[str] | tuple = ()) -> LogicalPlan:
    """Runs the topology file and returns the topology it submits or defines."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no topology file {path!r}")
    submitted: list[LogicalPlan] = []
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)  # as `python FILE` would: its sibling modules import
    saved_hook, saved_argv = api_topology.submit_hook, sys.argv
    api_topology.submit_hook, sys.argv = submitted.append, [path, *argv]
    try:
        namespace = runpy.run_path(path, run_name="__main__")
    finally:
        api_topology.submit_hook, sys.argv = saved_hook, saved_argv
    if not submitted:
        submitted = [to_plan(value) for value in namespace.values() if _defines_topology(value)]
    if len(submitted) != 1:
        found = ", ".join(p.name for p in submitted) or "none"
        raise InvalidTopologyError(f"{path} must define exactly one topology (found: {found})")
    return submitted[0]


def _defines_topology(value) -> bool:
    if isinstance(value, (TopologyBuilder, Builder)):
        return True
    return (isinstance(value, type) and issubclass(value, Topology) and value is not Topology
            and value.__module__ == "__main__")
