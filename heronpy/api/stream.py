"""Output streams and the groupings that route them (Heron's ``Stream`` and ``Grouping``)."""

from __future__ import annotations

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


@dataclass(frozen=True)
class GroupingSpec:
    """How the tuples of one stream are split among the tasks of one consumer.

    ``kind`` is one of ``shuffle, fields, all, lowest, none, direct, custom``.
    """

    kind: str
    fields: tuple[str, ...] = ()
    custom: ICustomGrouping | str | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        if self.kind == "fields":
            return f"fields({', '.join(self.fields)})"
        if self.kind == "custom":
            return f"custom({type(self.custom).__name__})"
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

    @classmethod
    def is_grouping_sane(cls, gtype) -> bool:
        return isinstance(gtype, GroupingSpec)
