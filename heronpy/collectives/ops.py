"""Reduction ops, applied field by field to numbers and numpy arrays alike.

An op must be associative and commutative (as MPI's built-in ops are): the tree decides the
order in which contributions meet.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np

Combine = Callable[[list, list], list]


def _elementwise(array_op, scalar_op) -> Callable:
    def apply(a, b):
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return array_op(a, b)
        return scalar_op(a, b)
    return apply


BUILTIN: dict[str, Callable] = {
    "sum": operator.add,
    "prod": operator.mul,
    "min": _elementwise(np.minimum, min),
    "max": _elementwise(np.maximum, max),
}


def field_op(op: str | Callable) -> Callable:
    """The function that reduces two values of one field."""
    return BUILTIN[op] if isinstance(op, str) else op


def combiner(op: str | Callable) -> Combine:
    """``combine(a, b)``: two tuples' values reduced field by field with ``op``."""
    fn = field_op(op)

    def combine(a: list, b: list) -> list:
        if len(a) != len(b):
            raise ValueError(f"cannot reduce tuples of {len(a)} and {len(b)} fields")
        return [fn(x, y) for x, y in zip(a, b, strict=True)]

    return combine
