"""A file written atomically under a lock: temp file in the same directory, fsync, the previous
version kept as ``<name>.bak`` (hard link), rename, fsync of the directory. A crash at any point
leaves either the old or the new file, never a mix."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from bantz_voice.calendar.errors import CalendarError

StatKey = tuple[int, int, int]


def replace_into_place(tmp: Path, path: Path) -> None:
    """The commit point (separate so tests can kill a writer just before it)."""
    os.replace(tmp, path)


class AtomicFile:
    def __init__(self, path: Path, lock_timeout: float = 10.0) -> None:
        self.path = Path(os.path.realpath(Path(path).expanduser()))  # a symlinked file keeps its link
        self.backup = self.path.with_name(self.path.name + ".bak")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout = lock_timeout
        self._lock = FileLock(str(self.lock_path), timeout=lock_timeout, thread_local=False)

    def stat_key(self) -> StatKey | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CalendarError(f"Takvim dosyasına erişilemedi: {self.path} ({exc.strerror}).") from exc
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def read(self) -> tuple[bytes | None, StatKey | None]:
        try:
            with open(self.path, "rb") as fh:
                st = os.fstat(fh.fileno())
                return fh.read(), (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            raise CalendarError(f"Takvim dosyası okunamadı: {self.path} ({exc.strerror}).") from exc

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with self._lock:
                yield
        except Timeout as exc:
            raise CalendarError(
                f"Takvim dosyası {self.lock_timeout:g} saniyedir başka bir işlem tarafından kilitli; sonra tekrar deneyin."
            ) from exc

    def _clean_stale_temps(self) -> None:
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()

    def write(self, data: bytes) -> StatKey:
        """Replace the file with ``data``; call only inside :meth:`locked`."""
        self._clean_stale_temps()
        directory = self.path.parent
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if self.path.exists():
                with contextlib.suppress(OSError):
                    os.chmod(tmp, self.path.stat().st_mode & 0o777)
                self._keep_backup()
            replace_into_place(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            reason = "disk dolu" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
            raise CalendarError(f"Takvim dosyası yazılamadı, değişiklik kaydedilmedi: {self.path} ({reason}).") from exc
        _fsync_dir(directory)
        key = self.stat_key()
        assert key is not None
        return key

    def _keep_backup(self) -> None:
        """The current file becomes ``<name>.bak`` (a hard link, else a copy). When the backup is
        already the current file — a writer stopped between this and its rename — there is nothing
        to keep: renaming a hard link onto another link of the same file does nothing and would
        leave the temporary link behind (seen as a stray ``.bak.<pid>.tmp`` under load)."""
        with contextlib.suppress(OSError):
            if os.path.samefile(self.path, self.backup):
                return
        link_tmp = self.backup.with_name(f".{self.backup.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            link_tmp.unlink()
        try:
            os.link(self.path, link_tmp)
        except OSError:  # file system without hard links: copy instead
            shutil.copy2(self.path, link_tmp)
        os.replace(link_tmp, self.backup)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
