"""Tuple payload encoding: msgpack, with numpy arrays as raw buffers and pickle as a last resort.

msgpack round-trips None, bool, int, float, str, bytes, lists and dicts (tuples arrive as
lists, except as dict keys, where they stay tuples). numpy arrays travel as dtype + shape +
raw bytes; any other object is cloudpickled, which works but is slow: keep it off hot streams.
"""

from __future__ import annotations

import struct

import cloudpickle
import msgpack

_NDARRAY = 1
_PICKLED = 2
_META_LEN = struct.Struct("<I")


def _default(obj):
    if type(obj).__module__ == "numpy":
        import numpy as np

        if isinstance(obj, np.ndarray) and obj.dtype.kind not in "OV":
            data = obj.tobytes()  # C order, whatever the layout in memory
            meta = msgpack.packb([obj.dtype.str, list(obj.shape)])
            return msgpack.ExtType(_NDARRAY, _META_LEN.pack(len(meta)) + meta + data)
        if isinstance(obj, np.generic):
            native = obj.item()
            if isinstance(native, (bool, int, float, str, bytes)):
                return native
    return msgpack.ExtType(_PICKLED, cloudpickle.dumps(obj))


def _ext_hook(code: int, data: bytes):
    if code == _NDARRAY:
        import numpy as np

        (meta_len,) = _META_LEN.unpack_from(data)
        dtype, shape = msgpack.unpackb(data[4:4 + meta_len])
        return np.frombuffer(data, dtype, offset=4 + meta_len).reshape(tuple(shape)).copy()
    if code == _PICKLED:
        return cloudpickle.loads(data)
    return msgpack.ExtType(code, data)


_packer = msgpack.Packer(default=_default, autoreset=True)
encode = _packer.pack
"""Encodes one object (a batch is a list of value lists)."""


def decode(data) -> object:
    try:
        return msgpack.unpackb(data, ext_hook=_ext_hook, strict_map_key=False)
    except TypeError:  # a dict keyed by tuples (they arrive as lists): decode again, slowly
        return msgpack.unpackb(data, ext_hook=_ext_hook, strict_map_key=False,
                               object_pairs_hook=_dict_with_hashable_keys)


def _hashable(key):
    return tuple(map(_hashable, key)) if isinstance(key, list) else key


def _dict_with_hashable_keys(pairs) -> dict:
    return {_hashable(k): v for k, v in pairs}


def unpacker(stream) -> msgpack.Unpacker:
    """Reads successive encoded objects from a file."""
    return msgpack.Unpacker(stream, ext_hook=_ext_hook, strict_map_key=False)
