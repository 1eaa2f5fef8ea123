"""The ``heronpy`` command: submit, list, kill, deactivate, activate, restart, update, status and
explain topologies; fabric-info for the libfabric providers of this machine."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from heronpy import __version__, config, local
from heronpy.api import api_constants
from heronpy.config import CAPTURE_OUTPUTS
from heronpy.runtime.errors import UpdateFailed
from heronpy.runtime.histogram import Histogram
from heronpy.runtime.launcher import RunningTopology, RunResult, child_environment
from heronpy.runtime.loader import load_file
from heronpy.runtime.rundir import RunDir
from heronpy.scheduler import SCHEDULERS, runs
from heronpy.scheduler.base import Job, JobProcesses, Scheduler, SchedulerError
from heronpy.scheduler.local import LocalScheduler
from heronpy.scheduler.mesos import MesosScheduler
from heronpy.scheduler.run import run
from heronpy.scheduler.slurm import SlurmScheduler
from heronpy.topology.logical import InvalidTopologyError, LogicalPlan
from heronpy.topology.physical import PhysicalPlan
from heronpy.transport import fabric, peers

_SHOWN_OUTPUTS = 10
_STATUS_WINDOW_SECS = 3.0


def config_pair(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` (VALUE as JSON, else as a string), for ``--config`` options."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, given {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _parallelism_pair(text: str) -> tuple[str, int]:
    component, sep, count = text.rpartition(":")
    if not sep or not component or not count.isdigit():
        raise argparse.ArgumentTypeError(f"expected COMPONENT:N, given {text!r}")
    return component, int(count)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="heronpy", description=__doc__)
    parser.add_argument("--version", action="version", version=f"heronpy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def topology_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("file", help="the topology file (a heronpy / Heron Python topology)")
        p.add_argument("args", nargs="*", help="arguments the file sees in sys.argv[1:]")
        p.add_argument("--config", action="append", type=config_pair, default=[],
                       metavar="KEY=VALUE", help="override a topology config value (JSON value)")
        p.add_argument("--containers", type=int, help="number of containers (topology.stmgrs)")

    submit = commands.add_parser("submit", help="run a topology until it ends")
    clusters = submit.add_subparsers(dest="cluster", required=True, metavar="CLUSTER")
    submit_local = clusters.add_parser("local", help="on this machine")
    submit_slurm = clusters.add_parser(
        "slurm", help="as a Slurm batch job, one container per node (see docs/slurm.md)")
    submit_mesos = clusters.add_parser(
        "mesos", help="as a Mesos framework, one task per container (see docs/mesos.md)")
    for p in (submit_local, submit_slurm, submit_mesos):
        topology_args(p)
        p.add_argument("--timeout", type=float, help="stop after this many seconds")
    submit_local.add_argument("--detach", action="store_true",
                              help="run in the background; manage it with heronpy status, "
                                   "deactivate, activate and kill")
    for p in (submit_slurm, submit_mesos):
        p.add_argument("--rundir-parent", metavar="DIR",
                       help="where to write the run directory, on a file system every node "
                            f"sees (default: {runs.RUNS_DIR})")
    submit_mesos.add_argument("--master", required=True, metavar="URL",
                              help="the Mesos master, http://HOST:5050")
    submit_slurm.add_argument("--nodes", type=int,
                              help="nodes to spread the containers over (default: one each)")
    submit_slurm.add_argument("--partition", help="the Slurm partition")
    submit_slurm.add_argument("--time", help="the job's time limit (as sbatch --time takes it)")
    submit_slurm.add_argument("--sbatch-arg", action="append", default=[], metavar="ARG",
                              help="pass ARG to sbatch (repeat; --sbatch-arg=--exclusive)")
    kill = commands.add_parser("kill", help="stop a submitted topology")
    kill.add_argument("topology", help="its name or job id (as `heronpy list` shows them)")
    for name, text in (("deactivate", "pause a running topology's spouts (in-flight tuples drain)"),
                       ("activate", "resume a deactivated topology's spouts"),
                       ("status", "containers, tasks and per-component throughput")):
        command = commands.add_parser(name, help=text)
        command.add_argument("topology", help="its name or job id (as `heronpy list` shows them)")
    restart = commands.add_parser(
        "restart", help="restart a running topology's processes, as if they had died")
    restart.add_argument("topology", help="its name or job id (as `heronpy list` shows them)")
    restart.add_argument("--container", type=int, help="only this container's (default: all)")
    update = commands.add_parser(
        "update", help="rescale a running topology; its state is kept (see docs/lifecycle.md)")
    update.add_argument("topology", help="its name or job id (as `heronpy list` shows them)")
    update.add_argument("--component-parallelism", action="append", required=True,
                        type=_parallelism_pair, metavar="COMPONENT:N",
                        help="the component's new number of tasks (repeat for several)")
    commands.add_parser("list", help="the topologies submitted from this account, and their state")
    explain = commands.add_parser("explain", help="print the logical and physical plans")
    topology_args(explain)
    commands.add_parser("fabric-info", help="the libfabric providers here, and which ones "
                                            "heronpy.fabric.provider can name")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        if args.command == "kill":
            return _kill(args.topology)
        if args.command in ("deactivate", "activate", "status"):
            return _lifecycle(args.command, args.topology)
        if args.command == "restart":
            return _restart(args.topology, args.container)
        if args.command == "update":
            return _update(args.topology, dict(args.component_parallelism))
        if args.command == "fabric-info":
            return _fabric_info()
    except InvalidTopologyError as err:  # before ValueError, which it is
        print(f"heronpy: {err}", file=sys.stderr)
        return 2
    except (LookupError, SchedulerError, OSError, TimeoutError, UpdateFailed,
            ValueError) as err:
        print(f"heronpy: {err}", file=sys.stderr)
        return 1
    overrides = dict(args.config)
    if args.containers is not None:
        overrides[api_constants.TOPOLOGY_STMGRS] = args.containers
    if args.command == "submit":
        overrides = {CAPTURE_OUTPUTS: True, **overrides}
    try:
        plan = local.with_config(load_file(args.file, args.args), overrides)
    except (InvalidTopologyError, FileNotFoundError) as err:
        print(f"heronpy: {err}", file=sys.stderr)
        return 2
    if args.command == "explain":
        print(plan.describe())
        print(PhysicalPlan.pack(plan).describe())
        return 0
    return _submit(args, plan)


def _submit(args: argparse.Namespace, plan: LogicalPlan) -> int:
    if args.cluster == "local" and args.detach:
        return _detach(plan)
    recorded: list[Job] = []

    def submitted(job: Job) -> None:
        try:
            runs.record(job)
            recorded.append(job)
        except OSError as err:  # the run goes on, only `list` and `kill` will not see it
            print(f"heronpy: could not record the job in {runs.RUNS_DIR}: {err}", file=sys.stderr)
        where = {"slurm": f" as Slurm job {job.id}",
                 "mesos": f" as Mesos framework {job.id}"}.get(job.scheduler, "")
        print(f"heronpy: running topology '{plan.name}' in {plan.num_containers} "
              f"container(s){where}; Ctrl-C stops it", file=sys.stderr)

    try:
        scheduler, rundir_parent = _scheduler(args)
        result = run(scheduler, plan, args.timeout, rundir_parent, on_submit=submitted)
    except KeyboardInterrupt:
        print("heronpy: stopped", file=sys.stderr)
        return 130
    except (local.TopologyFailed, TimeoutError, SchedulerError, OSError) as err:
        print(f"heronpy: {err}", file=sys.stderr)
        return 1
    for job in recorded:  # its run directory is gone with the finished run
        runs.forget(job)
    _report(result)
    return 0


def _detach(plan: LogicalPlan) -> int:
    """Starts the topology under a background process (heronpy.scheduler.detached), records
    it for the other commands once its master is up, and returns."""
    rundir = RunDir.create(PhysicalPlan.pack(plan), runs.runs_dir())
    with open(rundir.log("detached"), "ab") as log:
        subprocess.Popen([sys.executable, "-m", "heronpy.scheduler.detached", rundir.path],
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=child_environment(), start_new_session=True)
    deadline = time.monotonic() + config.number(plan.config, config.START_TIMEOUT_SECS)
    while not os.path.exists(rundir.tmaster_file):
        if time.monotonic() > deadline:
            print(f"heronpy: the topology did not start (logs: {rundir.path}/logs)",
                  file=sys.stderr)
            return 1
        time.sleep(0.05)  # the master writes its endpoint file once it is up
    with open(rundir.tmaster_file) as f:
        job = Job("local", str(json.load(f)["pid"]), plan.name, rundir.path)
    runs.record(job)
    print(f"heronpy: topology '{plan.name}' runs in the background (local job {job.id}); "
          f"see heronpy status / deactivate / activate / kill {plan.name}", file=sys.stderr)
    return 0


def _scheduler(args: argparse.Namespace) -> tuple[Scheduler, str | None]:
    """The scheduler ``submit`` asked for, and where its run directory goes."""
    if args.cluster == "local":
        return LocalScheduler(), None
    for sig in (signal.SIGTERM, signal.SIGHUP):  # the job would outlive us: stop it too
        signal.signal(sig, signal.default_int_handler)
    if args.cluster == "mesos":
        scheduler: Scheduler = MesosScheduler(args.master)
    else:
        scheduler = SlurmScheduler(args.nodes, args.partition, args.time, args.sbatch_arg)
    return scheduler, args.rundir_parent or runs.runs_dir()


def _report(result: RunResult) -> None:
    for name, metrics in result.metrics.items():
        print(f"{name}: executed {metrics['executed']}, emitted {metrics['emitted']}")
        component = result.plan.logical.components[name]
        for stream in component.outputs:
            if result.plan.logical.consumers(name, stream):
                continue
            values = result.outputs(name, stream)
            for value in values[:_SHOWN_OUTPUTS]:
                print(f"  {stream}: {value}")
            if len(values) > _SHOWN_OUTPUTS:
                print(f"  {stream}: ... {len(values) - _SHOWN_OUTPUTS} more")


def _fabric_info() -> int:
    """Prints each provider libfabric offers here, its endpoint types and domains; heronpy
    needs a reliable-datagram (rdm) one."""
    try:
        offered = fabric.providers()
    except fabric.FabricUnavailable as err:
        print(f"heronpy: the fabric transport is unavailable here: {err}", file=sys.stderr)
        return 1
    rows = [("PROVIDER", "HERONPY CAN USE IT", "ENDPOINTS", "DOMAINS")]
    for name in dict.fromkeys(p["provider"] for p in offered):
        mine = [p for p in offered if p["provider"] == name]
        types = sorted({p["endpoint"] for p in mine})
        rows.append((name, "yes" if "rdm" in types else "no (no rdm endpoint)", ",".join(types),
                     " ".join(dict.fromkeys(p["domain"] for p in mine))))
    _print_rows(rows)
    transport = peers.setting({}, config.TRANSPORT)
    print(f"\nUnless a topology says otherwise, {config.TRANSPORT} is {transport!r} "
          f"({peers.ENVIRONMENT[config.TRANSPORT]}) and {config.FABRIC_PROVIDER} is "
          f"{peers.setting({}, config.FABRIC_PROVIDER)!r} "
          f"({peers.ENVIRONMENT[config.FABRIC_PROVIDER]}).\n"
          "shm works only when every container runs on one host.")
    return 0


def _print_rows(rows: list[tuple[str, ...]]) -> None:
    """Left-aligned columns; the last one as it is."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]))


