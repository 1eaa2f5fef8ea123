"""The tuple codec (msgpack + numpy buffers + pickle fallback), and the fields-grouping hash."""

import dataclasses
import io
import json
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from helpers import subprocess_env

from heronpy.instance import codec
from heronpy.instance.routing import fields_index


def roundtrip(value):
    return codec.decode(codec.encode(value))


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: float
    label: str = "p"


ARRAYS = {
    "float64 2-d": np.arange(12, dtype=np.float64).reshape(3, 4) / 7,
    "float32 1-d": np.linspace(-1, 1, 9, dtype=np.float32),
    "float16": np.array([0.5, -2.25, np.inf], dtype=np.float16),
    "int8 3-d": np.arange(-12, 12, dtype=np.int8).reshape(2, 3, 4),
    "uint16": np.array([0, 1, 65535], dtype=np.uint16),
    "int64 extremes": np.array([np.iinfo(np.int64).min, 0, np.iinfo(np.int64).max]),
    "uint64 max": np.array([np.iinfo(np.uint64).max], dtype=np.uint64),
    "bool": np.array([[True, False], [False, True]]),
    "complex128": np.array([1 + 2j, -3.5j]),
    "big-endian int32": np.array([1, 256, -7], dtype=">i4"),
    "unicode": np.array(["heron", "storm", ""]),
    "bytes": np.array([b"ab", b"c"]),
    "datetime64": np.array(["2020-01-01", "1999-12-31"], dtype="datetime64[D]"),
    "empty 2-d": np.zeros((0, 3)),
    "empty 3-d": np.zeros((2, 0, 3), dtype=np.int32),
    "fortran order": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    "strided view": np.arange(20, dtype=np.int16).reshape(4, 5)[::2, 1::2],
    "nan": np.array([np.nan, 1.0]),
    "structured": np.array([(1, 2.5), (3, -1.0)], dtype=[("a", "<i4"), ("b", "<f8")]),
    "object": np.array([1, "two", None], dtype=object),
}


def assert_same_array(decoded, original):
    assert isinstance(decoded, np.ndarray)
    assert decoded.dtype == original.dtype
    assert decoded.shape == original.shape
    if original.dtype.kind == "O":
        assert decoded.tolist() == original.tolist()
    else:
        assert decoded.tobytes() == np.ascontiguousarray(original).tobytes()  # bit-exact
        assert np.array_equal(decoded, original, equal_nan=original.dtype.kind in "fc")


@pytest.mark.parametrize("name", list(ARRAYS))
def test_numpy_array_roundtrip(name):
    original = ARRAYS[name]
    assert_same_array(roundtrip(original), original)


@pytest.mark.parametrize("original", [np.array(5), np.array(2.5, dtype=np.float32)], ids=repr)
def test_zero_dimensional_array_roundtrip(original):
    assert original.ndim == 0
    assert_same_array(roundtrip(original), original)


def test_decoded_array_is_writable_and_owns_its_memory():
    decoded = roundtrip(np.arange(4))
    decoded[0] = 99  # frombuffer would be read-only
    assert decoded.tolist() == [99, 1, 2, 3]


def test_arrays_inside_a_batch():
    batch = [["a", np.eye(2)], ["b", np.arange(3, dtype=np.uint8)]]
    decoded = roundtrip(batch)
    assert [row[0] for row in decoded] == ["a", "b"]
    assert_same_array(decoded[0][1], batch[0][1])
    assert_same_array(decoded[1][1], batch[1][1])


@pytest.mark.parametrize("scalar", [
    np.float64(0.1), np.float32(0.1), np.float16(1.5), np.int64(-(2**40)), np.int8(-3),
    np.uint8(255), np.uint64(2**64 - 1), np.bool_(True), np.bool_(False), np.str_("heron"),
    np.bytes_(b"\x00x"), np.complex128(1 + 2j), np.datetime64("2020-01-01"),
], ids=lambda s: f"{type(s).__name__}({s})")
def test_numpy_scalar_roundtrip(scalar):
    decoded = roundtrip(scalar)
    assert decoded == scalar
    assert type(np.asarray(decoded).item()) is type(scalar.item())
    assert np.asarray(decoded).item() == scalar.item()


