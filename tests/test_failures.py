"""A failing task fails the run quickly, with its traceback, and nothing is left running."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import zmq
from helpers import (
    TOPOLOGIES,
    EndlessSpout,
    NumberSpout,
    RecordBolt,
    describe,
    heronpy_cli,
    subprocess_env,
    wait_until,
)

import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder
from heronpy.config import CAPTURE_OUTPUTS, RESTART_MAX
from heronpy.instance import codec
from heronpy.runtime.launcher import child_environment
from heronpy.runtime.rundir import RunDir
from heronpy.topology.physical import PhysicalPlan
from heronpy.transport.frame import HEADER, Kind, control, header, read_control

TIMEOUT = 60.0
FAILS_WITHIN = 10.0  # seconds from run() to TopologyFailed, start-up included


class BoomBolt(Bolt):
    """Raises ValueError("boom") on its 50th tuple."""

    outputs = ["n"]

    def initialize(self, config, context):
        self.seen = 0

    def process(self, tup):
        self.seen += 1
        if self.seen == 50:
            raise ValueError("boom")


def topology(spout_cls=NumberSpout, bolt_cls=RecordBolt, numbers=1000):
    """source (2 tasks) -> work (3 tasks), over 2 containers."""
    builder = TopologyBuilder("failing")
    source = builder.add_spout("source", spout_cls, par=2)
    builder.add_bolt("work", bolt_cls, par=3, inputs={source: Grouping.SHUFFLE})
    builder.set_config({"topology.stmgrs": 2, "numbers": numbers})
    return builder


def run_to_failure(builder, timeout=TIMEOUT) -> heronpy.local.TopologyFailed:
    """Runs ``builder``'s topology, which must fail; returns the error, timing the failure."""
    started = time.monotonic()
    with pytest.raises(heronpy.local.TopologyFailed) as failure:
        heronpy.local.run(builder, timeout=timeout)
    elapsed = time.monotonic() - started
    assert elapsed < FAILS_WITHIN, f"took {elapsed:.1f}s to report the failure"
    return failure.value


def tasks_of(builder, component):
    return PhysicalPlan.pack(builder.build()).component_tasks[component]


def test_bolt_raising_in_process(process_guard):
    builder = topology(bolt_cls=BoomBolt)
    error = run_to_failure(builder)
    message = str(error)
    assert error.component == "work"
    assert error.task in tasks_of(builder, "work")
    assert message.startswith(f"'work' task {error.task} failed:")
    assert "Traceback (most recent call last)" in message
    assert 'raise ValueError("boom")' in message  # the line, from the user's file
    assert "ValueError: boom" in message
    assert __file__ in message
    process_guard.assert_clean()


def test_spout_raising_in_next_tuple(process_guard):
    class BrokenSpout(Spout):  # defined in the test: shipped by value
        outputs = ["n"]

        def initialize(self, config, context):
            self.n = 0

        def next_tuple(self):
            self.n += 1
            if self.n > 100:
                raise KeyError("no more boom")
            self.emit([self.n])

    builder = topology(spout_cls=BrokenSpout)
    error = run_to_failure(builder)
    assert error.component == "source"
    assert error.task in tasks_of(builder, "source") == [1, 2]
    assert "KeyError: 'no more boom'" in str(error)
    assert "in next_tuple" in str(error)
    process_guard.assert_clean()


def test_bolt_raising_in_initialize(process_guard):
    class UnreadyBolt(Bolt):
        outputs = ["n"]

        def initialize(self, config, context):
            raise ValueError(f"boom in initialize of task {context.get_task_id()}")

    builder = topology(bolt_cls=UnreadyBolt)
    error = run_to_failure(builder)
    assert error.component == "work"
    assert error.task in tasks_of(builder, "work")
    assert f"ValueError: boom in initialize of task {error.task}" in str(error)
    assert "in initialize" in str(error)
    process_guard.assert_clean()


def test_bolt_raising_in_end_of_stream(process_guard):
    class LateBolt(Bolt):
        outputs = ["n"]

        def end_of_stream(self):
            raise RuntimeError("boom at the end")

    builder = topology(bolt_cls=LateBolt, numbers=20)
    error = run_to_failure(builder)
    assert error.component == "work"
    assert "RuntimeError: boom at the end" in str(error)
    process_guard.assert_clean()


