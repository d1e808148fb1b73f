"""Model manifest and manager (package data ``bantz_voice/data/manifest.yaml``)."""

from bantz_voice.models.manager import (
    ModelEntry,
    ResolvedModel,
    entry,
    is_present,
    load_manifest,
    missing_models,
    models_dir,
    pull,
    resolve_model,
    resolve_with_fallback,
    verify,
    verify_report,
)

__all__ = [
    "ModelEntry",
    "ResolvedModel",
    "entry",
    "is_present",
    "load_manifest",
    "missing_models",
    "models_dir",
    "pull",
    "resolve_model",
    "resolve_with_fallback",
    "verify",
    "verify_report",
]
