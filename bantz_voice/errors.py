"""Exceptions whose message is shown to the user as one line (in Turkish)."""


class BantzError(Exception):
    """Base class: ``str(exc)`` is a complete, user-facing Turkish sentence."""

    exit_code = 2


class ConfigError(BantzError):
    pass


class AudioInputError(BantzError):
    pass


class ModelMissingError(BantzError):
    pass
