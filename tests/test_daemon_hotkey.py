"""The optional evdev hold-to-talk key, against a stand-in evdev module (no /dev/input here)."""

from __future__ import annotations

import asyncio
import sys
import types
from pathlib import Path

import pytest

from bantz_voice.daemon import hotkey
from bantz_voice.daemon.hotkey import HoldToTalkKey, HotkeyUnavailable

EV_KEY, KEY_RIGHTCTRL, KEY_A = 1, 97, 30


def _fake_evdev(events: list[tuple[int, int, int]], *, deny: bool = False, keys: tuple[int, ...] = (KEY_RIGHTCTRL,)):
    mod = types.ModuleType("evdev")
    mod.ecodes = types.SimpleNamespace(EV_KEY=EV_KEY, KEY_RIGHTCTRL=KEY_RIGHTCTRL, KEY_A=KEY_A)

    class Device:
        def __init__(self, path: str) -> None:
            if deny:
                raise PermissionError(13, "Permission denied", path)
            self.closed = False

        def capabilities(self) -> dict[int, list[int]]:
            return {EV_KEY: list(keys)}

        async def async_read_loop(self):
            for etype, code, value in events:
                await asyncio.sleep(0.01)
                yield types.SimpleNamespace(type=etype, code=code, value=value)
            await asyncio.sleep(3600)

        def close(self) -> None:
            self.closed = True

    mod.InputDevice = Device
    return mod


@pytest.fixture()
def input_nodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "event0").write_text("")
    real = hotkey.find_keyboards
    monkeypatch.setattr(hotkey, "find_keyboards", lambda ev, code: real(ev, code, str(tmp_path / "event*")))
    return tmp_path


async def test_hold_key_press_and_release(monkeypatch: pytest.MonkeyPatch, input_nodes: Path) -> None:
    events = [(EV_KEY, KEY_A, 1), (EV_KEY, KEY_RIGHTCTRL, 1), (EV_KEY, KEY_RIGHTCTRL, 2), (EV_KEY, KEY_RIGHTCTRL, 0)]
    monkeypatch.setitem(sys.modules, "evdev", _fake_evdev(events))
    seen: list[str] = []
    key = HoldToTalkKey("KEY_RIGHTCTRL", lambda: seen.append("down"), lambda: seen.append("up"))
    key.start()
    await asyncio.sleep(0.2)
    await key.stop()
    assert seen == ["down", "up"]  # other keys and auto-repeat ignored


async def test_permission_denied_message(monkeypatch: pytest.MonkeyPatch, input_nodes: Path) -> None:
    monkeypatch.setitem(sys.modules, "evdev", _fake_evdev([], deny=True))
    with pytest.raises(HotkeyUnavailable, match="input"):
        HoldToTalkKey("KEY_RIGHTCTRL", lambda: None, lambda: None).start()


async def test_unknown_key_and_missing_key(monkeypatch: pytest.MonkeyPatch, input_nodes: Path) -> None:
    monkeypatch.setitem(sys.modules, "evdev", _fake_evdev([], keys=(KEY_A,)))
    with pytest.raises(HotkeyUnavailable, match="bilinmeyen tuş"):
        HoldToTalkKey("KEY_NOPE", lambda: None, lambda: None).start()
    with pytest.raises(HotkeyUnavailable, match="klavye bulunamadı"):
        HoldToTalkKey("KEY_RIGHTCTRL", lambda: None, lambda: None).start()


def test_missing_package_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "evdev", None)  # import fails
    with pytest.raises(HotkeyUnavailable, match="pip install evdev"):
        hotkey._import_evdev()
