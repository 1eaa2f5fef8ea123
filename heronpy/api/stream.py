"""Output streams and the groupings that route them (Heron's ``Stream`` and ``Grouping``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from heronpy.api.custom_grouping import ICustomGrouping


class Stream:
    """An output stream of a component: its field names and its id.

    >>> Stream(fields=["word", "count"], name="counts").fields
    ['word', 'count']
    """

    DEFAULT_STREAM_ID = "default"

    def __init__(self, fields=None, name: str = DEFAULT_STREAM_ID, direct: bool = False):
        if fields is None:
            fields = []
        if not isinstance(fields, (list, tuple)) or not all(isinstance(f, str) for f in fields):
            raise TypeError(f"Stream fields must be a list of strings, given: {fields!r}")
        if not isinstance(name, str):
            raise TypeError(f"Stream name must be a string, given: {name!r}")
        if not isinstance(direct, bool):
            raise TypeError(f"'direct' must be True or False, given: {direct!r}")
        self.fields: list[str] = list(fields)
        self.stream_id = name
        self.direct = direct

    def __repr__(self) -> str:
        return f"Stream(fields={self.fields!r}, name={self.stream_id!r})"


COLLECTIVES = ("broadcast", "reduce", "allreduce", "gather", "allgather")
"""Grouping kinds that are collectives: the engine inserts relay / combine nodes for them."""
ALGORITHMS = ("flat", "binary_tree", "ring")
OPS = ("sum", "min", "max", "prod")


@dataclass(frozen=True)
class GroupingSpec:
    """How the tuples of one stream are split among the tasks of one consumer.

    ``kind`` is one of ``shuffle, fields, all, lowest, none, direct, custom`` or a collective
    (``broadcast, reduce, allreduce, gather, allgather``), which has an ``algorithm`` (None:
    the topology's ``heronpy.collective.algorithm``), a tree ``degree`` and, for reductions,
    an ``op``.
    """

    kind: str
    fields: tuple[str, ...] = ()
    custom: ICustomGrouping | str | None = field(default=None, compare=False)
    op: str | Callable | None = None
    algorithm: str | None = None
    degree: int | None = None

    @property
    def is_collective(self) -> bool:
        return self.kind in COLLECTIVES

    def __repr__(self) -> str:
        if self.kind == "fields":
            return f"fields({', '.join(self.fields)})"
        if self.kind == "custom":
            return f"custom({type(self.custom).__name__})"
        if self.is_collective:
            args = [] if self.op is None else [getattr(self.op, "__name__", repr(self.op))]
            args += [f"{k}={v}" for k, v in (("algorithm", self.algorithm),
                                              ("degree", self.degree)) if v is not None]
            return f"{self.kind}({', '.join(args)})"
        return self.kind


class Grouping:
    """The groupings a bolt may subscribe with, under Heron's names.

    >>> Grouping.fields("word")
    fields(word)
    """

    SHUFFLE = GroupingSpec("shuffle")
    ALL = GroupingSpec("all")
    LOWEST = GroupingSpec("lowest")
    NONE = GroupingSpec("none")
    DIRECT = GroupingSpec("direct")
    GLOBAL = LOWEST
    LOCAL_OR_SHUFFLE = SHUFFLE

    @classmethod
    def fields(cls, *fields: str | list[str]) -> GroupingSpec:
        """Tuples with equal values in ``fields`` go to the same task, in every process and run."""
        names = fields[0] if len(fields) == 1 and isinstance(fields[0], (list, tuple)) else fields
        if not names:
            raise ValueError("fields grouping needs at least one field name")
        if not all(isinstance(n, str) for n in names):
            raise TypeError(f"field names must be strings, given: {names!r}")
        return GroupingSpec("fields", tuple(names))

    @classmethod
    def custom(cls, grouper: ICustomGrouping | str) -> GroupingSpec:
        """Routing chosen by an ``ICustomGrouping`` instance (or its ``module.Class`` path)."""
        if not isinstance(grouper, (ICustomGrouping, str)):
            raise TypeError("custom() takes an ICustomGrouping instance or a class path")
        return GroupingSpec("custom", custom=grouper)

    # -- collectives: one tuple per round, see docs/collectives.md ----------------------------
    @classmethod
    def broadcast(cls, algorithm: str | None = None, degree: int | None = None) -> GroupingSpec:
        """Every consumer task gets every tuple, in order, relayed along ``algorithm``'s tree."""
        return _collective("broadcast", None, algorithm, degree)

    @classmethod
    def reduce(cls, op: str | Callable, algorithm: str | None = None,
               degree: int | None = None) -> GroupingSpec:
        """Round r: the consumer's first task gets, field by field, ``op`` over the r-th tuple
        of every producer task. ``op``: "sum", "min", "max", "prod" or ``(a, b) -> c``."""
        return _collective("reduce", op, algorithm, degree)

    @classmethod
    def allreduce(cls, op: str | Callable, algorithm: str | None = None,
                  degree: int | None = None) -> GroupingSpec:
        """As ``reduce``, but every consumer task gets each round's result."""
        return _collective("allreduce", op, algorithm, degree)

    @classmethod
    def gather(cls, algorithm: str | None = None, degree: int | None = None) -> GroupingSpec:
        """Round r: the consumer's first task gets, field by field, the list of the r-th
        tuples' values ordered by producer task index."""
        return _collective("gather", None, algorithm, degree)

    @classmethod
    def allgather(cls, algorithm: str | None = None, degree: int | None = None) -> GroupingSpec:
        """As ``gather``, but every consumer task gets each round's lists."""
        return _collective("allgather", None, algorithm, degree)

    @classmethod
    def is_grouping_sane(cls, gtype) -> bool:
        return isinstance(gtype, GroupingSpec)


def _collective(kind: str, op, algorithm: str | None, degree: int | None) -> GroupingSpec:
    if kind in ("reduce", "allreduce") and not (op in OPS or callable(op)):
        raise ValueError(f"{kind}: op must be one of {list(OPS)} or a function (a, b) -> c, "
                         f"given {op!r}")
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise ValueError(f"{kind}: algorithm must be one of {list(ALGORITHMS)}, given "
                         f"{algorithm!r}")
    if degree is not None and (isinstance(degree, bool) or not isinstance(degree, int)
                               or degree < 2):
        raise ValueError(f"{kind}: degree must be an integer >= 2, given {degree!r}")
    return GroupingSpec(kind, op=op, algorithm=algorithm, degree=degree)
