"""A text check shared by the settings' fast readers (config_layers.peek, cli/fast.py)."""

from __future__ import annotations


def may_set(text: str, key: str) -> bool:
    """False only when a YAML text cannot give ``key`` a value other than null: the key is not in
    it, or only as ``key: null`` / ``key: ~`` / ``key:`` lines. Anything else needs a YAML parse."""
    if key not in text:
        return False
    for line in text.splitlines():
        if key in line:
            name, sep, rest = line.strip().partition(":")
            if not (sep and name == key and rest.split("#")[0].strip() in ("", "null", "~")):
                return True
    return False
