"""The API key of the local vLLM server.

A server on 127.0.0.1 is not private: any local user can connect to it (and use the GPU), and a
user who takes the port before vLLM starts receives every prompt. ``bantz-voice service install
--with-vllm`` therefore generates a random key and stores it, owner-only (0600), as an environment
file ``<config dir>/vllm.env`` holding ``VLLM_API_KEY=…``. The vLLM unit reads it with
``EnvironmentFile=`` (vLLM's ``--api-key`` defaults to ``$VLLM_API_KEY``; the key is not put on
the command line, which every local user can read in ``ps``), and the OpenAI-compatible client
sends it as a bearer token to loopback endpoints.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

from bantz_voice import paths

log = logging.getLogger(__name__)

KEY_FILE = "vllm.env"
VAR = "VLLM_API_KEY"


def key_path() -> Path:
    return paths.config_dir() / KEY_FILE


def _read(path: Path) -> str | None:
    """The key, when the file is a regular file of ours that nobody else can read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            log.warning("vLLM API key file ignored: not a private file of this user (%s)", path)
            return None
        text = os.read(fd, 4096).decode("utf-8", "replace")
    finally:
        os.close(fd)
    for line in text.splitlines():
        name, _, value = line.strip().partition("=")
        if name.strip() == VAR and value.strip():
            return value.strip().strip('"')
    return None


def local_key(port: int | None = None) -> str | None:
    """The key to send to a loopback endpoint (None when no vLLM key was generated)."""
    return _read(key_path())


def ensure_key(path: Path | None = None) -> Path:
    """Generate the key file (0600) unless a valid one exists; returns its path."""
    target = path or key_path()
    if _read(target) is not None:
        return target
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, f"{VAR}={secrets.token_urlsafe(32)}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    return target


def is_remote_url(url: str) -> bool:
    """Proxies (``HTTP(S)_PROXY``) apply to remote hosts only: a loopback URL never leaves the machine."""
    from urllib.parse import urlsplit

    from bantz_voice.llm.openai_backend import is_loopback

    return not is_loopback(urlsplit(url).hostname)


def probe_headers(url: str) -> dict[str, str]:
    """Headers for a health probe of ``url``: the local vLLM key for a loopback server (its
    /v1/models needs it), nothing for a remote one."""
    if is_remote_url(url):
        return {}
    key = local_key()
    return {"Authorization": f"Bearer {key}"} if key else {}
