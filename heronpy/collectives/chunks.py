"""Cutting a tuple into chunks for the ring allreduce, and putting it back together.

Array fields with at least as many elements as there are chunks are flattened and split into
nearly equal parts; other fields ride whole with chunk 0 (``None`` in the others). Every chunk
ends with the arrays' shapes, so the receiver can rebuild them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from heronpy.collectives.ops import field_op


def split(values: list, n: int) -> list[list]:
    shapes = [list(v.shape) if isinstance(v, np.ndarray) and v.size >= n else None
              for v in values]
    parts: list[list] = [[] for _ in range(n)]
    for value, shape in zip(values, shapes, strict=True):
        if shape is None:
            parts[0].append(value)
            for part in parts[1:]:
                part.append(None)
        else:
            for part, piece in zip(parts, np.array_split(value.reshape(-1), n), strict=True):
                part.append(piece)
    return [[*part, shapes] for part in parts]


def join(parts: list[list]) -> list:
    """The tuple's values from its chunks, in chunk order."""
    shapes = parts[0][-1]
    return [parts[0][f] if shape is None
            else np.concatenate([part[f] for part in parts]).reshape(shape)
            for f, shape in enumerate(shapes)]


def combiner(op) -> Callable[[list, list], list]:
    """Reduces two chunks field by field (skipping fields that ride with another chunk)."""
    fn = field_op(op)

    def combine(a: list, b: list) -> list:
        return [*(x if x is None else fn(x, y) for x, y in zip(a[:-1], b[:-1], strict=True)),
                a[-1]]

    return combine
