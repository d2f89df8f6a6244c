"""File-like adapters the GCS SDK's upload_from_file needs, and a CRC32C of a local file."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterable


class IteratorReader(io.RawIOBase):
    """A read-only stream over chunks of bytes. ``tell()`` reports bytes consumed; seeking
    is allowed only backwards within the last chunk handed out (what a resumable upload
    needs to resend a chunk) and to the current position."""

    def __init__(self, *sources: Iterable[bytes]):
        self._chunks = itertools.chain(*sources)
        self._buffer = bytearray()
        self._position = 0
        self._last = b""  # the bytes most recently returned, for a rewind

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("IteratorReader supports SEEK_SET and SEEK_CUR")
        back = self._position - offset
        if back < 0 or back > len(self._last):
            raise io.UnsupportedOperation(f"cannot seek to {offset} in a one-pass stream")
        if back:
            self._buffer[:0] = self._last[len(self._last) - back:]
            self._last = self._last[:len(self._last) - back]
            self._position = offset
        return self._position

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        self._position += len(out)
        self._last = out
        return out

    def readinto(self, target) -> int:
        data = self.read(len(target))
        target[:len(data)] = data
        return len(data)


class ProgressReader(io.RawIOBase):
    """Passes reads through to a file and reports the bytes read."""

    def __init__(self, raw, advance: Callable[[int], None]):
        self._raw = raw
        self._advance = advance

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._raw.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._advance(len(data))
        return data

    def readinto(self, target) -> int:
        data = self.read(len(target))
        target[:len(data)] = data
        return len(data)


class _NoHash:
    """Stands in for a hasher when checksums are off."""

    def update(self, data) -> None:
        pass


NO_HASH = _NoHash()


def new_crc32c():
    import google_crc32c

    return google_crc32c.Checksum()
