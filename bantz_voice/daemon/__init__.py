"""The always-on daemon: wake-word / push-to-talk gating, control socket, sd_notify, service.

Modules: ``protocol`` (socket messages), ``control`` (socket server), ``client`` (CLI side),
``wakeword`` (transcript gate + follow-up window), ``hotkey`` (optional evdev key),
``notify`` (sd_notify + watchdog), ``earcons``, ``health``, ``service`` (user units),
``runner`` (wires the voice pipeline, gating, control and signals).
"""
