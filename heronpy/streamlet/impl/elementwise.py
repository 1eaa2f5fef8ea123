"""Bolts that handle one element at a time: map, flat_map, filter, forwarding (union, clone,
repartition) and the sinks (consume, log). Each acks its input once done with it, and anchors
what it emits to it (ATLEAST_ONCE; free otherwise)."""

from __future__ import annotations

from heronpy.api.bolt.bolt import Bolt
from heronpy.streamlet.impl.component import StreamletComponent, element


class MapBolt(StreamletComponent, Bolt):
    """Emits ``function(element)``."""

    def process(self, tup):
        self.emit_element(self.function(element(tup)), tup)
        self.ack(tup)


class FlatMapBolt(StreamletComponent, Bolt):
    """Emits each element of ``function(element)``."""

    def process(self, tup):
        for value in self.function(element(tup)):
            self.emit_element(value, tup)
        self.ack(tup)


class FilterBolt(StreamletComponent, Bolt):
    """Emits the elements for which ``function(element)`` is true."""

    def process(self, tup):
        value = element(tup)
        if self.function(value):
            self.emit_element(value, tup)
        self.ack(tup)


class ForwardBolt(StreamletComponent, Bolt):
    """Emits every element as it is: what union, clone and repartition run (their work is
    in their subscriptions)."""

    def process(self, tup):
        self.emit_element(element(tup), tup)
        self.ack(tup)


class ConsumeBolt(StreamletComponent, Bolt):
    """Calls ``function(element)``; emits nothing."""

    sink = True

    def process(self, tup):
        self.function(element(tup))
        self.ack(tup)


class LogBolt(StreamletComponent, Bolt):
    """Logs every element (``str``) to the task's log at info level; emits nothing."""

    sink = True

    def process(self, tup):
        self.log(str(element(tup)))
        self.ack(tup)
