"""A test double of a Mesos master's v1 scheduler endpoint, ``POST /api/v1/scheduler``.

No Mesos master can be installed here (no Debian package; PyPI's are stubs), so heronpy's
framework is tested against this: a real HTTP server on a real socket that speaks the protocol
as Apache Mesos documents it -- docs/scheduler-http-api.md (calls, events, the
``Mesos-Stream-Id`` header, 202/403 answers, 307 from a standby master), docs/recordio.md (the
event stream's framing) and include/mesos/v1/scheduler/scheduler.proto + mesos.proto (message
shapes, in their JSON encoding: an Event's ``offers`` is an ``Offers`` message holding
``offers``, an ERROR's text is in ``error.message``, ``uuid`` is base64).

It records every call, answers SUBSCRIBE with a chunked RecordIO stream (SUBSCRIBED first,
then HEARTBEATs and whatever events a test sends: OFFERS, UPDATE), answers RECONCILE and
KILL as a master would (UPDATEs), and keeps track of unacknowledged updates. With
``launch=True`` it also runs each launched task's shell command on this machine, in a sandbox
directory, as an agent's command executor would, and reports TASK_RUNNING, then TASK_FINISHED
/ TASK_FAILED / TASK_KILLED when the command ends. Records are deliberately split across HTTP
chunks: the framing must not depend on chunk boundaries.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import monotonic

PATH = "/api/v1/scheduler"
TIMEOUT = 30.0
_KILL_GRACE_SECS = 3.0  # the command executor's default grace period between SIGTERM and SIGKILL


@dataclass
class Call:
    body: dict
    stream_id: str | None
    """The ``Mesos-Stream-Id`` header it came with."""
    status: int = 0
    """What the double answered."""
    at: float = field(default_factory=monotonic)

    @property
    def type(self) -> str:
        return self.body["type"]


@dataclass
class _Subscription:
    stream_id: str
    events: queue.Queue = field(default_factory=queue.Queue)
    silent: bool = False


@dataclass
class _Task:
    agent_id: str
    state: str = "TASK_STAGING"
    process: subprocess.Popen | None = None
    ending: str | None = None
    """How its process's end is reported when the double ended it."""


