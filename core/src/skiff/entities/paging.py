"""PagedList and FileInfo."""

from __future__ import annotations

from typing import Generic, TypeVar

import attrs

T = TypeVar("T")


class PagedList(list, Generic[T]):
    """A page of results; ``token`` is the next page's token, or None on the last page."""

    def __init__(self, items=(), token: str | None = None):
        super().__init__(items)
        self.token = token or None


@attrs.frozen
class FileInfo:
    path: str
    is_dir: bool
    file_size: int | None = None

    def to_dict(self) -> dict:
        d = {"path": self.path, "is_dir": self.is_dir}
        if not self.is_dir and self.file_size is not None:
            d["file_size"] = self.file_size
        return d

    @classmethod
    def from_dict(cls, d: dict) -> FileInfo:
        size = d.get("file_size")
        return cls(d["path"], bool(d.get("is_dir", False)), int(size) if size is not None else None)
