"""The Mesos scheduler: each topology is a Mesos framework of its own, one task per container.

The framework speaks the Mesos v1 scheduler HTTP API itself, as Mesos documents it
(docs/scheduler-http-api.md, docs/recordio.md; messages as in
include/mesos/v1/scheduler/scheduler.proto and mesos.proto, JSON-encoded): a SUBSCRIBE call to
``/api/v1/scheduler`` answers with a stream of RecordIO events (SUBSCRIBED, OFFERS, UPDATE,
HEARTBEAT, ...) that stays open; every other call (ACCEPT, DECLINE, KILL, ACKNOWLEDGE,
RECONCILE, REVIVE, TEARDOWN) is a POST of its own carrying the stream's ``Mesos-Stream-Id``.

``Framework`` takes every decision and does no I/O (events in, calls out); ``Driver`` holds
the HTTP connections; ``MesosScheduler`` starts the two as a process of their own
(``heronpy.scheduler.mesos_framework``) which, like a Slurm job, outlives the submitting
command and ends with the topology or ``heronpy kill``. Each task runs the command
a Slurm job runs per container, on a run directory every agent sees (a shared file system).

No Mesos master could be installed where this was written: it has been tested against a
test double of the master's endpoint (tests/mesos_double.py), never against a real master.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import queue
import select
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException, HTTPResponse
from time import monotonic
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

from heronpy import config
from heronpy.api import api_constants
from heronpy.runtime.launcher import child_environment
from heronpy.runtime.rundir import RunDir
from heronpy.scheduler.base import Job, JobStatus, Scheduler, SchedulerError
from heronpy.scheduler.batch import container_command
from heronpy.scheduler.local import is_running

log = logging.getLogger(__name__)

TERMINAL_STATES = frozenset({"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR",
                             "TASK_LOST", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR"})
"""Task states after which the task's processes are gone (mesos.proto ``TaskState``)."""
RELAUNCH_STATES = TERMINAL_STATES - {"TASK_FINISHED", "TASK_KILLED"}
"""A container whose task ends so is launched again (bounded by ``heronpy.restart.max``)."""
FINAL_STATES = frozenset({"FINISHED", "KILLED", "FAILED"})
"""The framework's own states once it has ended."""

DEFAULT_CPUS = 1.0
DEFAULT_RAM_BYTES = 2**30
MISSED_HEARTBEATS = 5
"""Events not heard for this many heartbeat intervals: the master is taken for lost."""
FAILOVER_TIMEOUT_SECS = 120.0
"""How long the master keeps the tasks of a framework it lost (and it tries to come back)."""
KILL_TIMEOUT_SECS = 30.0
"""How long killed tasks may take to end before the framework tears itself down anyway."""
_REFUSE_SECS_PENDING = 5.0  # declined while a container waits: other resources may free up
_REFUSE_SECS_IDLE = 120.0  # nothing to launch; REVIVE clears it when a container is relaunched
_TIMEOUT_SECS = 10.0  # connecting, and answers to calls (the docs suggest up to 75 s)
_MAX_REDIRECTS = 3  # a standby master answers 307 with the leading master's address
_FIRST_BACKOFF_SECS = 0.5
_MAX_BACKOFF_SECS = 15.0
_POLL_SECS = 0.1
_END_GRACE_SECS = 5.0
_SUBSCRIBE_WAIT_SECS = 3 * _TIMEOUT_SECS  # its start, and a SUBSCRIBE that may be redirected
_MODULE = "heronpy.scheduler.mesos_framework"
_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def container_resources(topology_config: dict) -> dict[str, float]:
    """What each container's task asks for: ``cpus`` from Heron's ``topology.container.cpu``
    (cores, default 1) and ``mem`` in MB from ``topology.container.ram`` (bytes, as in Heron;
    default 1 GiB)."""
    cpus = float(topology_config.get(api_constants.TOPOLOGY_CONTAINER_CPU_REQUESTED,
                                     DEFAULT_CPUS))
    ram = float(topology_config.get(api_constants.TOPOLOGY_CONTAINER_RAM_REQUESTED,
                                    DEFAULT_RAM_BYTES))
    if cpus <= 0 or ram <= 0:
        raise SchedulerError(f"containers need cpus and ram above 0, given {cpus} and {ram}")
    return {"cpus": round(cpus, 3), "mem": round(ram / 2**20, 3)}  # Mesos keeps 3 decimals