def test_emit_on_an_undeclared_stream(process_guard):
    class StrayBolt(Bolt):
        outputs = ["n"]

        def process(self, tup):
            self.emit(tup.values, stream="elsewhere")

    error = run_to_failure(topology(bolt_cls=StrayBolt, numbers=10))
    assert error.component == "work"
    assert "emit on undeclared stream 'elsewhere' (declared: ['default'])" in str(error)
    process_guard.assert_clean()


def test_emit_of_a_value_that_cannot_be_serialised(process_guard):
    class LockingSpout(Spout):
        outputs = ["n"]

        def next_tuple(self):
            self.emit([threading.Lock()])

    error = run_to_failure(topology(spout_cls=LockingSpout))
    assert error.component == "source"
    assert "cannot pickle '_thread.lock' object" in str(error)
    process_guard.assert_clean()


def test_emit_with_the_wrong_number_of_fields(process_guard):
    class WideSpout(Spout):
        outputs = ["n"]

        def next_tuple(self):
            self.emit([1, 2])

    error = run_to_failure(topology(spout_cls=WideSpout))
    assert error.component == "source"
    assert "emit on stream 'default' with 2 values, but it declares 1 fields" in str(error)
    process_guard.assert_clean()


def test_emit_of_a_non_sequence(process_guard):
    class ScalarSpout(Spout):
        outputs = ["n"]

        def next_tuple(self):
            self.emit(42)

    error = run_to_failure(topology(spout_cls=ScalarSpout))
    assert error.component == "source"
    assert "emit takes a list or tuple of values, given int" in str(error)
    process_guard.assert_clean()


def test_task_process_dying_without_a_traceback(process_guard):
    class VanishingBolt(Bolt):
        outputs = ["n"]

        def process(self, tup):
            os._exit(3)

    builder = topology(bolt_cls=VanishingBolt, numbers=10)
    builder.set_config({"topology.stmgrs": 2, "numbers": 10, RESTART_MAX: 0})  # no restarts
    error = run_to_failure(builder, timeout=20)
    assert error.task in tasks_of(builder, "work")
    assert error.component == "work"
    assert "exited with status 3" in str(error)
    assert str(error).startswith(f"'work' task {error.task} failed:")
    process_guard.assert_clean()


def test_timeout_stops_an_unbounded_topology(process_guard):
    builder = TopologyBuilder("unbounded")
    source = builder.add_spout("endless", EndlessSpout, par=1)
    builder.add_bolt("work", RecordBolt, par=2, inputs=[source])
    builder.add_bolt("more_work", RecordBolt, par=1, inputs=[source])
    builder.set_config({"topology.stmgrs": 2})
    started = time.monotonic()
    with pytest.raises(TimeoutError) as timeout:
        heronpy.local.run(builder, timeout=2)
    elapsed = time.monotonic() - started
    assert 2 <= elapsed < 2 + FAILS_WITHIN
    message = str(timeout.value)
    assert "topology 'unbounded' did not finish in 2s" in message
    # the run directory is kept, with the logs of every process
    logs = Path(message.rsplit("logs: ", 1)[1].rstrip(")"))
    names = {p.name for p in logs.iterdir()}
    assert "tmaster.log" in names
    assert len(names) >= 1 + 2 + 2 + 4  # master, 2 executors, 2 stream managers, 4 tasks
    process_guard.assert_clean()


def instance_processes(root: psutil.Process) -> list[psutil.Process]:
    found = []
    for proc in root.children(recursive=True):
        try:
            if "heronpy.instance" in " ".join(proc.cmdline()):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def running_containers(rundir_parent: str) -> int:
    """Stream managers of the run under ``rundir_parent`` that have started their tasks."""
    logs = Path(rundir_parent).glob("heronpy-*/logs/stmgr-*.log")
    return sum("running" in log.read_text() for log in logs)


