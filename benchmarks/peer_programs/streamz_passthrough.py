"""Pass-through in streamz: each tuple of the schedule (``common.Schedule``) is emitted into
source -> ``map`` (the relay) -> a sink recording latencies (``common.Recorder``); between
due tuples the loop sleeps."""

from __future__ import annotations

import time

from common import Recorder, Schedule
from streamz import Stream

recorder = Recorder()
source = Stream()
source.map(lambda t: t).sink(lambda t: recorder.record((t,)))
schedule = Schedule()
while True:
    try:
        due = schedule.due()
    except StopIteration:
        break
    for t in due:
        source.emit(t)
    if not due:
        time.sleep(max(0.0, schedule.next_due() - time.time()))
recorder.report("streamz")
