"""Resumable uploads: a file sent in chunks, kept as temporary objects in photo storage until complete.

Each chunk is an object ``uploads/<owner>/<sha256>/part-<start>-<end>-of-<total>``; what has arrived is
read back from a listing, so any app instance can take the next chunk (no state in process memory).
A chunk must start where the received bytes end. When the last one arrives the parts are joined, the
SHA-256 of the whole is checked, and the file is kept as one object until it is attached to a record.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .storage import ObjectNotFound, Storage, StorageError

#: Largest chunk accepted (the phone resends at most this much after a dropped link).
MAX_CHUNK = 256 * 1024
_PART = re.compile(r"part-(\d{12})-(\d{12})-of-(\d{12})$")


class OffsetMismatch(Exception):
    """A chunk does not start where the received bytes end."""

    def __init__(self, received: int):
        super().__init__(f"expected offset {received}")
        self.received = received


class ChecksumMismatch(Exception):
    """The joined file's SHA-256 is not the one it was uploaded under (the parts are discarded)."""


@dataclass(frozen=True)
class UploadState:
    """What the server holds of one upload."""

    sha256: str
    size: int | None
    received: int
    complete: bool


class ChunkedUploads:
    """Chunked uploads kept in a :class:`~sync.storage.Storage`."""

    def __init__(self, storage: Storage):
        self.storage = storage

    @staticmethod
    def _prefix(owner: str, sha256: str) -> str:
        return f"uploads/{owner}/{sha256}/"

    def _complete_key(self, owner: str, sha256: str) -> str:
        return self._prefix(owner, sha256) + "complete.bin"

    def _parts(self, owner: str, sha256: str) -> list[tuple[int, int, int, str]]:
        """(start, end exclusive, total, key) of the stored parts, by start."""
        parts = []
        for key in self.storage.list_keys(self._prefix(owner, sha256)):
            match = _PART.search(key)
            if match:
                start, end, total = (int(g) for g in match.groups())
                parts.append((start, end, total, key))
        return sorted(parts)

    @staticmethod
    def _contiguous(parts: list[tuple[int, int, int, str]]) -> tuple[int, list[str]]:
        received, keys = 0, []
        for start, end, _total, key in parts:
            if start == received:
                received, keys = end, [*keys, key]
        return received, keys

    def state(self, owner: str, sha256: str) -> UploadState | None:
        """What has arrived, or None if nothing has."""
        complete = self._complete_key(owner, sha256)
        if self.storage.exists(complete):
            size = len(self.storage.get(complete))
            return UploadState(sha256, size, size, True)
        parts = self._parts(owner, sha256)
        if not parts:
            return None
        received, _ = self._contiguous(parts)
        return UploadState(sha256, parts[0][2], received, False)

    def put_chunk(self, owner: str, sha256: str, start: int, total: int, data: bytes) -> UploadState:
        """Store the chunk ``[start, start + len(data))`` of a ``total``-byte file.

        Raises :class:`OffsetMismatch` (with what is held) if ``start`` is not the end of the received
        bytes, :class:`ChecksumMismatch` if the completed file does not hash to ``sha256``.
        """
        if not data or len(data) > MAX_CHUNK or start + len(data) > total:
            raise ValueError("bad chunk")
        current = self.state(owner, sha256)
        if current is not None and current.complete:
            raise OffsetMismatch(current.received)
        if current is not None and current.size != total:
            if start != 0:
                raise OffsetMismatch(current.received)
            self.discard(owner, sha256)  # the phone starts again with another size: forget the old parts
            current = None
        received = current.received if current else 0
        if start != received:
            raise OffsetMismatch(received)
        end = start + len(data)
        key = f"{self._prefix(owner, sha256)}part-{start:012d}-{end:012d}-of-{total:012d}"
        self.storage.put(key, data, "application/octet-stream")
        if end < total:
            return UploadState(sha256, total, end, False)
        return self._finish(owner, sha256, total)

    def _finish(self, owner: str, sha256: str, total: int) -> UploadState:
        _, keys = self._contiguous(self._parts(owner, sha256))
        whole = b"".join(self.storage.get(key) for key in keys)
        if len(whole) != total or hashlib.sha256(whole).hexdigest() != sha256:
            self.discard(owner, sha256)
            raise ChecksumMismatch(sha256)
        self.storage.put(self._complete_key(owner, sha256), whole, "application/octet-stream")
        for key in keys:
            self.storage.delete(key)
        return UploadState(sha256, total, total, True)

    def read_complete(self, owner: str, sha256: str) -> bytes | None:
        """The completed file, or None if it is not complete (or unknown)."""
        try:
            return self.storage.get(self._complete_key(owner, sha256))
        except ObjectNotFound:
            return None

    def discard(self, owner: str, sha256: str) -> None:
        """Remove everything held for the upload."""
        for key in self.storage.list_keys(self._prefix(owner, sha256)):
            self.storage.delete(key)


__all__ = ["MAX_CHUNK", "ChecksumMismatch", "ChunkedUploads", "OffsetMismatch", "StorageError", "UploadState"]
