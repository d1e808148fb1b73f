"""A small JSON state file: read, or read-modify-write under an exclusive file lock, written
atomically (temporary file in the same directory, fsync, rename), so a crash or a second process
(the CLI's ``ask`` beside the daemon) never leaves half a file. A damaged file is kept aside
(``.broken``) and treated as empty."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock

log = logging.getLogger(__name__)


class JsonState:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def stat_key(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.warning("state file unreadable: %s (%s)", self.path, exc)
            return {}
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return data
        except ValueError as exc:
            log.warning("state file damaged, starting empty: %s (%s)", self.path, exc)
            with contextlib.suppress(OSError):
                os.replace(self.path, self.path.with_suffix(self.path.suffix + ".broken"))
            return {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with FileLock(str(self.path.with_suffix(self.path.suffix + ".lock")), timeout=10, mode=0o600):
            yield

    def _write(self, data: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):
            dfd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def update(self, change: Callable[[dict[str, Any]], Any]) -> Any:
        """Run ``change`` on the current content under the lock and write the result; returns
        what ``change`` returned."""
        with self._locked():
            data = self.read()
            out = change(data)
            self._write(data)
            return out
