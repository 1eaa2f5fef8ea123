"""The run directory of one topology: the package, the plan, sockets, logs and outputs.

Every process of a topology finds what it needs here; on a cluster it lives on a shared file
system. The control plane reads ``layout.json`` (plain data); only task processes unpickle
``topology.pkg``, which holds the user's classes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import uuid
from dataclasses import dataclass

import cloudpickle

from heronpy import config
from heronpy.topology.physical import PhysicalPlan
from heronpy.transport import zeromq


@dataclass(frozen=True)
class RunDir:
    path: str

    @classmethod
    def create(cls, plan: PhysicalPlan, parent: str | None = None) -> RunDir:
        """Writes the package and the layout into a new directory."""
        rundir = cls(tempfile.mkdtemp(prefix="heronpy-", dir=parent))
        for sub in ("sock", "logs", "outputs"):
            os.mkdir(os.path.join(rundir.path, sub))
        rundir._write(plan, "")
        return rundir

    def stage(self, plan: PhysicalPlan) -> str:
        """Writes ``plan`` beside the running one (``heronpy update``); returns its name for
        ``promote`` or ``discard``."""
        staged = f".next-{uuid.uuid4().hex}"
        self._write(plan, staged)
        return staged

    def promote(self, staged: str) -> None:
        """The staged plan becomes the plan: processes started from now on run it."""
        for path in (self.package, self._layout_file):
            os.replace(path + staged, path)

    def discard(self, staged: str) -> None:
        for path in (self.package, self._layout_file):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path + staged)

    def _write(self, plan: PhysicalPlan, suffix: str) -> None:
        with open(self.package + suffix, "wb") as f:
            cloudpickle.dump(plan, f)
        layout = {
            "name": plan.logical.name,
            "containers": plan.num_containers,
            "tasks": {t.task_id: [t.component, t.index, t.container] for t in plan.tasks.values()},
            "retired": plan.retired,
            "spouts": [c.name for c in plan.logical.components.values() if c.is_spout],
            "config": {k: v for k, v in plan.logical.config.items()
                       if isinstance(v, (str, int, float, bool))},
        }
        with open(self._layout_file + suffix, "w") as f:
            json.dump(layout, f)

    def layout(self) -> dict:
        with open(self._layout_file) as f:
            layout = json.load(f)
        layout["tasks"] = {int(t): v for t, v in layout["tasks"].items()}
        layout["retired"] = {int(t): c for t, c in layout["retired"].items()}
        return layout

    @property
    def _layout_file(self) -> str:
        return os.path.join(self.path, "layout.json")

    @property
    def package(self) -> str:
        return os.path.join(self.path, "topology.pkg")

    @property
    def tmaster_file(self) -> str:
        return os.path.join(self.path, "tmaster.json")

    def task_inbox(self, task: int) -> str:
        return zeromq.ipc_endpoint(self.path, f"task-{task}")

    def stmgr_inbox(self, container: int, spouts: bool = False) -> str:
        """Where a container's tasks send: spouts have their own inbox, which the stream
        manager stops reading under backpressure."""
        return zeromq.ipc_endpoint(self.path, f"stmgr-{container}{'-spouts' if spouts else ''}")

    def log(self, name: str) -> str:
        return os.path.join(self.path, "logs", f"{name}.log")

    def checkpoints(self, topology_config: dict) -> str:
        """Where EFFECTIVELY_ONCE checkpoints go: ``heronpy.checkpoint.dir`` (one folder per
        run inside it), else the run directory."""
        parent = topology_config.get(config.CHECKPOINT_DIR)
        if parent:
            return os.path.join(parent, os.path.basename(self.path))
        return os.path.join(self.path, "checkpoints")

    def outputs(self, task: int) -> str:
        return os.path.join(self.path, "outputs", f"task-{task}.msgpack")
