"""Health checks, one set for ``bantz-voice doctor`` and the daemon's ``status``.

:mod:`~bantz_voice.health.checks` holds the checks (audio devices, models, LLM endpoints,
calendar, the running daemon, GPU) and :func:`run_checks`, the doctor's list;
:class:`~bantz_voice.health.monitor.HealthMonitor` runs the endpoint and calendar checks in the
daemon's background for ``status``.
"""

from bantz_voice.health.checks import (
    CHECKS,
    Check,
    Status,
    check_audio,
    check_calendar,
    check_daemon,
    check_endpoint,
    check_endpoints,
    check_gpu,
    check_models,
    model_state,
    run_checks,
)
from bantz_voice.health.monitor import HealthMonitor

__all__ = [
    "CHECKS",
    "Check",
    "HealthMonitor",
    "Status",
    "check_audio",
    "check_calendar",
    "check_daemon",
    "check_endpoint",
    "check_endpoints",
    "check_gpu",
    "check_models",
    "model_state",
    "run_checks",
]
