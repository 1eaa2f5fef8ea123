"""The run directory of one topology: the package, the plan, sockets, logs and outputs.

Every process of a topology finds what it needs here; on a cluster it lives on a shared file
system. The control plane reads ``layout.json`` (plain data); only task processes unpickle
``topology.pkg``, which holds the user's classes.
"""

from __future__ import annotations

import json
import os
import tempfile
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
        with open(rundir.package, "wb") as f:
            cloudpickle.dump(plan, f)
        layout = {
            "name": plan.logical.name,
            "containers": plan.num_containers,
            "tasks": {t.task_id: [t.component, t.index, t.container] for t in plan.tasks.values()},
            "spouts": [c.name for c in plan.logical.components.values() if c.is_spout],
            "config": {k: v for k, v in plan.logical.config.items()
                       if isinstance(v, (str, int, float, bool))},
        }
        with open(os.path.join(rundir.path, "layout.json"), "w") as f:
            json.dump(layout, f)
        return rundir

    def layout(self) -> dict:
        with open(os.path.join(self.path, "layout.json")) as f:
            layout = json.load(f)
        layout["tasks"] = {int(t): v for t, v in layout["tasks"].items()}
        return layout

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