def test_ctrl_c_stops_the_cli_and_everything_it_started(process_guard, rundir_parent):
    cli = subprocess.Popen([*heronpy_cli(), "submit", "local", str(TOPOLOGIES / "endless.py")],
                           env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    root = psutil.Process(cli.pid)
    started: list[psutil.Process] = []
    try:
        # endless.py: 1 spout task + 2 bolt tasks in 2 containers
        tasks = wait_until(lambda: len(instance_processes(root)) == 3 and instance_processes(root),
                           timeout=30, what="the 3 task processes of endless.py")
        wait_until(lambda: running_containers(rundir_parent) == 2, timeout=30,
                   what="both containers to start their tasks")
        started = root.children(recursive=True)
        assert len(started) >= 3 + 2 + 2 + 1  # + 2 stream managers, 2 executors, the master
        assert all(t.is_running() for t in tasks)
        assert cli.poll() is None
        cli.send_signal(signal.SIGINT)
        stopped_at = time.monotonic()
        _, err = cli.communicate(timeout=10)
        assert time.monotonic() - stopped_at < 10
    finally:
        if cli.poll() is None:  # do not leave it running if the test failed
            for proc in [*started, root]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    proc.kill()
            cli.communicate()
    assert cli.returncode == 130, err
    assert "heronpy: stopped" in err
    assert "Traceback" not in err
    still_there = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not still_there, describe(still_there)
    process_guard.assert_clean()


def test_data_reaching_a_task_before_its_start_is_processed_after_initialize(rundir_parent):
    """A peer container may start its spouts a moment before our stream manager passes 'start'
    to our tasks (this made multi-container runs fail now and then with "data arrived before
    the topology started"). Played here deterministically against one task process."""
    builder = TopologyBuilder("early")
    source = builder.add_spout("source", NumberSpout, par=1)
    builder.add_bolt("sink", RecordBolt, par=1, inputs=[source])
    builder.set_config({CAPTURE_OUTPUTS: True})
    plan = PhysicalPlan.pack(builder.build())
    rundir = RunDir.create(plan, parent=rundir_parent)
    ctx = zmq.Context()
    stmgr = ctx.socket(zmq.PULL)  # we play the stream manager of container 0
    stmgr.bind(rundir.stmgr_inbox(0))
    task = subprocess.Popen([sys.executable, "-m", "heronpy.instance", rundir.package, "2",
                             rundir.task_inbox(2), rundir.stmgr_inbox(0), rundir.outputs(2),
                             rundir.checkpoints({}), "none"],
                            env=child_environment(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    to_task = ctx.socket(zmq.PUSH)
    to_task.linger = 1000
    to_task.connect(rundir.task_inbox(2))

    def next_control() -> dict:
        wait_until(lambda: stmgr.poll(50) or task.poll() is not None, timeout=30,
                   what="a message from the task")
        assert stmgr.poll(0), f"the task exited: {task.communicate()[1]}"
        hdr, payload = stmgr.recv_multipart()
        assert HEADER.unpack(hdr)[0] == Kind.CONTROL
        return read_control(payload)

    try:
        assert next_control() == {"type": "hello", "task": 2}
        wire = plan.stream_ids[("source", "default")]
        # data first, then start, then the end of the stream, in this order on one socket
        to_task.send_multipart([header(Kind.DATA, wire, 1, 2, 2, 0), codec.encode([[7], [8]])])
        to_task.send_multipart(control(0, 2, {"type": "start"}))
        to_task.send_multipart([header(Kind.END_OF_STREAM, 0, 1, 2, 0, 1), b""])
        done = next_control()
        assert done["type"] == "done", done
        assert done["metrics"]["executed"] == 2
        to_task.send_multipart(control(0, 2, {"type": "shutdown"}))
        _, err = task.communicate(timeout=30)
        assert task.returncode == 0, err
    finally:
        if task.poll() is None:
            task.kill()
            task.communicate()
        ctx.destroy(linger=0)
    with open(rundir.outputs(2), "rb") as f:
        captured = [(stream, values) for stream, batch in codec.unpacker(f) for values in batch]
    assert captured == [("default", [2, 1, "default", 7]), ("default", [2, 1, "default", 8])]
