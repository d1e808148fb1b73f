"""Optional hold-to-talk key read with evdev (for users in the ``input`` group).

Works on Wayland and X11 alike because it reads the kernel's input devices. Without the
``evdev`` package, or without permission to ``/dev/input``, a clear Turkish message explains
what to do; the desktop-shortcut route (``bantz-voice ptt toggle``) needs neither.
"""

from __future__ import annotations

import asyncio
import glob
import logging
import os
from collections.abc import Callable
from typing import Any

from bantz_voice.errors import BantzError

log = logging.getLogger(__name__)


class HotkeyUnavailable(BantzError):
    pass


def _import_evdev() -> Any:
    try:
        import evdev
    except ImportError:
        raise HotkeyUnavailable(
            "Basılı tutarak konuşma tuşu için 'evdev' paketi gerekli: .venv/bin/pip install evdev "
            "(ya da masaüstü kısayoluna 'bantz-voice ptt toggle' atayın)"
        ) from None
    return evdev


def key_code(evdev: Any, name: str) -> int:
    code = getattr(evdev.ecodes, name.upper(), None)
    if not isinstance(code, int):
        raise HotkeyUnavailable(f"bilinmeyen tuş adı: {name} (örnek: KEY_RIGHTCTRL)")
    return code


def find_keyboards(evdev: Any, code: int, pattern: str = "/dev/input/event*") -> list[Any]:
    """Input devices that have ``code``. Raises with a Turkish hint when none can be opened."""
    nodes = sorted(glob.glob(pattern))
    if not nodes:
        raise HotkeyUnavailable("/dev/input altında giriş aygıtı yok; tuş okunamıyor")
    devices, denied = [], 0
    for node in nodes:
        if not os.access(node, os.R_OK):
            denied += 1
            continue
        try:
            dev = evdev.InputDevice(node)
        except PermissionError:
            denied += 1
            continue
        except OSError:
            continue
        keys = dev.capabilities().get(evdev.ecodes.EV_KEY, [])
        if code in keys:
            devices.append(dev)
        else:
            dev.close()
    if not devices:
        if denied:
            raise HotkeyUnavailable(
                "/dev/input aygıtlarını okuma izni yok: kullanıcınızı 'input' grubuna ekleyin "
                "(sudo usermod -aG input $USER) ve oturumu yeniden açın"
            )
        raise HotkeyUnavailable("bu tuşa sahip bir klavye bulunamadı")
    return devices


class HoldToTalkKey:
    """Calls ``on_press`` when the key goes down and ``on_release`` when it comes up."""

    def __init__(self, key_name: str, on_press: Callable[[], None], on_release: Callable[[], None]) -> None:
        self.key_name = key_name
        self.on_press = on_press
        self.on_release = on_release
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        evdev = _import_evdev()
        code = key_code(evdev, self.key_name)
        for dev in find_keyboards(evdev, code):
            self._tasks.append(asyncio.create_task(self._read(evdev, dev, code)))
        log.info("hold-to-talk key %s on %d device(s)", self.key_name, len(self._tasks))

    async def _read(self, evdev: Any, dev: Any, code: int) -> None:
        try:
            async for event in dev.async_read_loop():
                if event.type == evdev.ecodes.EV_KEY and event.code == code:
                    if event.value == 1:
                        self.on_press()
                    elif event.value == 0:
                        self.on_release()
        except asyncio.CancelledError:
            raise
        except OSError as exc:
            log.warning("hold-to-talk device lost: %s", exc)
        finally:
            try:
                dev.close()
            except Exception:
                pass

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