def task_command(rundir: RunDir, container: int) -> dict:
    """The ``CommandInfo`` of a container's task: the command Slurm runs per container, its
    output appended to the container's log in the run directory."""
    argv = container_command(sys.executable, rundir.path, container)
    log_path = rundir.log(f"executor-{container}")
    env = child_environment()
    return {"shell": True, "value": f"exec {shlex.join(argv)} >>{shlex.quote(log_path)} 2>&1",
            "environment": {"variables": [{"name": name, "value": env[name]}
                                          for name in ("PYTHONPATH", "PYTHONUNBUFFERED")]}}


@dataclass
class _Task:
    id: str
    container: int
    agent_id: str
    state: str = "TASK_STAGING"


class Framework:
    """A topology's framework without the I/O: ``handle`` takes an event of the subscription
    stream and returns the calls to make, in order. Time comes in as ``now`` (monotonic)."""

    def __init__(self, topology: str, user: str, commands: list[dict],
                 resources: dict[str, float], max_relaunches: int):
        self.topology = topology
        self.user = user
        self.commands = commands
        """Per container, the ``CommandInfo`` of its task."""
        self.resources = resources
        """Per task, scalar resources by name: ``{"cpus": 1.0, "mem": 1024.0}``."""
        self.max_relaunches = max_relaunches
        self.framework_id: str | None = None
        self.heartbeat_interval: float | None = None
        self.state = "SUBSCRIBING"
        """SUBSCRIBING, RUNNING, KILLING, then one of ``FINAL_STATES``."""
        self.message = ""
        """Why it failed."""
        self.done = False
        """It has nothing more to say to the master."""
        self._tasks: dict[int, _Task] = {}  # container -> its latest task
        self._pending = list(range(len(commands)))  # containers waiting for an offer
        self._relaunches = [0] * len(commands)
        self._stopping: str | None = None  # the final state it is heading for
        self._kill_deadline = float("inf")

    def subscribe(self) -> dict:
        """The SUBSCRIBE call; once subscribed, with the framework id, so that the master takes
        it for the same framework (after a lost connection) and keeps its tasks."""
        info: dict = {"user": self.user, "name": f"heronpy {self.topology}",
                      "failover_timeout": FAILOVER_TIMEOUT_SECS, "checkpoint": True}
        call = {"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}
        if self.framework_id is not None:
            info["id"] = call["framework_id"] = {"value": self.framework_id}
        return call

    def handle(self, event: dict, now: float) -> list[dict]:
        """The calls an event of the subscription stream asks for."""
        kind = event.get("type")
        if kind == "SUBSCRIBED":
            return self._subscribed(event["subscribed"])
        if kind == "OFFERS":
            return self._offers(event["offers"].get("offers", []))
        if kind == "UPDATE":
            return self._update(event["update"]["status"], now)
        if kind == "ERROR":  # "the scheduler should abort" (scheduler.proto)
            self.abandon(f"the Mesos master reported an error: {event['error']['message']}")
        # HEARTBEAT; RESCIND (offers are answered at once); FAILURE (UPDATEs come with it)
        return []

    def kill(self, now: float) -> list[dict]:
        """Kills every task; the framework tears itself down once they have ended."""
        return self._stop("KILLED", "", now) if self._stopping is None else []

    def tick(self, now: float) -> list[dict]:
        """TEARDOWN once killed tasks have had ``KILL_TIMEOUT_SECS`` to end (Mesos then
        kills what is left)."""
        if self.done or now < self._kill_deadline:
            return []
        log.warning("tasks still running %.0fs after KILL: tearing down", KILL_TIMEOUT_SECS)
        return self._teardown(self._stopping)

    def abandon(self, reason: str) -> None:
        """Gives up without a word to the master (it cannot be reached, or asked to abort);
        Mesos kills the tasks after the failover timeout."""
        self.state, self.message, self.done = "FAILED", reason, True

    def _subscribed(self, subscribed: dict) -> list[dict]:
        self.framework_id = subscribed["framework_id"]["value"]
        self.heartbeat_interval = subscribed.get("heartbeat_interval_seconds")
        if self._stopping is None:
            self.state = "RUNNING"
        live = [{"task_id": {"value": t.id}, "agent_id": {"value": t.agent_id}}
                for t in self._live()]  # none: all the framework's tasks the master knows
        return [self._call("RECONCILE", reconcile={"tasks": live}), *self._kills()]

    def _offers(self, offers: list[dict]) -> list[dict]:
        calls, declined = [], []
        for offer in offers:
            left = copy.deepcopy(offer["resources"])
            tasks = []
            while self._pending and self._stopping is None:
                taken = _take(left, self.resources)
                if taken is None:
                    break
                tasks.append(self._task_info(self._pending.pop(0), offer["agent_id"]["value"],
                                             taken))
            if not tasks:
                declined.append(offer["id"])
                continue
            launch = {"type": "LAUNCH", "launch": {"task_infos": tasks}}
            calls.append(self._call("ACCEPT", accept={
                "offer_ids": [offer["id"]], "operations": [launch], "filters": self._filters()}))
        if declined:
            calls.append(self._call("DECLINE", decline={"offer_ids": declined,
                                                        "filters": self._filters()}))
        return calls

    def _task_info(self, container: int, agent_id: str, resources: list[dict]) -> dict:
        task = _Task(f"container-{container}-{self._relaunches[container]}", container, agent_id)
        self._tasks[container] = task
        return {"name": f"heronpy {self.topology} container {container}",
                "task_id": {"value": task.id}, "agent_id": {"value": agent_id},
                "resources": resources, "command": self.commands[container]}

    def _update(self, status: dict, now: float) -> list[dict]:
        calls = []
        if "uuid" in status:  # retried until acknowledged; the others must not be
            calls.append(self._call("ACKNOWLEDGE", acknowledge={
                "agent_id": status["agent_id"], "task_id": status["task_id"],
                "uuid": status["uuid"]}))
        task = next((t for t in self._live() if t.id == status["task_id"]["value"]), None)
        if task is None:  # an earlier attempt's, or already ended
            return calls
        task.state = state = status["state"]
        if state not in TERMINAL_STATES:
            return calls
        if self._stopping is not None or state == "TASK_FINISHED":
            return calls + self._end_if_all_ended()
        what = f"container {task.container}: {state} {status.get('message', '')}".rstrip()
        if task.container == 0:
            reason = "it runs the topology master, which cannot be relaunched"
        elif state not in RELAUNCH_STATES:
            reason = "killed, not by heronpy"
        elif self._relaunches[task.container] >= self.max_relaunches:
            reason = f"relaunched {self.max_relaunches} times already ({config.RESTART_MAX})"
        else:
            log.warning("%s; relaunching it", what)
            self._relaunches[task.container] += 1
            self._pending.append(task.container)
            return [*calls, self._call("REVIVE")]  # offers declined meanwhile come back
        return calls + self._stop("FAILED", f"{what}; {reason}", now)

    def _stop(self, final: str, message: str, now: float) -> list[dict]:
        if message:
            log.error("%s: stopping the topology", message)
        self._stopping, self.message, self.state = final, message, "KILLING"
        self._pending.clear()
        self._kill_deadline = now + KILL_TIMEOUT_SECS
        return self._kills() + self._end_if_all_ended()

    def _kills(self) -> list[dict]:
        if self._stopping is None:
            return []
        return [self._call("KILL", kill={"task_id": {"value": t.id},
                                         "agent_id": {"value": t.agent_id}})
                for t in self._live()]

    def _end_if_all_ended(self) -> list[dict]:
        if self._pending or self._live():
            return []
        return self._teardown(self._stopping or "FINISHED")

    def _teardown(self, final: str) -> list[dict]:
        self.state, self.done = final, True
        return [self._call("TEARDOWN")]

    def _live(self) -> list[_Task]:
        return [t for t in self._tasks.values() if t.state not in TERMINAL_STATES]

    def _filters(self) -> dict:
        """How long Mesos should not offer again what was declined (or left over)."""
        return {"refuse_seconds": _REFUSE_SECS_PENDING if self._pending else _REFUSE_SECS_IDLE}

    def _call(self, kind: str, **body: object) -> dict:
        return {"framework_id": {"value": self.framework_id}, "type": kind, **body}


def _take(offered: list[dict], wanted: dict[str, float]) -> list[dict] | None:
    """Takes ``wanted`` (scalar amounts by name) out of what is left of an offer (``offered``,
    reduced in place), from as many of its entries as needed (e.g. reserved and unreserved
    cpus), each keeping its role and allocation; None, and nothing taken, if it does not fit."""
    def available(name: str) -> float:
        return sum(r["scalar"]["value"] for r in offered
                   if r["name"] == name and r.get("type") == "SCALAR")
    if any(round(available(name), 3) < amount for name, amount in wanted.items()):
        return None
    taken = []
    for name, amount in wanted.items():
        for entry in offered:
            if entry["name"] != name or entry.get("type") != "SCALAR" or amount <= 0:
                continue
            share = round(min(amount, entry["scalar"]["value"]), 3)
            if share > 0:
                taken.append({**entry, "scalar": {"value": share}})
                entry["scalar"]["value"] = round(entry["scalar"]["value"] - share, 3)
                amount = round(amount - share, 3)
    return taken


def read_records(stream: BinaryIO) -> Iterator[dict]:
    """The events of a RecordIO stream (Mesos's docs/recordio.md): each is its length in
    bytes as decimal digits, a line feed, then that many bytes of JSON. Ends with the stream."""
    while line := stream.readline():
        if not line.strip():
            continue
        size = int(line)
        data = stream.read(size)
        if len(data) < size:
            return
        yield json.loads(data)


def scheduler_url(master: str) -> str:
    """The scheduler endpoint of a master given as ``http://HOST:PORT`` or ``HOST:PORT``."""
    parts = urlsplit(master if "://" in master else f"http://{master}")
    if parts.scheme != "http" or not parts.hostname:
        raise SchedulerError(f"expected a Mesos master as http://HOST:5050, given {master!r}")
    return f"http://{parts.netloc}/api/v1/scheduler"


class Driver:
    """The framework's HTTP side: the subscription stream, read by a thread into a queue, and
    one short POST per call. ``run`` drives the framework until it is done."""

    def __init__(self, framework: Framework, master: str,
                 on_change: Callable[[Framework], None] | None = None,
                 timeout: float = _TIMEOUT_SECS):
        self.framework = framework
        self.url = scheduler_url(master)
        self._on_change = on_change or (lambda framework: None)
        self._timeout = timeout
        self._events: queue.Queue[tuple[int, dict | None]] = queue.Queue()
        self._sock: socket.socket | None = None  # the subscription's
        self._stream_id: str | None = None
        self._generation = 0  # of the subscription: events of older ones are stale
        self._last_event = self._lost_since = self._retry_at = monotonic()
        self._backoff = _FIRST_BACKOFF_SECS
        self._kill_requested = False

    def request_kill(self) -> None:
        """Asks for ``Framework.kill`` (safe in a signal handler: it only sets a flag)."""
        self._kill_requested = True

    def run(self) -> None:
        """Subscribes, then handles events until the framework is done. Raises
        ``SchedulerError`` if the first SUBSCRIBE fails (no master, a refusal)."""
        try:
            self._subscribe()
            while not self.framework.done:
                if self._sock is None:
                    self._resubscribe()
                else:
                    self._step()
                self._on_change(self.framework)
        finally:
            self._disconnect()

    def _step(self) -> None:
        framework = self.framework
        if self._kill_requested:
            self._kill_requested = False
            self._post(framework.kill(monotonic()))
        try:
            generation, event = self._events.get(timeout=_POLL_SECS)
        except queue.Empty:
            generation, event = -1, None
        now = monotonic()
        if generation == self._generation and event is None:
            self._lose("the master closed the subscription stream")
            return
        if generation == self._generation:
            self._last_event = now
            self._post(framework.handle(event, now))
        elif (framework.heartbeat_interval
              and now - self._last_event > MISSED_HEARTBEATS * framework.heartbeat_interval):
            self._lose(f"no event for {now - self._last_event:.1f}s")
            return
        self._post(framework.tick(now))

    def _lose(self, why: str) -> None:
        log.warning("%s: subscribing again", why)
        self._disconnect()
        self._lost_since = self._retry_at = monotonic()
        self._backoff = _FIRST_BACKOFF_SECS

    def _resubscribe(self) -> None:
        """Another SUBSCRIBE, with back-off, until the master would have given the framework
        up (its failover timeout)."""
        now = monotonic()
        if now - self._lost_since > FAILOVER_TIMEOUT_SECS:
            self.framework.abandon(f"no Mesos master at {self.url} for "
                                   f"{FAILOVER_TIMEOUT_SECS:.0f}s")
        elif now < self._retry_at:
            time.sleep(min(_POLL_SECS, self._retry_at - now))
        else:
            try:
                self._subscribe()
            except SchedulerError as err:
                log.warning("%s; again in %.1fs", err, self._backoff)
                self._retry_at = now + self._backoff
                self._backoff = min(2 * self._backoff, _MAX_BACKOFF_SECS)

    def _subscribe(self) -> None:
        """Opens the subscription stream and handles its first event here (SUBSCRIBED, or
        ERROR); a thread reads the rest."""
        url = self.url
        for _ in range(_MAX_REDIRECTS + 1):
            sock, response = self._open(url)
            if response.status != 307:
                break
            response.close()
            sock.close()
            url = urljoin(url, response.getheader("Location", ""))  # the leading master
        try:
            first = _first_event(url, response)
        except SchedulerError:
            response.close()
            sock.close()
            raise
        self.url, self._stream_id, self._sock = url, response.getheader("Mesos-Stream-Id"), sock
        sock.settimeout(None)  # silence is caught by the heartbeat check
        self._generation += 1
        self._last_event = monotonic()
        threading.Thread(target=self._read, args=(response, self._generation),
                         name="mesos-events", daemon=True).start()
        self._post(self.framework.handle(first, monotonic()))

    def _open(self, url: str) -> tuple[socket.socket, HTTPResponse]:
        """POSTs SUBSCRIBE; the connection's socket and the answer's head."""
        conn = HTTPConnection(*_host_port(url), timeout=self._timeout)
        try:
            conn.request("POST", urlsplit(url).path, json.dumps(self.framework.subscribe()),
                         _HEADERS)
            return conn.sock, conn.getresponse()
        except (OSError, HTTPException) as err:
            conn.close()
            raise SchedulerError(f"cannot subscribe to the Mesos master at {url}: "
                                 f"{err or type(err).__name__}") from None

    def _read(self, response: HTTPResponse, generation: int) -> None:
        with contextlib.suppress(OSError, HTTPException, ValueError), response:
            for event in read_records(response):
                self._events.put((generation, event))
        self._events.put((generation, None))

    def _disconnect(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)  # wakes the reading thread
            self._sock.close()
        self._sock = self._stream_id = None

    def _post(self, calls: list[dict]) -> None:
        """Makes each call; the master's answers come as events. A failed call is logged: a
        lost one is made good by RECONCILE after the next SUBSCRIBE, or by the kill timeout."""
        for call in calls:
            conn = HTTPConnection(*_host_port(self.url), timeout=self._timeout)
            try:
                conn.request("POST", urlsplit(self.url).path, json.dumps(call),
                             {**_HEADERS, "Mesos-Stream-Id": self._stream_id or ""})
                response = conn.getresponse()
                body = response.read(1000).decode(errors="replace").strip()
            except (OSError, HTTPException) as err:
                log.warning("%s failed: %s", call["type"], err)
                continue
            finally:
                conn.close()
            if response.status not in (200, 202):
                log.warning("%s refused: HTTP %d %s", call["type"], response.status, body)


def _first_event(url: str, response: HTTPResponse) -> dict:
    """The first event of a SUBSCRIBE's answer; ``SchedulerError`` if there is none."""
    try:
        if response.status == 200:
            first = next(read_records(response), None)
            if first is not None:
                return first
            problem = "it closed the stream"
        else:
            problem = f"HTTP {response.status} {response.read(1000).decode(errors='replace')}"
    except (OSError, HTTPException, ValueError) as err:
        problem = str(err) or type(err).__name__
    raise SchedulerError(f"cannot subscribe to the Mesos master at {url}: {problem.strip()}")


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port or 5050


class MesosScheduler(Scheduler):
    """Runs each topology as a Mesos framework: a process on this host (the ``mesos.log`` of
    the run directory), whose state is in ``RUNDIR/mesos.json``."""

    name = "mesos"

    def __init__(self, master: str | None = None):
        self.master = master
        """The master, ``http://HOST:5050``: needed to submit, not to watch or kill."""
        self._started: dict[str, subprocess.Popen] = {}

    def submit(self, rundir: RunDir) -> Job:
        """Starts the framework and returns once it has subscribed: the job's id is its
        framework id."""
        if self.master is None:
            raise SchedulerError("no Mesos master given (--master http://HOST:5050)")
        scheduler_url(self.master)
        container_resources(rundir.layout()["config"])  # errors here, not in the framework
        ready, ready_w = os.pipe()
        try:
            with open(rundir.log("mesos"), "ab") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", _MODULE, rundir.path, self.master,
                     "--ready-fd", str(ready_w)], stdout=out, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=child_environment(), pass_fds=(ready_w,),
                    start_new_session=True)  # it outlives us, like a Slurm job
        finally:
            os.close(ready_w)
        try:
            with os.fdopen(ready) as answer:  # a line, or EOF if it ends first
                answered = select.select([answer], [], [], _SUBSCRIBE_WAIT_SECS)[0]
                framework_id = answer.readline().strip() if answered else ""
            if not framework_id:
                raise SchedulerError(
                    _state(rundir.path).get("message") or "the Mesos framework did not "
                    f"subscribe in {_SUBSCRIBE_WAIT_SECS:.0f}s: see {rundir.log('mesos')}")
        except BaseException:  # also Ctrl-C: nobody else would end it
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            raise
        job = Job(self.name, framework_id, rundir.layout()["name"], rundir.path)
        self._started[job.id] = proc
        return job

    def status(self, job: Job) -> JobStatus:
        """The framework's state while its process runs; once it is gone, how it ended
        (``GONE`` if it could not say)."""
        state = _state(job.rundir)
        proc = self._started.get(job.id)
        if proc is not None:
            running = proc.poll() is None
        else:
            running = "pid" in state and is_running(state["pid"], _MODULE, job.rundir)
        if running:
            return JobStatus(state.get("state", "SUBSCRIBING"), True)
        return JobStatus(state.get("state") if state.get("state") in FINAL_STATES else "GONE",
                         False)

    def kill(self, job: Job) -> None:
        """Gives the framework a few seconds to end by itself (its tasks end with the
        topology), then has it kill its tasks (SIGTERM); returns once it has ended."""
        if self.wait_until_ended(job, _END_GRACE_SECS):
            return
        pid = _state(job.rundir)["pid"]
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not self.wait_until_ended(job, KILL_TIMEOUT_SECS + 2 * _TIMEOUT_SECS):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            raise SchedulerError(f"the Mesos framework {job.id} did not end: killed it; Mesos "
                                 f"kills its tasks {FAILOVER_TIMEOUT_SECS:.0f}s later")


def state_file(rundir: str) -> str:
    """Where the framework of ``rundir`` says how it stands: pid, master, framework id,
    state and why it failed."""
    return os.path.join(rundir, "mesos.json")


def _state(rundir: str) -> dict:
    """What the framework of ``rundir`` last wrote about itself (``{}`` before it did)."""
    try:
        with open(state_file(rundir)) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}
