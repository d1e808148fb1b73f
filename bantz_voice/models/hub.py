"""Downloads from the Hugging Face Hub (``huggingface_hub``): pinned revisions, checked hashes,
resumable ``.part`` files, progress on a terminal, plain lines elsewhere, Turkish errors.

For each file a HEAD request (``get_hf_file_metadata``) gives the commit the revision resolves
to, the file's size and its ETag: the sha256 of an LFS file (the hub's own LFS metadata) or the
git blob id of a small file. The bytes are appended to ``<file>.part`` (``http_get`` with a
``Range`` from the part's length: an interrupted download resumes, in this run or the next) and
the finished file is checked against the manifest's sha256 — or, for an entry not yet pinned in
the manifest, against the hub's hash — before it takes its final name. ``HF_ENDPOINT`` points at
another hub (tests use a local simulator of it).
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from bantz_voice.errors import ModelMissingError

COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
Cause = Literal["network", "not_found", "disk_full", "hash_mismatch", "http", "changed"]
Progress = Literal["auto", "bar", "lines", "none"]


class DownloadError(ModelMissingError):
    """A download that failed; ``str()`` is a Turkish sentence with the cause."""

    def __init__(self, cause: Cause, message: str) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass
class FilePin:
    sha256: str
    size: int


@dataclass
class HubResult:
    revision: str  # the commit the files came from
    files: dict[str, FilePin] = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git_blob_id(path: Path) -> str:
    """The git object id of a file: the ETag the hub gives a file not stored in LFS."""
    h = hashlib.sha1()
    h.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


# --- progress -------------------------------------------------------------------------------
def _under_journald(stream: TextIO) -> bool:
    from bantz_voice.logsetup import under_journald

    return under_journald(stream)


def progress_mode(requested: Progress = "auto", stream: TextIO | None = None) -> Progress:
    if requested != "auto":
        return requested
    out = stream or sys.stderr
    return "bar" if out.isatty() and not _under_journald(out) else "lines"


class PlainProgress:
    """A tqdm stand-in for logs and journald: one line at start, every 10 % and at the end."""

    stream: TextIO | None = None  # default sys.stderr

    def __init__(self, *, total: int | None = None, initial: int = 0, desc: str = "", **_: Any) -> None:
        self.total = total
        self.n = initial
        self.desc = desc
        self._next = 0.0
        self._started = time.monotonic()
        self._line("başladı" if not initial else f"kalan kısım indiriliyor ({_mb(initial)} MB vardı)")
        self._advance_mark()

    def _advance_mark(self) -> None:
        if self.total:
            self._next = (int(self.n * 10 / self.total) + 1) * self.total / 10

    def _line(self, what: str) -> None:
        total = f"/{_mb(self.total)} MB" if self.total else " MB"
        pct = f" %{self.n * 100 // self.total}" if self.total else ""
        print(f"indiriliyor {self.desc}:{pct} ({_mb(self.n)}{total}) {what}".rstrip(), file=self.stream or sys.stderr, flush=True)

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.total and self.n >= self._next and self.n < self.total:
            self._line("")
            self._advance_mark()

    def close(self) -> None:
        if self.total and self.n >= self.total:
            self._line(f"bitti ({time.monotonic() - self._started:.0f} sn)")

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SilentProgress(PlainProgress):
    """No progress output (``--progress none``)."""

    def _line(self, what: str) -> None:
        pass


def _mb(n: int | None) -> str:
    return f"{(n or 0) / 1e6:.1f}"


# --- errors ---------------------------------------------------------------------------------
# huggingface_hub's HTTP client (httpx, or its fork httpx2 in huggingface_hub 2.x) raises these on
# a refused connection, a timeout or a connection cut mid-file; matched by name so that this
# module does not depend on which client a huggingface_hub release uses.
_TRANSPORT_ERRORS = {"TransportError", "NetworkError", "TimeoutException", "ConnectError", "RemoteProtocolError",
                     "ConnectionError", "Timeout", "ChunkedEncodingError"}  # the last three: requests


def _is_transport_error(exc: BaseException) -> bool:
    return any(
        c.__name__ in _TRANSPORT_ERRORS and c.__module__.split(".")[0] in ("httpx", "httpx2", "requests")
        for c in type(exc).__mro__
    )


def _turkish_error(exc: BaseException, what: str) -> DownloadError:
    from huggingface_hub import errors as hf_errors

    if isinstance(exc, DownloadError):
        return exc
    if isinstance(exc, hf_errors.RevisionNotFoundError):
        return DownloadError("not_found", f"{what}: hub'da bu sürüm yok (404, sürüm bulunamadı)")
    if isinstance(exc, hf_errors.EntryNotFoundError):  # RemoteEntryNotFoundError (a 404) is one
        return DownloadError("not_found", f"{what}: hub'da bu dosya yok (404)")
    if isinstance(exc, hf_errors.RepositoryNotFoundError):
        return DownloadError("not_found", f"{what}: hub'da bu depo yok ya da erişim izni gerekiyor (404/401)")
    if isinstance(exc, hf_errors.OfflineModeIsEnabled):
        return DownloadError("network", f"{what}: çevrimdışı kip açık (HF_HUB_OFFLINE), indirilemiyor")
    if isinstance(exc, hf_errors.HfHubHTTPError):
        status = exc.response.status_code if getattr(exc, "response", None) is not None else "?"
        return DownloadError("http", f"{what}: hub hata döndürdü (HTTP {status})")
    if _is_transport_error(exc):
        return DownloadError(
            "network", f"{what}: hub'a ({endpoint()}) bağlanılamadı ya da bağlantı koptu — internet bağlantınızı "
            f"denetleyin; yeniden çalıştırınca kaldığı yerden sürer ({type(exc).__name__})"
        )
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return DownloadError("disk_full", f"{what}: disk doldu; yer açıp yeniden çalıştırın (kaldığı yerden sürer)")
    if isinstance(exc, OSError):
        return DownloadError("http", f"{what}: indirilemedi ({exc})")
    raise exc


# --- download -------------------------------------------------------------------------------
def _use_our_log_handler() -> None:
    """huggingface_hub gives its logger a stderr handler of its own; drop it so that its records
    (e.g. "Trying to resume download...") go through ours: journald priorities, PII scrubbing."""
    lib = logging.getLogger("huggingface_hub")
    for handler in list(lib.handlers):
        lib.removeHandler(handler)


def _free_bytes(path: Path) -> int:
    for p in (path, *path.parents):
        try:
            return shutil.disk_usage(p).free
        except OSError:
            continue
    return -1


def resolve_commit(repo: str, revision: str, repo_path: str, label: str) -> str:
    """The commit a branch or tag points at now (a commit hash is returned as it is)."""
    if COMMIT_RE.match(revision):
        return revision
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    _use_our_log_handler()
    try:
        meta = get_hf_file_metadata(hf_hub_url(repo, repo_path, revision=revision, endpoint=endpoint()))
    except Exception as exc:  # noqa: BLE001 - every cause becomes a Turkish DownloadError
        raise _turkish_error(exc, label) from exc
    if not meta.commit_hash or not COMMIT_RE.match(meta.commit_hash):
        raise DownloadError("http", f"{label}: hub '{revision}' sürümünün commit'ini bildirmedi")
    return meta.commit_hash


def download_file(
    *,
    repo: str,
    revision: str,
    repo_path: str,
    dest: Path,
    expected_sha256: str | None = None,
    expected_size: int | None = None,
    progress: Progress = "auto",
    label: str | None = None,
) -> tuple[str, FilePin]:
    """Download one file to ``dest`` (resuming ``dest.part``). Returns (commit, pin).

    Raises :class:`DownloadError` with a Turkish message naming the cause."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get

    _use_our_log_handler()
    what = label or dest.name
    try:
        url = hf_hub_url(repo, repo_path, revision=revision, endpoint=endpoint())
        meta = get_hf_file_metadata(url)
    except Exception as exc:  # noqa: BLE001 - every cause becomes a Turkish DownloadError
        raise _turkish_error(exc, what) from exc
    commit = meta.commit_hash or revision
    if COMMIT_RE.match(revision) and commit != revision:
        raise DownloadError("changed", f"{what}: hub {revision[:12]} yerine {commit[:12]} sürümünü verdi")
    etag = (meta.etag or "").lower()
    size = meta.size
    if expected_size is not None and size is not None and size != expected_size:
        raise DownloadError(
            "changed", f"{what}: hub'daki dosya manifestteki değil ({size} bayt, beklenen {expected_size})"
        )
    if expected_sha256 and SHA256_RE.match(etag) and etag != expected_sha256:
        raise DownloadError("hash_mismatch", f"{what}: hub'daki dosyanın sha256'sı manifesttekinden farklı; indirilmedi")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    if size is not None:
        free = _free_bytes(dest.parent)
        if 0 <= free < size - have:
            raise DownloadError(
                "disk_full",
                f"{what}: diskte yer yok — {_mb(size - have)} MB gerekli, {_mb(free)} MB boş ({dest.parent})",
            )
    mode = progress_mode(progress)
    tqdm_class: Any = {"lines": PlainProgress, "none": SilentProgress}.get(mode)  # "bar": huggingface_hub's tqdm
    try:
        with part.open("ab") as fh:
            http_get(meta.location, fh, resume_size=have, expected_size=size, displayed_filename=what, tqdm_class=tqdm_class)
            fh.flush()
            os.fsync(fh.fileno())
    except Exception as exc:  # noqa: BLE001 - the .part stays for the next run to resume
        raise _turkish_error(exc, what) from exc
    digest = sha256_file(part)
    if expected_sha256:
        ok, expected = digest == expected_sha256, expected_sha256
    elif SHA256_RE.match(etag):
        ok, expected = digest == etag, etag
    elif COMMIT_RE.match(etag):  # a small file outside LFS: its git blob id
        ok, expected = git_blob_id(part) == etag, etag
    else:
        ok, expected = False, "(hub'dan hash gelmedi)"
    if not ok:
        part.unlink(missing_ok=True)
        raise DownloadError(
            "hash_mismatch",
            f"{what}: indirilen dosya bozuk (sha256 {digest[:16]}…, beklenen {expected[:16]}…); silindi, "
            "yeniden indirmek için komutu tekrar çalıştırın",
        )
    os.replace(part, dest)
    return commit, FilePin(sha256=digest, size=dest.stat().st_size)