@pytest.mark.parametrize("value", [
    None, True, False, 0, -1, 2**63 - 1, -(2**63), 2**64 - 1, 1.5, float("inf"), "", "héron ✓",
    b"", b"\xff\x00", [], [1, [2, [3]]], {}, {"a": [1, 2]},
], ids=repr)
def test_plain_values_roundtrip(value):
    decoded = roundtrip(value)
    assert decoded == value
    assert type(decoded) is type(value)


def test_bytes_and_str_stay_distinct():
    decoded = roundtrip([b"abc", "abc", bytearray(b"abc")])
    assert decoded[0] == b"abc" and type(decoded[0]) is bytes
    assert decoded[1] == "abc" and type(decoded[1]) is str
    assert bytes(decoded[2]) == b"abc"


def test_dicts_with_int_keys():
    value = {1: "one", -2: [2], 2**40: {3: "nested"}, "s": 0}
    decoded = roundtrip(value)
    assert decoded == value
    assert all(type(k) is type(o) for k, o in zip(decoded, value, strict=True))
    assert decoded[2**40] == {3: "nested"}


def test_dicts_with_tuple_keys():
    # a tuple key travels as a msgpack array; it must come back hashable (as a tuple)
    value = {(1, "a"): 3, (2, (3, 4)): [5]}
    decoded = roundtrip(value)
    assert decoded == {(1, "a"): 3, (2, (3, 4)): [5]}


def test_tuples_arrive_as_lists():
    assert roundtrip((1, ("a", b"b"))) == [1, ["a", b"b"]]


@pytest.mark.parametrize("value", [
    {1, 2, 3}, frozenset({"a"}), Point(1, 2.5), 3 + 4j, Fraction(1, 3), range(3, 9, 2),
    [Point(0, 0.0, "origin"), {"nested": {5, 6}}],
], ids=lambda v: type(v).__name__)
def test_other_objects_roundtrip_through_pickle(value):
    decoded = roundtrip(value)
    assert decoded == value
    assert type(decoded) is type(value)


def test_an_object_of_a_class_defined_in_a_function():
    @dataclasses.dataclass
    class Local:
        items: set

    decoded = roundtrip(Local({1, 2}))
    assert decoded.items == {1, 2}
    assert type(decoded).__name__ == "Local"


def test_unpacker_reads_successive_objects():
    stream = io.BytesIO(b"".join(codec.encode(v) for v in (["default", [[1]]], {2, 3},
                                                            np.arange(2))))
    values = list(codec.unpacker(stream))
    assert values[0] == ["default", [[1]]]
    assert values[1] == {2, 3}
    assert_same_array(values[2], np.arange(2))


# -- the fields-grouping hash ---------------------------------------------------------------

KEYS = ["heron", "", "héron ✓", 0, 42, -7, 2**40, 3.25, True, None, ["a", 1], [1, 2, 3],
        ["word", None, 2.5], b"raw"]


def test_fields_index_is_the_same_in_a_fresh_process():
    cases = [(key, n) for key in KEYS for n in (1, 2, 3, 7)]
    here = [fields_index(key, n) for key, n in cases]
    script = ("import json, sys\n"
              "from heronpy.instance.routing import fields_index\n"
              "def key(k):\n"
              "    return bytes.fromhex(k['hex']) if isinstance(k, dict) else k\n"
              "print(json.dumps([fields_index(key(k), n) for k, n in json.loads(sys.argv[1])]))\n")
    payload = [({"hex": key.hex()} if isinstance(key, bytes) else key, n) for key, n in cases]
    for seed in ("0", "12345"):  # str hashes differ between these processes
        env = {**subprocess_env(), "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", script, json.dumps(payload)], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == here


def test_fields_index_range_and_spread():
    for n in (1, 2, 3, 5):
        indices = [fields_index(f"word{i}", n) for i in range(1000)]
        assert set(indices) == set(range(n))
        assert min(indices.count(i) for i in range(n)) > 1000 / n * 0.8
    assert fields_index("same", 4) == fields_index("same", 4)
    assert fields_index(["a", 1], 5) == fields_index(("a", 1), 5)  # a tuple key is a list
