"""Little-endian binary writer/reader shared by the sketches and the profile file format."""

from __future__ import annotations

import struct

import numpy as np

from ..errors import FormatError


class BinWriter:
    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def u8(self, v: int) -> None:
        self._parts.append(struct.pack("<B", v))

    def u32(self, v: int) -> None:
        self._parts.append(struct.pack("<I", v))

    def i64(self, v: int) -> None:
        self._parts.append(struct.pack("<q", v))

    def u64(self, v: int) -> None:
        self._parts.append(struct.pack("<Q", v))

    def f64(self, v: float) -> None:
        self._parts.append(struct.pack("<d", v))

    def blob(self, b: bytes) -> None:
        self.u32(len(b))
        self._parts.append(bytes(b))

    def text(self, s: str) -> None:
        self.blob(s.encode("utf-8"))

    def array(self, a: np.ndarray, dtype: str) -> None:
        """Write a 1-d array as (length, raw little-endian bytes)."""
        a = np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<"))
        self.u32(a.shape[0])
        self._parts.append(a.tobytes())

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


class BinReader:
    def __init__(self, data: bytes | memoryview) -> None:
        self._mv = memoryview(data)
        self._pos = 0

    def _take(self, n: int) -> memoryview:
        end = self._pos + n
        if end > len(self._mv):
            msg = "profile data is truncated"
            raise FormatError(msg)
        out = self._mv[self._pos : end]
        self._pos = end
        return out

    def u8(self) -> int:
        return struct.unpack("<B", self._take(1))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self._take(4))[0]

    def i64(self) -> int:
        return struct.unpack("<q", self._take(8))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self._take(8))[0]

    def f64(self) -> float:
        return struct.unpack("<d", self._take(8))[0]

    def blob(self) -> bytes:
        return bytes(self._take(self.u32()))

    def text(self) -> str:
        return self.blob().decode("utf-8")

    def array(self, dtype: str) -> np.ndarray:
        dt = np.dtype(dtype).newbyteorder("<")
        n = self.u32()
        raw = self._take(n * dt.itemsize)
        return np.frombuffer(raw, dtype=dt).astype(np.dtype(dtype), copy=True)

    def at_end(self) -> bool:
        return self._pos == len(self._mv)
