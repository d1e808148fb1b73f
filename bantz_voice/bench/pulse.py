"""A private PulseAudio server with a virtual microphone and speaker, for tests and benchmarks.

:class:`PulseServer` starts ``pulseaudio`` on a socket in a directory of its own (never the user's
sound server) with:

- ``mic_sink`` ("mic_sink"): play into it and the microphone hears it (``play(wav)``);
- ``mic_source`` ("mic", the default source): a remap of ``mic_sink.monitor``;
- ``speaker`` ("speaker", the default sink) and ``speaker_monitor`` ("speaker.monitor"):
  ``record(seconds)`` / ``start_recording()`` capture what the assistant says;
- ``env``: PULSE_SERVER/PULSE_RUNTIME_PATH/… for the processes that should use it;
  ``with server.serving():`` starts it and points this process (and its PortAudio) at it, and
  undoes both afterwards;
- ``unload_mic()`` / ``load_mic()``, ``restart()`` (kill and start the server again), ``pactl(...)``;
- ``load_echo_path(gain, delay_ms)`` / ``unload_echo_path()``: an acoustic echo path, the speaker's
  monitor played back into ``mic_sink`` (module-loopback, attenuated, delayed) beside whatever else
  is played into the microphone: loudspeakers without echo cancellation. Unloading it is plugging
  in a headset.

Used by the ``pulse`` test fixture (tests/fixtures/pulse.py) and by ``scripts/bench_daemon.py``.
Needs the ``pulseaudio``, ``pactl``, ``paplay`` and ``parecord`` programs (:func:`missing_tools`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

TOOLS = ("pulseaudio", "pactl", "paplay", "parecord")
SPEAKER_RATE = 22050

_SCRIPT = """\
load-module module-native-protocol-unix socket={socket} auth-anonymous=1
load-module module-null-sink sink_name=mic_sink rate=16000 channels=1 sink_properties=device.description=BantzTestMicSink
load-module module-null-sink sink_name=speaker rate={speaker_rate} channels=1 sink_properties=device.description=BantzTestSpeaker
load-module module-remap-source source_name=mic master=mic_sink.monitor source_properties=device.description=BantzTestMic
set-default-source mic
set-default-sink speaker
"""

# The same names on one stereo "room" sink: front-left carries what the microphone hears, front-right
# what the speaker plays, so ``room.monitor`` records both on ONE capture clock (a benchmark can put
# the end of a request and the start of the reply on the same timeline, whatever its own playback
# did: an output underrun cannot shift one against the other).
_ROOM_SCRIPT = """\
load-module module-native-protocol-unix socket={socket} auth-anonymous=1
load-module module-null-sink sink_name=room rate=16000 channels=2 channel_map=front-left,front-right sink_properties=device.description=BantzBenchRoom
load-module module-remap-sink sink_name=mic_sink master=room channels=1 channel_map=mono master_channel_map=front-left remix=no sink_properties=device.description=BantzTestMicSink
load-module module-remap-sink sink_name=speaker master=room channels=1 channel_map=mono master_channel_map=front-right remix=no sink_properties=device.description=BantzTestSpeaker
load-module module-remap-source source_name=mic master=room.monitor channels=1 channel_map=mono master_channel_map=front-left remix=no source_properties=device.description=BantzTestMic
set-default-source mic
set-default-sink speaker
"""


def reinit_portaudio() -> None:
    """PortAudio enumerates ALSA (and so the pulse plugin) at initialisation: redo it now."""
    try:
        import sounddevice as sd
    except OSError:
        return
    try:
        sd._terminate()
    except Exception:
        pass
    sd._initialize()


class Recording:
    def __init__(self, proc: subprocess.Popen, path: Path) -> None:
        self.proc = proc
        self.path = path

    def stop(self) -> np.ndarray:
        """Stop and return the recorded mono int16 samples (at ``SPEAKER_RATE``)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return read_pcm_wav(self.path)

    def so_far(self) -> np.ndarray:
        """The mono int16 samples recorded until now, while the recorder still runs (its WAV
        header does not give the length yet: everything after the ``data`` chunk's header)."""
        try:
            raw = self.path.read_bytes()
        except OSError:
            return np.zeros(0, dtype=np.int16)
        at = raw.find(b"data", 12)
        if at < 0:
            return np.zeros(0, dtype=np.int16)
        body = raw[at + 8 :]
        return np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2").copy()


def read_pcm_wav(path: Path) -> np.ndarray:
    try:
        with wave.open(str(path), "rb") as wf:
            raw = wf.readframes(wf.getnframes())
            ch = wf.getnchannels()
    except (wave.Error, EOFError, FileNotFoundError):
        return np.zeros(0, dtype=np.int16)
    x = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2")
    return x.reshape(-1, ch)[:, 0].copy() if ch > 1 else x.copy()


