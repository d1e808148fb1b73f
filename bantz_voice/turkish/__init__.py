"""Deterministic Turkish language layer (text utilities, temporal expressions, fast-path NLU,
speech normalization)."""
