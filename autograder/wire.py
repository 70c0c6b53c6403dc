"""Plain data across the sandbox boundary.

Only None, bool, int, float, str, lists, str-keyed dicts and numeric NumPy arrays cross it. The
encoding is JSON plus raw .npy blobs; decoding checks each blob's header against its size and
copies the bytes into a fresh numeric ndarray (no pickle, no allocation a header merely claims),
so the grader never unpickles anything and never holds an object a submission made. Anything
malformed, too deep or too big raises WireError; the size of a frame, of its JSON head, the number
of values and of arrays in it are checked before any of it is built, so decoding costs at most a
fixed amount of memory and time whatever the peer sends.
"""

import io
import json
import math
import os
import struct

import numpy as np

from autograder.policy import MAX_ARRAYS, MAX_DEPTH, MAX_FRAME_BYTES, MAX_HEAD_BYTES, MAX_VALUES

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
    """The value `encode` made, or WireError: nothing in a frame can run code, exhaust memory or
    recursion, or come back as anything but plain data (see the module docstring)."""
    try:
        raw, n_blobs = check(data)
        head = json.loads(raw.decode())
        pos = 8 + len(raw)
        blobs = []
        for _ in range(n_blobs):
            (size,) = struct.unpack_from("<Q", data, pos)
            pos += 8
            if pos + size > len(data):
                raise WireError("array blob cut short")
            blobs.append(_load_array(data[pos : pos + size]))
            pos += size
    except WireError:
        raise
    except (struct.error, ValueError, UnicodeDecodeError, RecursionError, MemoryError, OverflowError) as exc:
        raise WireError(f"malformed message: {type(exc).__name__}: {str(exc)[:200]}") from None
    try:
        return _decode_value(head, blobs)
    except (RecursionError, MemoryError) as exc:
        raise WireError(f"malformed message: {type(exc).__name__}") from None


def check(data):
    """(JSON head bytes, number of arrays) of a message within every limit, else WireError; builds
    nothing. Values are counted from above: every value but the first follows a ',' or opens with
    '[' or '{' (commas inside strings only make the count larger). A deep head is stopped by json
    at the interpreter's recursion limit, then by MAX_DEPTH."""
    if len(data) > MAX_FRAME_BYTES:
        raise WireError(f"message of {len(data)} bytes is over the {MAX_FRAME_BYTES}-byte limit")
    try:
        n_head, n_blobs = struct.unpack_from("<II", data, 0)
    except struct.error:
        raise WireError("message cut short") from None
    if n_head > MAX_HEAD_BYTES:
        raise WireError(f"message head of {n_head} bytes is over the {MAX_HEAD_BYTES}-byte limit")
    raw = bytes(data[8 : 8 + n_head])
    values = raw.count(b",") + raw.count(b"[") + raw.count(b"{") + 1
    if values > MAX_VALUES:
        raise WireError(f"message holds up to {values} values, over the limit of {MAX_VALUES}")
    if n_blobs > MAX_ARRAYS:
        raise WireError(f"message holds {n_blobs} arrays, over the limit of {MAX_ARRAYS}")
    return raw, n_blobs


def _decode_value(head, blobs):
    def dec(v, depth=0):
        if depth > MAX_DEPTH:
            raise WireError("message nested too deeply")
        if isinstance(v, list):
            return [dec(x, depth + 1) for x in v]
        if isinstance(v, dict):
            if "$nd" in v:
                index = v["$nd"]
                if type(index) is not int or not 0 <= index < len(blobs):
                    raise WireError("array reference out of range")
                return blobs[index]
            if "$tuple" in v:
                return tuple(dec(x, depth + 1) for x in _items(v["$tuple"]))
            if "$dict" in v:
                pairs = _items(v["$dict"])
                if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in pairs):
                    raise WireError("malformed dict")
                return {k: dec(x, depth + 1) for k, x in pairs}
            try:
                if "$int" in v:
                    return int(v["$int"])
                if "$float" in v:
                    return float(v["$float"])
            except (TypeError, ValueError) as exc:
                raise WireError(f"malformed number: {exc}") from None
            raise WireError(f"unknown tag in {sorted(v)[:5]}")
        return v

    return dec(head)


def _items(value):
    if not isinstance(value, list):
        raise WireError("malformed container")
    return value


def _load_array(blob) -> np.ndarray:
    """A .npy blob as a fresh base ndarray of a numeric dtype, its size checked before any
    allocation (a header may claim any shape)."""
    fp = io.BytesIO(blob)
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise WireError(f"unsupported .npy version {version}")
    if dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"array of dtype {dtype} is not numeric")
    count = 1
    for n in shape:
        if type(n) is not int or n < 0:
            raise WireError(f"bad array shape {shape}")
        count *= n
    body = blob[fp.tell() :]
    if count * dtype.itemsize != len(body):
        raise WireError(f"array of shape {shape} and dtype {dtype} does not match its {len(body)} bytes")
    array = np.frombuffer(body, dtype=dtype, count=count).reshape(shape, order="F" if fortran else "C")
    return np.array(array, copy=True)


def send(fd: int, value) -> None:
    """Write one length-prefixed frame to a file descriptor; WireError (nothing written) if
    the peer would refuse it."""
    payload = encode(value)
    check(payload)
    for part in (struct.pack("<Q", len(payload)), payload):
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view) :]


def recv(fd: int, limit: int = MAX_FRAME_BYTES):
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
