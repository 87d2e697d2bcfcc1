"""A source location that holds export files: a local folder or an fsspec URL.

The contracts allow both (``CXW_WEB_EXPORT_PATH=/data/ga4`` or ``s3://bucket/ga4``).
Local folders need nothing beyond the standard library; URLs go through fsspec, which
Airflow itself depends on, imported only when a URL is configured so a local setup never
depends on it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO, Any

#: Bytes read at a time when a file is streamed (checksums, chunked reading).
READ_BLOCK = 1 << 20


class Location:
    """Files directly inside one folder, listed and read whole."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._fs: Any = None
        if "://" in url and not url.startswith("file://"):
            import fsspec

            self._fs, self._root = fsspec.core.url_to_fs(self.url)
        else:
            self._root = str(Path(url.removeprefix("file://")).expanduser())

    def describe(self, name: str) -> str:
        """Where ``name`` is, as a user would look for it (for messages and lineage)."""
        return f"{self.url}/{name}" if self._fs is not None else str(Path(self._root) / name)

    def names(self) -> list[str]:
        """Names of the files in the folder, sorted; an absent folder is an error."""
        if self._fs is None:
            folder = Path(self._root)
            if not folder.is_dir():
                raise FileNotFoundError(f"source folder {folder} does not exist")
            return sorted(path.name for path in folder.iterdir() if path.is_file())
        entries = self._fs.ls(self._root, detail=True)
        return sorted(
            entry["name"].rstrip("/").rsplit("/", 1)[-1]
            for entry in entries
            if entry.get("type") == "file"
        )

    def exists(self, name: str) -> bool:
        if self._fs is None:
            return (Path(self._root) / name).is_file()
        return bool(self._fs.exists(f"{self._root}/{name}"))

    def read_bytes(self, name: str) -> bytes:
        if self._fs is None:
            return (Path(self._root) / name).read_bytes()
        return bytes(self._fs.cat_file(f"{self._root}/{name}"))

    def open(self, name: str) -> IO[bytes]:
        """The file as a binary stream, for reading it without holding it whole."""
        if self._fs is None:
            return (Path(self._root) / name).open("rb")
        return self._fs.open(f"{self._root}/{name}", "rb")

    def checksum(self, name: str) -> str:
        """SHA-256 of the file's bytes, read in blocks."""
        digest = hashlib.sha256()
        with self.open(name) as handle:
            while block := handle.read(READ_BLOCK):
                digest.update(block)
        return digest.hexdigest()
