"""Exceptions whose message is shown to the user as one line (in Turkish)."""


class BantzError(Exception):
    """Base class: ``str(exc)`` is a complete, user-facing Turkish sentence."""

    exit_code = 2


class ConfigError(BantzError):
    pass


EXIT_CONFIG = 78  # sysexits EX_CONFIG: the service unit does not restart on it (RestartPreventExitStatus)


class DaemonConfigError(ConfigError):
    """A configuration error at daemon start-up: restarting cannot fix it."""

    exit_code = EXIT_CONFIG


class AudioInputError(BantzError):
    pass


class ModelMissingError(BantzError):
    pass
