"""The tuple a bolt receives: Heron's ``Tuple`` / ``HeronTuple`` shape."""

from collections import namedtuple

Tuple = namedtuple("Tuple", "id component stream task values")
"""Storm's primitive data type: ``values`` is the payload; the rest says where it came from."""

HeronTuple = namedtuple("HeronTuple", (*Tuple._fields, "creation_time", "roots"))
"""What ``Bolt.process`` receives: a ``Tuple`` plus its creation time and reliability roots."""


class TupleHelper:
    """Names of the system stream that carries tick tuples."""

    TICK_TUPLE_ID = "__tick"
    TICK_SOURCE_COMPONENT = "__system"

    @staticmethod
    def make_tick_tuple(now: float) -> HeronTuple:
        return HeronTuple(
            None, TupleHelper.TICK_SOURCE_COMPONENT, TupleHelper.TICK_TUPLE_ID, -1, [], now, None
        )
