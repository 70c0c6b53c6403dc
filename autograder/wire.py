"""Plain data across the sandbox boundary.

Only None, bool, int, float, str, lists, str-keyed dicts and numeric NumPy arrays cross it. The
encoding is JSON plus raw .npy blobs read back with ``allow_pickle=False``, so the grader never
unpickles anything and never holds an object a submission made.
"""
import io
import json
import math
import os
import struct

import numpy as np

MAX_FRAME = 256 * 2**20
_NUMERIC_KINDS = "biuf"


class WireError(ValueError):
    """The peer sent something that is not plain data."""


def encode(value) -> bytes:
    blobs: list[bytes] = []

    def enc(v):
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int):
            return {"$int": str(v)} if abs(v) > 2**53 else v
        if isinstance(v, float):
            return v if math.isfinite(v) else {"$float": repr(v)}
        if isinstance(v, np.ndarray):
            buf = io.BytesIO()
            np.save(buf, v, allow_pickle=False)
            blobs.append(buf.getvalue())
            return {"$nd": len(blobs) - 1}
        if isinstance(v, (list, tuple)):
            return {"$tuple": [enc(x) for x in v]} if isinstance(v, tuple) else [enc(x) for x in v]
        if isinstance(v, dict):
            return {"$dict": [[str(k), enc(x)] for k, x in v.items()]}
        raise WireError(f"not plain data: {type(v).__name__}")

    head = json.dumps(enc(value)).encode()
    parts = [struct.pack("<II", len(head), len(blobs)), head]
    for blob in blobs:
        parts += [struct.pack("<Q", len(blob)), blob]
    return b"".join(parts)


def decode(data: bytes):
    try:
        n_head, n_blobs = struct.unpack_from("<II", data, 0)
        pos = 8
        head = json.loads(data[pos:pos + n_head].decode())
        pos += n_head
        blobs = []
        for _ in range(n_blobs):
            (size,) = struct.unpack_from("<Q", data, pos)
            pos += 8
            arr = np.load(io.BytesIO(data[pos:pos + size]), allow_pickle=False)
            pos += size
            if type(arr) is not np.ndarray or arr.dtype.kind not in _NUMERIC_KINDS:
                raise WireError(f"array of dtype {arr.dtype} is not numeric")
            blobs.append(arr)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise WireError(f"malformed message: {exc}") from None

    def dec(v):
        if isinstance(v, list):
            return [dec(x) for x in v]
        if isinstance(v, dict):
            if "$nd" in v:
                return blobs[v["$nd"]]
            if "$tuple" in v:
                return tuple(dec(x) for x in v["$tuple"])
            if "$dict" in v:
                return {k: dec(x) for k, x in v["$dict"]}
            if "$int" in v:
                return int(v["$int"])
            if "$float" in v:
                return float(v["$float"])
            raise WireError(f"unknown tag in {sorted(v)}")
        return v

    return dec(head)


def send(fd: int, value) -> None:
    """Write one length-prefixed frame to a file descriptor."""
    payload = encode(value)
    view = memoryview(struct.pack("<Q", len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def recv(fd: int, limit: int = MAX_FRAME):
    """Read one frame; None at end of stream. Raises WireError on an oversized or cut frame."""
    head = _read_exactly(fd, 8)
    if head is None:
        return None
    (size,) = struct.unpack("<Q", head)
    if size > limit:
        raise WireError(f"message of {size} bytes is over the {limit}-byte limit")
    body = _read_exactly(fd, size)
    if body is None:
        raise WireError("message cut short")
    return decode(body)


def _read_exactly(fd, n):
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
