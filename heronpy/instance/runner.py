"""The task loop: one spout or bolt in its own process, wired to its stream manager.

Life of a task: bind its inbox, say hello to the stream manager, wait for start, run
``initialize``, then loop (spout: call ``next_tuple``; bolt: process input batches) until the
stream manager says shutdown. Any exception in user code is sent, with its traceback, to the
topology master, and the process exits with status 1.
"""

from __future__ import annotations

import gc
import logging
import time
import traceback
from time import monotonic, perf_counter

import zmq

from heronpy import config
from heronpy.api import api_constants
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.bolt.windowed_bolt import WindowedBolt
from heronpy.api.spout.spout import Spout
from heronpy.api.tuple import HeronTuple, TupleHelper
from heronpy.collectives.rounds import END, CollectiveEngine
from heronpy.instance import codec
from heronpy.instance.checkpoints import FINAL, CheckpointStore
from heronpy.instance.collector import OutputCollector, ReliableCollector
from heronpy.instance.context import TaskContext
from heronpy.instance.gc_policy import GcPolicy
from heronpy.instance.stateful import Checkpointing
from heronpy.instance.windowing import WatermarkRelay, WindowDriver
from heronpy.runtime.histogram import Histogram
from heronpy.topology.collective import CollectiveGraph
from heronpy.topology.physical import CONTROL_TASK, PhysicalPlan
from heronpy.transport import direct, zeromq
from heronpy.transport.frame import (
    ANCHORED,
    HEADER,
    NODE_ENDED,
    SHARED,
    WATERMARK_VALUE,
    Kind,
    control,
    header,
    read_control,
    watermark,
)
from heronpy.transport.shm import SharedInbox, SharedOutbox

_SPOUT_BURST = 64  # next_tuple calls between looks at the inbox and the clock
_DRAIN = 64  # input frames handled before looking at the clock again
_MAX_WAIT_MS = 1000  # no wait is unbounded
_SLOW_WARNING_SECS = 30
_METRICS_SECS = 1.0  # how often a task reports its counts (``heronpy status``)


def _timestamp_positions(plan: PhysicalPlan, component: str, field: str | None) -> dict:
    """Where ``field`` sits in each input stream of ``component`` (``component:stream``)."""
    if field is None:
        return {}
    return {f"{s.component}:{s.stream}": plan.logical.components[s.component].outputs[s.stream]
            .index(field) for s in plan.logical.components[component].inputs}


def _is_start(frames) -> bool:
    try:
        hdr, payload = frames
        return (HEADER.unpack(hdr.buffer)[0] == Kind.CONTROL
                and read_control(payload.buffer)["type"] == "start")
    except Exception:  # anything else, malformed included, is handled after start
        return False


class TaskStopped(Exception):
    """The stream manager asked this task to stop."""


