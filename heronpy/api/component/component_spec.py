"""What ``Spout.spec`` / ``Bolt.spec`` return: one component's place in a topology."""

from __future__ import annotations

from heronpy.api.stream import Stream


class HeronComponentSpec:
    """A component's class, parallelism, inputs, outputs and config, before validation.

    ``inputs`` is kept as the user gave it (dict or list, keyed by spec or ``GlobalStreamId``);
    ``heronpy.topology.logical`` resolves and validates it when the topology is built.
    """

    def __init__(self, name, component_cls, is_spout: bool, par, inputs=None, outputs=None,
                 config=None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"component name must be a string, given: {name!r}")
        self.name: str | None = name
        self.component_cls = component_cls
        self.python_class_path = f"{component_cls.__module__}.{component_cls.__qualname__}"
        self.is_spout = is_spout
        self.parallelism = par
        self.inputs = inputs
        self.outputs = list(outputs or [])
        self.custom_config = dict(config or {})

    def output_streams(self) -> dict[str, list[str]]:
        """Maps stream id to field names; plain strings are fields of the default stream."""
        streams: dict[str, list[str]] = {}
        for out in self.outputs:
            if isinstance(out, str):
                streams.setdefault(Stream.DEFAULT_STREAM_ID, []).append(out)
            elif isinstance(out, Stream):
                streams.setdefault(out.stream_id, []).extend(out.fields)
            else:
                raise TypeError(
                    f"component '{self.name}': outputs must be strings or Streams, given {out!r}"
                )
        return streams

    def __getitem__(self, stream_id: str) -> GlobalStreamId:
        """``spec["stream"]`` names one of this component's streams as an input."""
        if stream_id not in self.output_streams():
            raise ValueError(f"component '{self.name}' has no output stream '{stream_id}'")
        return GlobalStreamId(self, stream_id)

    def __repr__(self) -> str:
        return f"<{'spout' if self.is_spout else 'bolt'} {self.name!r} {self.python_class_path}>"


class GlobalStreamId:
    """A stream of a component, as a key of a bolt's ``inputs``."""

    def __init__(self, componentId: str | HeronComponentSpec, streamId: str):  # noqa: N803
        if not isinstance(componentId, (str, HeronComponentSpec)):
            raise TypeError("GlobalStreamId: componentId must be a string or a component spec")
        if not isinstance(streamId, str):
            raise TypeError("GlobalStreamId: streamId must be a string")
        self._component = componentId
        self.stream_id = streamId

    @property
    def component_id(self) -> str | None:
        if isinstance(self._component, HeronComponentSpec):
            return self._component.name
        return self._component

    def __eq__(self, other) -> bool:
        return (isinstance(other, GlobalStreamId) and self.component_id == other.component_id
                and self.stream_id == other.stream_id)

    def __hash__(self) -> int:
        return hash((self.component_id, self.stream_id))

    def __repr__(self) -> str:
        return f"{self.component_id}:{self.stream_id}"
