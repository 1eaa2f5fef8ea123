"""Tuple payload encoding: msgpack, with numpy arrays as raw buffers and pickle as a last resort.

msgpack round-trips None, bool, int, float, str, bytes, lists and dicts (tuples arrive as
lists, except as dict keys, where they stay tuples). numpy arrays travel as dtype + shape +
raw bytes; any other object is cloudpickled, which works but is slow: keep it off hot streams.
``encode_with_buffers`` leaves arrays out of the payload, as raw buffers to send as separate
message parts: no copy on the way out, and the receiver's arrays are read-only views of what
arrived.
"""

from __future__ import annotations

import struct

import cloudpickle
import msgpack

_NDARRAY = 1
_PICKLED = 2
_BUFFER = 3
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


def encode_with_buffers(obj) -> tuple[bytes, list]:
    """``obj`` encoded, with each numpy array replaced by a reference to a raw buffer in the
    returned list (C-contiguous arrays are not copied)."""
    buffers: list = []

    def default(o):
        if type(o).__module__ == "numpy":
            import numpy as np

            if isinstance(o, np.ndarray) and o.dtype.kind not in "OV":
                buffers.append(np.ascontiguousarray(o))
                return msgpack.ExtType(_BUFFER, msgpack.packb([o.dtype.str, list(o.shape),
                                                               len(buffers) - 1]))
        return _default(o)

    return msgpack.packb(obj, default=default), buffers


def decode_with_buffers(data, buffers: list) -> object:
    """The inverse of ``encode_with_buffers``: arrays are views of ``buffers``, not copies."""
    def ext_hook(code: int, ext: bytes):
        if code == _BUFFER:
            import numpy as np

            dtype, shape, index = msgpack.unpackb(ext)
            return np.frombuffer(buffers[index], dtype).reshape(tuple(shape))
        return _ext_hook(code, ext)

    return msgpack.unpackb(data, ext_hook=ext_hook, strict_map_key=False)


def unpacker(stream) -> msgpack.Unpacker:
    """Reads successive encoded objects from a file."""
    return msgpack.Unpacker(stream, ext_hook=_ext_hook, strict_map_key=False)