class TaskInstance:
    """Runs one task; ``delegate`` of the user's component (Heron's name for it)."""

    def __init__(self, plan: PhysicalPlan, task_id: int, inbox: str, stmgr: str,
                 outputs_path: str, checkpoints: CheckpointStore,
                 restore_from: int | None = None):
        self.plan = plan
        self.task_id = task_id
        info = plan.tasks[task_id]
        self.component_def = plan.logical.components[info.component]
        self.config = plan.logical.component_config(info.component)
        self.logger = logging.getLogger(f"{info.component}.{task_id}")
        self.context = TaskContext(plan, task_id)
        ctx = zeromq.context()
        queue_frames = int(config.number(self.config, config.QUEUE_FRAMES))
        self._inbox = zeromq.pull(ctx, queue_frames, inbox)
        self._outbox = zeromq.push(ctx, stmgr, queue_frames)
        self._poller = zmq.Poller()
        self._poller.register(self._inbox, zmq.POLLIN)
        self.outputs_path = outputs_path
        self._outputs_file = None
        capture = self._capture if self.config.get(config.CAPTURE_OUTPUTS) else None
        self.reliable = (self.config.get(api_constants.TOPOLOGY_RELIABILITY_MODE)
                         == api_constants.TopologyReliabilityMode.ATLEAST_ONCE)
        collector = ReliableCollector if self.reliable else OutputCollector
        self.collector = collector(plan, task_id, self.context, self.send,
                                   int(config.number(self.config, config.BATCH_SIZE)), capture)
        self._max_pending = int(self.config.get(api_constants.TOPOLOGY_MAX_SPOUT_PENDING) or 0)
        self._exhausted = False  # a bounded spout raised StopIteration
        self._drained: set[int] = set()  # upstream tasks that said only replays may follow
        self._drain_sent = False  # we said so downstream, and sent nothing new since
        self.active = True  # a deactivated spout's next_tuple is not called
        self.execute_latency = Histogram()  # seconds per input tuple, each batch's mean
        self._next_report = monotonic() + _METRICS_SECS
        self._flush_delay = config.number(self.config, config.BATCH_DELAY_MS) / 1000
        self.executed = 0
        self.ended = False
        self._stream_names = {wire: key for key, wire in plan.stream_ids.items()}
        self._upstream = frozenset(plan.upstream_tasks(info.component))
        self.open_channels: set = set(self._upstream)
        self._input_ended = False  # every input channel has ended
        self.collectives: CollectiveEngine | None = None
        self._loops: set[int] = set()  # SPMD loops (own collective streams) still running
        self._delivered: dict[int, int] = {}  # loop edge -> rounds delivered here
        graphs = plan.collectives_of(task_id)
        self._shm_out: SharedOutbox | None = None  # a collective's large arrays: see _send
        self._shm_in = SharedInbox()
        self._shm_threshold = int(config.number(self.config, config.SHM_THRESHOLD))
        self._shm_tasks: frozenset[int] = frozenset()  # tasks on our host (stmgr's "hosts")
        self.shared_frames = 0  # frames whose buffers went through shared memory
        if graphs and self._shm_threshold:
            self._shm_out = SharedOutbox(int(config.number(self.config, config.SHM_BUDGET)))
        self._direct_in: direct.DirectInbox | None = None  # collective frames, task to task
        self._direct_out: direct.DirectLinks | None = None
        self._room = zmq.Poller()  # what _wait_for_room waits for
        self.direct_frames = 0  # frames sent straight to a task on our host
        if graphs and config.flag(plan.logical.config, config.COLLECTIVE_DIRECT):
            self._direct_in = direct.DirectInbox(direct.path(inbox), self._drop_bad_frame)
            self._direct_out = direct.DirectLinks(task_id, self._room)
            for poller in (self._poller, self._room):
                poller.register(self._direct_in.fileno(), zmq.POLLIN)
        if graphs:
            self.collectives = CollectiveEngine(graphs, task_id, self._send_collective,
                                                self._deliver, self._collective_ended)
            self.collector.contribute = self.collectives.contribute
            for graph in graphs:
                if task_id in graph.delivering_tasks():
                    if graph.is_self_loop:
                        self._loops.add(graph.edge)
                    else:
                        self.open_channels.add(("collective", graph.edge))
        self.dropped = 0
        self.component = self.component_def.cls(self)
        self._bind_emit()
        self.windowing: WindowDriver | None = None
        self._relay: WatermarkRelay | None = None
        if isinstance(self.component, WindowedBolt):
            spec = self.component_def.cls.window_spec(self.config)
            self.windowing = WindowDriver(
                self.component, spec, sorted(self._upstream),
                _timestamp_positions(plan, info.component, spec.timestamp_field),
                self.collector.emit, self._send_watermark,
                self.collector.ack if self.reliable else None)
        elif not self.component_def.is_spout:
            self._relay = WatermarkRelay(sorted(self._upstream), self._send_watermark)
        self.checkpointing = Checkpointing(self, checkpoints, restore_from)

    # -- the delegate interface used by Spout and Bolt -------------------------------------
    def ack(self, tup) -> None:
        """The bolt is done with ``tup`` (ATMOST_ONCE: nothing to track)."""
        if self.reliable:
            self.collector.ack(tup)

    def fail(self, tup) -> None:
        """``tup``'s tree failed: its spout's ``fail`` will be called (ATLEAST_ONCE)."""
        if self.reliable:
            self.collector.fail(tup)

    def _bind_emit(self) -> None:
        """Sets ``self.emit`` with Heron's spout or bolt signature and, unless the component
        overrides ``emit``, binds it straight onto the component."""
        if self.component_def.is_spout:
            base = Spout
            collector_emit = self.collector.emit

            if self.reliable:
                def emit(tup, tup_id=None, stream="default", direct_task=None,
                         need_task_ids=False):
                    return collector_emit(tup, stream, None, direct_task, need_task_ids, tup_id)
            else:
                def emit(tup, tup_id=None, stream="default", direct_task=None,
                         need_task_ids=False):
                    return collector_emit(tup, stream, None, direct_task, need_task_ids)
        else:
            base, emit = Bolt, self.collector.emit
        self.emit = emit
        if type(self.component).emit is base.emit:
            self.component.emit = emit

    # -- lifecycle ---------------------------------------------------------------------------
    def run(self) -> int:
        """Runs until shutdown; returns the process exit status."""
        try:
            self.to_stmgr({"type": "hello", "task": self.task_id})
            early = self._await_start(config.number(self.config, config.START_TIMEOUT_SECS))
            ended = self.checkpointing.restore()
            self.component.initialize(self.config, self.context)
            if ended:  # it had ended at the checkpoint: its downstream restarted, tell it again
                self._finish()
            for frames in early:
                self.handle(frames)
            if not self.component_def.is_spout:
                self._check_inputs()  # a bolt fed by nothing but its own loop, or nothing here
            gc.freeze()  # the start-up heap lives as long as the task: keep the collector off it
            if self.component_def.is_spout:
                self._run_spout()
            else:
                self._run_bolt()
            return 0
        except TaskStopped:
            return 0
        except Exception:
            text = traceback.format_exc()
            self.logger.error("task failed:\n%s", text)
            self.to_stmgr({"type": "error", "task": self.task_id,
                            "component": self.component_def.name, "traceback": text})
            return 1
        finally:
            if self._outputs_file is not None:
                self._outputs_file.close()
            if self._shm_out is not None:
                self._shm_out.close()
            self._shm_in.close()
            if self._direct_in is not None:
                self._direct_in.close()
                self._direct_out.close()
            zeromq.context().destroy(linger=zeromq.LINGER_MS)

    def _await_start(self, timeout: float) -> list:
        """Waits for the stream manager's start; returns the frames that came first (a peer
        container may start a moment before ours), to be handled after ``initialize``."""
        early = []
        deadline = monotonic() + timeout
        while monotonic() < deadline:
            if self._poller.poll(100):
                frames = self._inbox.recv_multipart(copy=False)
                if _is_start(frames):
                    return early
                early.append(frames)
        raise TimeoutError(f"task {self.task_id}: no start from the stream manager in {timeout}s")

    def _on_control(self, message: dict) -> str:
        kind = message["type"]
        if kind == "shutdown":
            raise TaskStopped
        if kind in ("acked", "failed"):  # from the stream manager's acker, for a spout
            callback = self.component.ack if kind == "acked" else self.component.fail
            pending = self.collector.pending_roots
            for root in message["roots"]:
                if root in pending:
                    callback(pending.pop(root))
            if kind == "failed":
                self._exhausted = self._drain_sent = False  # it may emit them again
        elif kind == "acker_reset":  # our stream manager restarted: what it tracked is lost
            pending, self.collector.pending_roots = self.collector.pending_roots, {}
            for tup_id in pending.values():
                self.component.fail(tup_id)
            self._exhausted = self._drain_sent = False
        elif kind in ("activate", "deactivate") and self.component_def.is_spout:
            active = kind == "activate"
            if active != self.active:
                self.active = active
                (self.component.activate if active else self.component.deactivate)()
        elif kind == "checkpoint":  # at a spout
            self.checkpointing.checkpoint(message["id"])
        elif kind == "hosts":
            neighbours = message["neighbours"]
            self._shm_tasks = frozenset(neighbours)
            if self._direct_out is not None:
                self._direct_out.add_neighbours({t: direct.path(inbox) for t, inbox
                                                 in neighbours.items() if t != self.task_id})
        elif (kind == "task_restarted" and self.ended
              and message["task"] in self.collector.downstream):
            self.collector.end_of_stream([message["task"]])
        return kind

    def _check_inputs(self) -> None:
        if not self.open_channels and not self._input_ended and not self.ended:
            self._input_ended = True
            self.component.end_of_stream()
            self._settle()

    def _check_drained(self) -> None:
        """Once every open input says that only replays may follow (ATLEAST_ONCE, bounded
        spouts waiting for their acks), windows let go of what they hold (acking it), and
        downstream hears the same."""
        inputs = {c for c in self.open_channels if isinstance(c, int)}
        if inputs and inputs <= self._drained and not self._drain_sent and not self.ended:
            self._drain_sent = True
            if self.windowing is not None:
                self.windowing.flush()
            self.collector.drained()

    def _settle(self) -> None:
        """After end of input: ends each SPMD loop at the first moment every round this task
        contributed has come back and it contributed no new one; ends the task after its
        loops."""
        for edge in list(self._loops):
            if self.collectives.contributed[edge] <= self._delivered.get(edge, 0):
                self.collectives.end_leaf(edge)
        if not self._loops and not self.ended:
            self._finish()

    def _finish(self) -> None:
        """End of stream for this task: flush, tell downstream, report to the master."""
        self._input_ended = True
        if self.collectives is not None:
            self.collectives.end_leaves()
        self.collector.end_of_stream()
        self.ended = True
        self.checkpointing.checkpoint(FINAL)  # what to restore if a checkpoint finds us ended
        if self._outputs_file is not None:
            self._outputs_file.flush()
        self.to_stmgr({"type": "done", "task": self.task_id, "metrics": self._metrics()})

    def _metrics(self) -> dict:
        return {"emitted": self.collector.emitted, "executed": self.executed,
                "shared_frames": self.shared_frames, "direct_frames": self.direct_frames,
                "cpu_seconds": time.process_time(),
                "execute_latency": self.execute_latency.to_dict()}

    def _report_metrics(self) -> None:
        """Every _METRICS_SECS, this task's counts go to the master (``heronpy status``)."""
        now = monotonic()
        if now >= self._next_report:
            self._next_report = now + _METRICS_SECS
            self.to_stmgr({"type": "metrics", "task": self.task_id, **self._metrics()})

    # -- spout -------------------------------------------------------------------------------
    def _run_spout(self) -> None:
        next_tuple = self.component.next_tuple
        collector = self.collector
        poll = self._poller.poll
        delay = self._flush_delay
        next_flush = monotonic() + delay
        idle_ms = 0
        while True:
            wait_ms = _MAX_WAIT_MS
            if not self.ended:
                before = collector.emitted
                try:
                    for _ in range(self._burst()):
                        next_tuple()
                except StopIteration:
                    self._exhausted = True
                if self._exhausted and not collector.pending_roots:
                    self._finish()
                    continue
                if self._exhausted and not self._drain_sent:  # windows hold the rest back
                    self._drain_sent = True
                    collector.drained()
                now = monotonic()
                if collector.emitted == before:  # nothing to emit now: back off a little
                    collector.flush()
                    next_flush = now + delay
                    idle_ms = min(max(1, idle_ms * 2), 16)
                    wait_ms = idle_ms
                else:
                    idle_ms = wait_ms = 0
                    if now >= next_flush:
                        collector.flush()
                        next_flush = now + delay
            if self._held_back:
                self._wait_for_room(wait_ms)
                wait_ms = 0
            if poll(wait_ms):
                self._drain_inbox()
            self._report_metrics()

    def _burst(self) -> int:
        """How many times to call ``next_tuple`` now: none when exhausted (until a tuple
        fails) or deactivated, and no more than ``topology.max.spout.pending`` allows
        (ATLEAST_ONCE)."""
        if self._exhausted or not self.active or self._held_back:
            return 0
        if self.reliable and self._max_pending:
            return max(0, min(_SPOUT_BURST,
                              self._max_pending - len(self.collector.pending_roots)))
        return _SPOUT_BURST

    # -- bolt --------------------------------------------------------------------------------
    def _run_bolt(self) -> None:
        collector = self.collector
        recv = self._inbox.recv_multipart
        poll = self._poller.poll
        delay = self._flush_delay
        tick_secs = float(self.config.get("topology.tick.tuple.freq.secs") or 0)
        next_tick = monotonic() + tick_secs if tick_secs > 0 else float("inf")
        windowing = self.windowing
        gc_policy = GcPolicy()
        while True:
            next_timer = min(next_tick, windowing.next_timer if windowing else next_tick)
            wait_ms = min(_MAX_WAIT_MS, max(0, (next_timer - monotonic()) * 1000))
            if self._held_back:
                self._wait_for_room(wait_ms)
            elif poll(wait_ms):
                deadline = monotonic() + delay
                busy = True
                while busy:
                    for _ in range(_DRAIN):
                        try:
                            frames = recv(zmq.NOBLOCK, copy=False)
                        except zmq.Again:
                            busy = False
                            break
                        self.handle(frames)
                        if self._held_back:  # take no more input until our sends have gone
                            busy = False
                            break
                    self._direct_io()
                    gc_policy.after_batch()
                    if busy and monotonic() >= deadline:  # flush only when the delay is up
                        collector.flush()
                        deadline = monotonic() + delay
            if windowing is not None and not self.ended and monotonic() >= windowing.next_timer:
                windowing.on_timer()
            collector.flush()
            self._report_metrics()
            if monotonic() >= next_tick:
                next_tick += tick_secs
                if not self.ended:
                    self.component.process_tick(TupleHelper.make_tick_tuple(time.time()))

    def handle(self, frames) -> None:
        try:
            hdr, payload, *buffers = frames
            kind, flags, stream, source, _, count, seq = HEADER.unpack(hdr.buffer)
            if self.checkpointing.hold(source, frames):
                return  # behind a barrier: handled once the checkpoint is aligned
            if kind == Kind.DATA:
                component, stream_name = self._stream_names[stream]
                batch = codec.decode(payload.buffer)
                roots = None
                if flags & ANCHORED:
                    batch, roots = batch
                if not isinstance(batch, list):
                    raise TypeError(f"a batch must be a list, not {type(batch).__name__}")
            elif kind == Kind.CONTROL:
                message = read_control(payload.buffer)
                if "type" not in message:
                    raise ValueError(f"a control message without a type: {message!r}")
            elif kind == Kind.WATERMARK and source in self._upstream:
                (value,) = WATERMARK_VALUE.unpack(payload.buffer)
            elif kind == Kind.COLLECTIVE and self.collectives is not None:
                node_source, value = self._read_collective(
                    stream, count, flags, payload.buffer, [b.buffer for b in buffers])
            elif kind == Kind.BARRIER and source in self._upstream:
                self.checkpointing.on_barrier(source, seq)
                return
            elif kind not in (Kind.END_OF_STREAM, Kind.DRAINED) or source not in self._upstream:
                raise ValueError(f"frame kind {kind} from task {source}")
        except Exception as err:  # bad input must not take the task down: log, count, drop
            self._drop_bad_frame(err)
            return
        if kind == Kind.DATA:
            if self._drained:  # replays: a new drain will follow them
                self._drained.discard(source)
                self._drain_sent = False
            started = perf_counter()
            new = tuple.__new__
            now = time.time()
            if roots is not None:  # ATLEAST_ONCE: tuples carry their roots for ack/fail
                tuples = [new(HeronTuple, (None, component, stream_name, source, values, now, r))
                          for values, r in zip(batch, roots, strict=True)]
                if self.windowing is None:
                    for tup in tuples:
                        self.component.process(tup)
                else:
                    self.windowing.on_tuples(tuples, source)
            elif self.windowing is None:
                process = self.component.process
                for values in batch:
                    process(new(HeronTuple,
                                (None, component, stream_name, source, values, now, None)))
            elif batch:
                self.windowing.on_tuples([new(HeronTuple, (None, component, stream_name, source,
                                                             values, now, None))
                                           for values in batch], source)
            self.executed += len(batch)
            if batch:
                self.execute_latency.record((perf_counter() - started) / len(batch), len(batch))
        elif kind == Kind.WATERMARK:
            (self.windowing or self._relay).on_watermark(source, value)
        elif kind == Kind.COLLECTIVE:
            self.collectives.on_message(stream, count, node_source, seq, value)
        elif kind == Kind.END_OF_STREAM:
            self.open_channels.discard(source)
            (self.windowing or self._relay).on_end_of_stream(source)
            self.checkpointing.check_aligned()
            self._check_inputs()
            self._check_drained()
        elif kind == Kind.DRAINED:
            self._drained.add(source)
            self._check_drained()
        else:
            self._on_control(message)

    def _drop_bad_frame(self, err: Exception | str) -> None:
        self.dropped += 1
        if self.dropped & (self.dropped - 1) == 0:  # the 1st, 2nd, 4th, 8th, ... only
            self.logger.warning("dropped a malformed frame (%d so far): %r", self.dropped, err)

    def _drain_inbox(self) -> None:
        while True:
            try:
                frames = self._inbox.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                break
            self.handle(frames)
        self._direct_io()

    # -- collectives -------------------------------------------------------------------------
    def _read_collective(self, edge: int, node: int, flags: int, payload, buffers: list):
        """A collective frame's sending node and value (``END`` for an end marker)."""
        if flags & SHARED:
            buffers = [self._shm_in.take(b) for b in buffers]
        source, *value = codec.decode_with_buffers(payload, buffers)
        if not self.collectives.accepts(edge, node, source):
            raise ValueError(f"collective {edge} has no node {node} fed by {source} here")
        return source, END if flags & NODE_ENDED else value[0]

    @property
    def _held_back(self) -> bool:
        """Whether our direct sends wait for room in a neighbour's socket."""
        return self._direct_out is not None and self._direct_out.backlog

    def _wait_for_room(self, wait_ms: float) -> None:
        """Our direct sends wait (transport/direct.py). Until they have gone, a spout emits
        nothing and a bolt takes no new input, which backs up to the stream manager and
        pauses the spouts, as a blocking send would; but both keep taking collective frames
        from their neighbours, so no cycle of tasks waits for ever."""
        self._room.poll(min(wait_ms, direct.RETRY_MS))
        self._direct_io()

    def _direct_io(self) -> None:
        """Collective frames that tasks on our host sent straight here (transport/direct.py),
        then ours that wait for room in theirs."""
        if self._direct_in is None:
            return
        for frames in self._direct_in.receive(_DRAIN):
            try:
                hdr, payload, *buffers = frames
                kind, flags, edge, _, _, node, round_id = HEADER.unpack(hdr)
                if kind != Kind.COLLECTIVE:
                    raise ValueError(f"frame kind {kind} sent task to task")
                source, value = self._read_collective(edge, node, flags, payload, buffers)
            except Exception as err:  # as in handle: log, count, drop
                self._drop_bad_frame(err)
                continue
            self.collectives.on_message(edge, node, source, round_id, value)
        self._direct_out.flush()

    def _deliver(self, graph: CollectiveGraph, values: list, source: int) -> None:
        """One round's tuple for this task's component."""
        self.executed += 1
        self.component.process(HeronTuple(None, graph.producer, graph.stream, source, values,
                                          time.time(), None))
        if graph.edge in self._loops:
            self._delivered[graph.edge] = self._delivered.get(graph.edge, 0) + 1
            if self._input_ended:
                self._settle()

    def _collective_ended(self, graph: CollectiveGraph) -> None:
        if graph.is_self_loop:
            self._loops.discard(graph.edge)
            if self._input_ended:
                self._settle()
        else:
            self.open_channels.discard(("collective", graph.edge))
            self._check_inputs()

    def _send_collective(self, task: int, edge: int, node: int, source: int, round_id: int,
                         value) -> None:
        if value is END:
            flags, payload, buffers = NODE_ENDED, codec.encode([source]), []
        else:
            payload, buffers = codec.encode_with_buffers([source, value])
            flags = 0
            if (self._shm_out is not None and task in self._shm_tasks
                    and sum(b.nbytes for b in buffers) >= self._shm_threshold):
                descriptors = self._shm_out.put(buffers)
                if descriptors is not None:
                    buffers, flags = descriptors, SHARED
                    self.shared_frames += 1
        frame = (header(Kind.COLLECTIVE, edge, self.task_id, task, node, round_id, flags),
                 payload, *buffers)
        if self._direct_out is not None and task in self._direct_out:
            self._direct_out.send(task, frame)
            self.direct_frames += 1
        else:
            self.send(*frame)

    # -- plumbing ----------------------------------------------------------------------------
    def send(self, hdr: bytes, payload: bytes, *buffers) -> None:
        """Sends a frame (and the raw buffers its payload refers to) to the stream manager."""
        try:
            self._outbox.send_multipart((hdr, payload, *buffers), zmq.NOBLOCK, copy=False)
        except zmq.Again:
            self._send_when_room((hdr, payload, *buffers))

    def _send_when_room(self, parts: tuple) -> None:
        """Backpressure: the queue to the stream manager is full. Waiting here holds back
        ``next_tuple`` or ``process`` until downstream catches up."""
        started = monotonic()
        while not self._outbox.poll(_MAX_WAIT_MS, zmq.POLLOUT):
            waited = monotonic() - started
            if waited > _SLOW_WARNING_SECS and int(waited) % _SLOW_WARNING_SECS == 0:
                self.logger.warning("held back by backpressure for %.0f s", waited)
        self._outbox.send_multipart(parts, zmq.NOBLOCK, copy=False)

    def _send_watermark(self, value: float) -> None:
        """In band: behind every tuple this task emitted so far."""
        self.collector.flush()
        for dest in self.collector.downstream:
            self.send(*watermark(self.task_id, dest, value))

    def to_stmgr(self, message: dict) -> None:
        self.send(*control(self.task_id, CONTROL_TASK, message))

    def outputs_size(self) -> int:
        """Bytes of captured outputs so far (a checkpoint records it)."""
        if self._outputs_file is None:
            return 0
        self._outputs_file.flush()
        return self._outputs_file.tell()

    def _capture(self, stream: str, values: list) -> None:
        if self._outputs_file is None:
            self._outputs_file = open(self.outputs_path, "ab")  # noqa: SIM115 - closed in run()
        self._outputs_file.write(codec.encode([stream, values]))