class MesosMasterDouble:
    """The master's scheduler endpoint; use as a context manager (it stops its server and
    whatever it launched)."""

    def __init__(self, heartbeat_secs: float = 15.0, launch: bool = False,
                 redirect_to: str | None = None, refuse: str | None = None,
                 kill_reply: str = "TASK_KILLED"):
        self.heartbeat_secs = heartbeat_secs
        self.launch = launch
        self.redirect_to = redirect_to
        """A standby master: answer every request with 307 to this one."""
        self.refuse = refuse
        """Answer SUBSCRIBE with an ERROR event saying this."""
        self.kill_reply = kill_reply
        """Without ``launch``: the update a KILL brings (TASK_LOST: the agent is gone)."""
        self.calls: list[Call] = []
        self.framework_id: str | None = None
        self.subscription: _Subscription | None = None
        self.tasks: dict[str, _Task] = {}
        self.unacknowledged: set[str] = set()
        self._offers = 0
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.double = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def __enter__(self) -> MesosMasterDouble:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._end_subscription()
        self._server.shutdown()
        self._server.server_close()
        for task in list(self.tasks.values()):
            if task.process is not None:
                _signal_group(task.process, signal.SIGKILL)
                task.process.wait(TIMEOUT)

    # -- what a test does -------------------------------------------------------------------

    def calls_of(self, kind: str) -> list[dict]:
        with self._cond:
            return [c.body for c in self.calls if c.type == kind]

    def wait_for(self, kind: str, count: int = 1, timeout: float = TIMEOUT) -> list[dict]:
        """The first ``count`` calls of type ``kind``, once they have been made."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.calls_of(kind)) >= count, timeout):
                made = [c.type for c in self.calls]
                raise AssertionError(f"no {count} {kind} call(s) after {timeout}s; calls: {made}")
            return self.calls_of(kind)[:count]

    def offer(self, *sizes: tuple[float, float]) -> list[str]:
        """One OFFERS event: an offer of (cpus, mem MB) per size, each from its own agent;
        their ids."""
        offers = []
        for cpus, mem in sizes:
            self._offers += 1
            offers.append({
                "id": {"value": f"{self.framework_id}-O{self._offers}"},
                "framework_id": {"value": self.framework_id},
                "agent_id": {"value": f"agent-{self._offers}"},
                "hostname": "localhost",
                "allocation_info": {"role": "*"},
                "resources": [_scalar("cpus", cpus), _scalar("mem", mem),
                              _scalar("disk", 10000.0),
                              {"name": "ports", "type": "RANGES", "role": "*",
                               "allocation_info": {"role": "*"},
                               "ranges": {"range": [{"begin": 31000, "end": 32000}]}}],
            })
        self.send({"type": "OFFERS", "offers": {"offers": offers}})
        return [o["id"]["value"] for o in offers]

    def update(self, task_id: str, state: str, reliable: bool = True,
               message: str | None = None) -> None:
        """An UPDATE of a task's state, as an agent sends it (with a uuid, retried until
        acknowledged) or, with ``reliable=False``, as the master answers RECONCILE."""
        task = self.tasks.get(task_id)
        if task is not None:
            task.state = state
        status = {"task_id": {"value": task_id}, "state": state,
                  "agent_id": {"value": task.agent_id if task else "agent-unknown"},
                  "timestamp": time.time(),
                  "source": "SOURCE_EXECUTOR" if reliable else "SOURCE_MASTER"}
        if reliable:
            status["uuid"] = base64.b64encode(uuid.uuid4().bytes).decode()
            self.unacknowledged.add(status["uuid"])
        else:
            status["reason"] = "REASON_RECONCILIATION"
        if message:
            status["message"] = message
        self.send({"type": "UPDATE", "update": {"status": status}})

    def send(self, event: dict) -> None:
        """Any event, on the current subscription stream."""
        assert self.subscription is not None, "nobody subscribed"
        self.subscription.events.put(event)

    def lose(self, task_id: str) -> None:
        """A launched task's agent is gone: its processes die, the master says TASK_LOST."""
        task = self.tasks[task_id]
        task.ending = "TASK_LOST"
        _signal_group(task.process, signal.SIGKILL)

    def partition(self) -> None:
        """The current stream goes silent (no heartbeats, no events) but stays open."""
        self.subscription.silent = True

    def disconnect(self) -> None:
        """The master closes the current stream."""
        self._end_subscription()

    def launched(self) -> list[dict]:
        """Every task_info of every LAUNCH, in order."""
        return [info for accept in self.calls_of("ACCEPT")
                for op in accept["accept"]["operations"] if op["type"] == "LAUNCH"
                for info in op["launch"]["task_infos"]]

    # -- the master's side ------------------------------------------------------------------

    def _subscribe(self, handler: _Handler, call: dict) -> None:
        if self.refuse is not None:
            self._record(Call(call, handler.headers.get("Mesos-Stream-Id"), 200))
            _start_stream(handler, str(uuid.uuid4()))
            _write_record(handler, {"type": "ERROR", "error": {"message": self.refuse}})
            _end_stream(handler)
            return
        asked = call.get("framework_id", {}).get("value")
        self.framework_id = asked or f"{uuid.uuid4()}-0000"
        self._end_subscription()  # one subscription per framework: the newest wins
        subscription = self.subscription = _Subscription(str(uuid.uuid4()))
        self._record(Call(call, handler.headers.get("Mesos-Stream-Id"), 200))
        _start_stream(handler, subscription.stream_id)
        try:
            _write_record(handler, {"type": "SUBSCRIBED", "subscribed": {
                "framework_id": {"value": self.framework_id},
                "heartbeat_interval_seconds": self.heartbeat_secs}})
            while True:
                try:
                    event = subscription.events.get(timeout=self.heartbeat_secs)
                except queue.Empty:
                    event = {"type": "HEARTBEAT"}
                if event is None:
                    break
                if not subscription.silent:
                    _write_record(handler, event)
            _end_stream(handler)
        except OSError:  # the framework went away
            pass

    def _end_subscription(self) -> None:
        if self.subscription is not None:
            self.subscription.events.put(None)
            self.subscription = None

    def _call(self, call: dict, stream_id: str | None) -> int:
        current = self.subscription
        if current is None or stream_id != current.stream_id:
            status = 403  # "Calls made without subscription will result in 403 Forbidden"
        elif call.get("framework_id", {}).get("value") != self.framework_id:
            status = 400
        else:
            status = 202
        self._record(Call(call, stream_id, status))
        handlers = {"ACCEPT": self._accept, "ACKNOWLEDGE": self._acknowledge,
                    "RECONCILE": self._reconcile, "KILL": self._kill, "TEARDOWN": self._teardown}
        if status == 202 and call["type"] in handlers:  # DECLINE, REVIVE: only recorded
            handlers[call["type"]](call)
        return status

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def _accept(self, call: dict) -> None:
        for op in call["accept"]["operations"]:
            for info in op["launch"]["task_infos"]:
                task = self.tasks[info["task_id"]["value"]] = _Task(info["agent_id"]["value"])
                if self.launch:
                    self._run(info["task_id"]["value"], task, info["command"])

    def _acknowledge(self, call: dict) -> None:
        self.unacknowledged.discard(call["acknowledge"]["uuid"])

    def _reconcile(self, call: dict) -> None:
        asked = [t["task_id"]["value"] for t in call["reconcile"]["tasks"]] or list(self.tasks)
        for task_id in asked:
            known = self.tasks.get(task_id)
            self.update(task_id, known.state if known else "TASK_LOST", reliable=False)

    def _kill(self, call: dict) -> None:
        task = self.tasks[call["kill"]["task_id"]["value"]]
        task.ending = "TASK_KILLED"
        if task.process is None:
            self.update(call["kill"]["task_id"]["value"], self.kill_reply)
        else:  # the executor's kill policy: SIGTERM, then SIGKILL after the grace period
            _signal_group(task.process, signal.SIGTERM)
            threading.Timer(_KILL_GRACE_SECS, _signal_group,
                            (task.process, signal.SIGKILL)).start()

    def _teardown(self, call: dict) -> None:
        for task in self.tasks.values():
            if task.process is not None:
                task.ending = "TASK_KILLED"
                _signal_group(task.process, signal.SIGKILL)
        self._end_subscription()
        self.framework_id = None

    def _run(self, task_id: str, task: _Task, command: dict) -> None:
        assert command["shell"], "the double runs shell commands only"
        env = {v["name"]: v["value"] for v in command.get("environment", {}).get("variables", [])}
        task.process = subprocess.Popen(
            ["sh", "-c", command["value"]], env={**os.environ, **env},
            cwd=tempfile.mkdtemp(prefix="sandbox-"), stdin=subprocess.DEVNULL,
            start_new_session=True)
        self.update(task_id, "TASK_RUNNING")

        def watch() -> None:
            code = task.process.wait()
            if task.ending is not None:
                self.update(task_id, task.ending)
            elif code == 0:
                self.update(task_id, "TASK_FINISHED")
            else:
                self.update(task_id, "TASK_FAILED", message=f"Command exited with status {code}")

        threading.Thread(target=watch, daemon=True).start()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        double: MesosMasterDouble = self.server.double
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if double.redirect_to is not None:
            self.send_response(307)
            self.send_header("Location", "//" + double.redirect_to.split("://", 1)[1] + PATH)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path != PATH or self.headers.get("Content-Type") != "application/json":
            self.send_error(415 if self.path == PATH else 404)
            return
        call = json.loads(body)
        if call.get("type") == "SUBSCRIBE":
            self.close_connection = True
            double._subscribe(self, call)
            return
        self.send_response(double._call(call, self.headers.get("Mesos-Stream-Id")))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def _scalar(name: str, value: float) -> dict:
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}, "role": "*",
            "allocation_info": {"role": "*"}}


def _start_stream(handler: _Handler, stream_id: str) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("Mesos-Stream-Id", stream_id)
    handler.end_headers()


def _write_record(handler: _Handler, event: dict) -> None:
    """One RecordIO record, split into two HTTP chunks in the middle of its JSON."""
    data = json.dumps(event).encode()
    record = str(len(data)).encode() + b"\n" + data
    half = len(record) // 2 + 1
    for chunk in (record[:half], record[half:]):
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    handler.wfile.flush()


def _end_stream(handler: _Handler) -> None:
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    """Signals the task's process group (what it started too, which may outlive it)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