def _list() -> int:
    rows = [("TOPOLOGY", "CLUSTER", "JOB", "STATE", "RUN DIRECTORY")]
    for job in runs.known():
        state = SCHEDULERS[job.scheduler]().status(job).state
        rows.append((job.name, job.scheduler, job.id, state, job.rundir))
    _print_rows(rows)
    return 0


def _kill(key: str) -> int:
    """Asks the topology's master to stop it, then has its scheduler end its job."""
    job = _find(key)
    scheduler = SCHEDULERS[job.scheduler]()
    RunningTopology(RunDir(job.rundir), JobProcesses(scheduler, job)).stop()
    print(f"heronpy: killed topology '{job.name}' ({job.scheduler} job {job.id})",
          file=sys.stderr)
    return 0


def _restart(key: str, container: int | None) -> int:
    job = _find(key)
    topology = RunningTopology(RunDir(job.rundir), JobProcesses(SCHEDULERS[job.scheduler](), job))
    try:
        topology.restart(container)
    finally:
        topology.close()
    what = "every container" if container is None else f"container {container}"
    print(f"heronpy: restarting {what} of topology '{job.name}'", file=sys.stderr)
    return 0


def _update(key: str, parallelism: dict[str, int]) -> int:
    job = _find(key)
    topology = RunningTopology(RunDir(job.rundir), JobProcesses(SCHEDULERS[job.scheduler](), job))
    try:
        plan = topology.update(parallelism)
    finally:
        topology.close()
    counts = ", ".join(f"{c} x{len(plan.component_tasks[c])}" for c in parallelism)
    print(f"heronpy: updated topology '{job.name}': {counts}", file=sys.stderr)
    return 0