class PulseServer:
    mic_sink = "mic_sink"
    mic_source = "mic"
    speaker = "speaker"
    speaker_monitor = "speaker.monitor"

    room_sink = "room"
    room_monitor = "room.monitor"

    def __init__(self, root: Path, *, room: bool = False) -> None:
        """``room=True``: the microphone's and the speaker's signals are the two channels of one
        stereo sink, ``room`` (``room.monitor``: left = microphone, right = speaker)."""
        self.root = root
        self.runtime = root / "runtime"
        self.runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.socket = self.runtime / "native"
        self.script = root / "bantz-test.pa"
        self.script.write_text((_ROOM_SCRIPT if room else _SCRIPT).format(socket=self.socket, speaker_rate=SPEAKER_RATE))
        self.log = root / "pulse.log"
        self.env = {
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_RUNTIME_PATH": str(self.runtime),
            "PULSE_STATE_PATH": str(root / "state"),
            "PULSE_COOKIE": str(root / "cookie"),
        }
        self.proc: subprocess.Popen | None = None

    # -- server ----------------------------------------------------------------------------
    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env)
        env["HOME"] = str(self.root)  # pulseaudio wants a writable home for its state
        return env

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--system=false",
                "--disallow-exit", "--use-pid-file=false", f"-F{self.script}",
                f"--log-target=file:{self.log}",
            ],
            env=self._child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pulseaudio exited ({self.proc.returncode}); see {self.log}")
            if self.socket.exists() and self.pactl("info", check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"pulseaudio did not come up; see {self.log}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @contextmanager
    def serving(self) -> Iterator[PulseServer]:
        """Started, with this process's environment (and so its PortAudio and the processes it starts)
        pointing at it while the block runs; stopped, and the environment as it was, afterwards."""
        saved = {k: os.environ.get(k) for k in self.env}
        self.start()
        try:
            os.environ.update(self.env)
            reinit_portaudio()
            yield self
        finally:
            self.stop()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            reinit_portaudio()

    def restart(self, down_s: float = 0.0) -> None:
        """Kill the sound server (clients lose their streams) and start it again."""
        self.stop()
        if self.socket.exists():
            self.socket.unlink()
        time.sleep(down_s)
        self.start()

    # -- helpers ---------------------------------------------------------------------------
    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["pactl", *args], env=self._child_env(), capture_output=True, text=True, timeout=10, check=check)

    def module_ids(self, needle: str) -> list[str]:
        out = self.pactl("list", "short", "modules").stdout
        return [line.split()[0] for line in out.splitlines() if needle in line]

    def unload_mic(self) -> None:
        """The microphone disappears: its remap source and the sink behind it are unloaded."""
        for mid in self.module_ids("source_name=mic "):
            self.pactl("unload-module", mid)
        for mid in self.module_ids("sink_name=mic_sink"):
            self.pactl("unload-module", mid)

    def load_mic(self) -> None:
        self.pactl("load-module", "module-null-sink", "sink_name=mic_sink", "rate=16000", "channels=1")
        self.pactl("load-module", "module-remap-source", "source_name=mic", "master=mic_sink.monitor")
        self.pactl("set-default-source", "mic")

    def load_echo_path(self, gain: float = 0.5, delay_ms: int = 50) -> str:
        """Route what the speaker plays back into the microphone, ``gain`` (linear) quieter and
        ``delay_ms`` later (plus the loopback's buffering); returns the module id."""
        mid: str = self.pactl(
            "load-module", "module-loopback", f"source={self.speaker_monitor}", f"sink={self.mic_sink}",
            f"latency_msec={delay_ms}", "source_dont_move=true", "sink_dont_move=true", "remix=no",
            "sink_input_properties=media.name=BantzTestEchoPath",
        ).stdout.strip()
        for idx in self._sink_inputs_of(mid):
            self.pactl("set-sink-input-volume", idx, f"{gain:.4f}")
        return mid

    def _sink_inputs_of(self, module_id: str) -> list[str]:
        out, current = [], None
        for line in self.pactl("list", "sink-inputs").stdout.splitlines():
            line = line.strip()
            if line.startswith("Sink Input #"):
                current = line.split("#", 1)[1]
            elif line.startswith("Owner Module:") and line.split(":", 1)[1].strip() == module_id and current:
                out.append(current)
        return out

    def unload_echo_path(self) -> None:
        for mid in self.module_ids("BantzTestEchoPath"):
            self.pactl("unload-module", mid)

    def play(self, wav: str | Path, wait: bool = True) -> subprocess.Popen:
        """Play a WAV into the virtual microphone."""
        proc = subprocess.Popen(["paplay", f"--device={self.mic_sink}", str(wav)], env=self._child_env())
        if wait:
            proc.wait(60)
        return proc

    def start_recording(self) -> Recording:
        fd, name = tempfile.mkstemp(suffix=".wav", dir=self.root)
        os.close(fd)
        proc = subprocess.Popen(
            ["parecord", f"--device={self.speaker_monitor}", "--file-format=wav", f"--rate={SPEAKER_RATE}",
             "--channels=1", "--format=s16le", name],
            env=self._child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.2)
        return Recording(proc, Path(name))

    def record(self, seconds: float) -> np.ndarray:
        rec = self.start_recording()
        time.sleep(seconds)
        return rec.stop()


def missing_tools() -> list[str]:
    """The PulseAudio programs that are not installed (empty when all are)."""
    return [t for t in TOOLS if shutil.which(t) is None]
