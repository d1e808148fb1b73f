"""Model manifest and manager (see ``models/manifest.yaml``)."""

from bantz_voice.models.manager import (
    ModelEntry,
    ResolvedModel,
    entry,
    is_present,
    load_manifest,
    models_dir,
    pull,
    resolve_model,
    resolve_with_fallback,
    verify,
)

__all__ = [
    "ModelEntry",
    "ResolvedModel",
    "entry",
    "is_present",
    "load_manifest",
    "models_dir",
    "pull",
    "resolve_model",
    "resolve_with_fallback",
    "verify",
]
