"""Bantz Voice: a local-first Turkish voice assistant."""

__version__ = "0.1.0"