def _lifecycle(command: str, key: str) -> int:
    """deactivate, activate or status: a request to the running topology's master."""
    job = _find(key)
    topology = RunningTopology(RunDir(job.rundir), JobProcesses(SCHEDULERS[job.scheduler](), job))
    try:
        if command != "status":
            getattr(topology, command)()
            print(f"heronpy: {command}d topology '{job.name}'", file=sys.stderr)
            return 0
        before, started = topology.status(), time.monotonic()
        time.sleep(_STATUS_WINDOW_SECS)  # tasks report every second: measure over a few
        after, elapsed = topology.status(), time.monotonic() - started
    finally:
        topology.close()
    print(f"topology '{job.name}' ({job.scheduler} job {job.id}): "
          f"{'active' if after['active'] else 'deactivated'}, "
          f"{len(after['registered'])}/{after['containers']} containers running"
          f"{', lost: ' + str(after['lost']) if after['lost'] else ''}"
          f"{', backpressure from ' + str(after['congested']) if after['congested'] else ''}")
    rows = [("COMPONENT", "TASKS", "DONE", "EMITTED", "EXECUTED", "TUPLES/S", "EXECUTE P50 µs",
             "P99 µs")]
    for component in dict.fromkeys(t["component"] for t in after["tasks"].values()):
        tasks = {k: t for k, t in after["tasks"].items() if t["component"] == component}
        emitted = sum(t.get("emitted", 0) for t in tasks.values())
        executed = sum(t.get("executed", 0) for t in tasks.values())
        key = "executed" if executed else "emitted"  # a spout's throughput is what it emits
        rate = (sum(t.get(key, 0) for t in tasks.values())
                - sum(t.get(key, 0) for k, t in before["tasks"].items() if k in tasks)) / elapsed
        latency = Histogram()
        for t in tasks.values():
            if "execute_latency" in t:
                latency.merge(Histogram.from_dict(t["execute_latency"]))
        p50, p99 = (("-", "-") if not latency.count else
                    (f"{latency.percentile(q) * 1e6:,.1f}" for q in (50, 99)))
        rows.append((component, str(len(tasks)), str(sum(t["done"] for t in tasks.values())),
                     str(emitted), str(executed), f"{rate:,.0f}", p50, p99))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    return 0


def _find(key: str) -> Job:
    """The recorded job with id ``key``, else the one topology named ``key`` (the running
    one if there are several)."""
    matches = [job for job in runs.known() if key in (job.id, job.name)]
    if len(matches) > 1:
        matches = [j for j in matches if SCHEDULERS[j.scheduler]().status(j).active] or matches
    if len(matches) != 1:
        found = ", ".join(f"{j.scheduler} job {j.id}" for j in matches)
        raise LookupError(f"{len(matches)} topologies match {key!r}"
                          f"{': ' + found if found else ''}; see `heronpy list`")
    return matches[0]
