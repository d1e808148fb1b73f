"""Piper voice, loaded once. ``synthesize(text)`` -> mono int16 samples at ``sample_rate``.

Text goes through the Turkish spoken-form normalizer (``bantz_voice.turkish.normalize``) when it
is available. Each chunk is brought to the same RMS level (``target_rms_dbfs``, peak-limited) so
loudness stays consistent across chunks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bantz_voice.errors import ModelMissingError
from bantz_voice.tts.base import TextToSpeech
from bantz_voice.tts.chunker import bound_length

log = logging.getLogger(__name__)


def _load_normalizer() -> Callable[[str], str]:
    try:
        from bantz_voice.turkish.normalize import normalize
    except Exception:  # not written yet / broken: speak the text as is
        return lambda s: s
    return normalize


def level(samples: np.ndarray, target_dbfs: float, peak: float = 0.95) -> np.ndarray:
    """Scale float samples in [-1, 1] to ``target_dbfs`` RMS, never clipping beyond ``peak``."""
    if samples.size == 0:
        return samples.astype(np.int16)
    x = samples.astype(np.float64)
    rms = float(np.sqrt(np.mean(x * x)))
    if rms > 1e-5:
        gain = (10 ** (target_dbfs / 20.0)) / rms
        mx = float(np.max(np.abs(x))) * gain
        if mx > peak:
            gain *= peak / mx
        x = x * gain
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def _load_voice(voice_cls, model_path: Path, config_path: Path):
    """``PiperVoice.load`` with onnxruntime's CPU memory arena off: the arena keeps the largest
    buffers a sentence ever needed for the life of the process (RSS grew from ~0.2 to ~1.4 GB
    after one long sentence); without it the memory goes back after each synthesis. Short
    syntheses showed no difference beyond the run-to-run spread (scripts/bench_tts_memory.py)."""
    import json

    import onnxruntime
    from piper.config import PiperConfig
    from piper.voice import ESPEAK_DATA_DIR

    options = onnxruntime.SessionOptions()
    options.enable_cpu_mem_arena = False
    config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
    session = onnxruntime.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
    return voice_cls(config=config, session=session, espeak_data_dir=Path(ESPEAK_DATA_DIR), download_dir=Path.cwd())


# every Turkish letter and the circumflex vowels: what a voice must be able to say in Turkish
TURKISH_COVERAGE = "Pijamalı hasta yağız şoföre çabucak güvendi; hâlâ kâr, jüri, Ümit, Ilgaz, öğle, fıstık, vâkıf."


def turkish_phonemes(voice) -> bool:
    """Let a Piper voice of another language read with espeak-ng's Turkish phonemes (``tr``)
    when its phoneme map has every phoneme Turkish text produces; True when it now does.
    ``tts.turkish_phonemes`` turns it on; scripts/bench_tts_intelligibility.py measures whether
    it helps a voice (docs/benchmarks.md)."""
    from piper.config import PhonemeType

    cfg = voice.config
    own = cfg.espeak_voice or ""
    if cfg.phoneme_type != PhonemeType.ESPEAK or own.split("-")[0] == "tr":
        return False
    cfg.espeak_voice = "tr"
    try:
        needed = {p for sentence in voice.phonemize(TURKISH_COVERAGE) for p in sentence}
    except Exception as exc:
        log.info("espeak-ng produced no Turkish phonemes (%s): the voice reads with its own", exc)
        cfg.espeak_voice = own
        return False
    missing = needed - set(cfg.phoneme_id_map)
    if missing:
        log.info("voice lacks Turkish phonemes %s; it keeps espeak voice %r", "".join(sorted(missing)), own)
        cfg.espeak_voice = own
        return False
    return True


class PiperTTS(TextToSpeech):
    def __init__(self, tts_settings, *, warm_up: bool = True) -> None:
        """``warm_up``: synthesize a word now (onnxruntime's first run is slow); ``False`` when the
        caller's own first synthesis follows at once (``app.start_pipeline``)."""
        self.settings = tts_settings
        self.note: str | None = None
        self.voice_name, self.model_path, self.note = self._resolve(tts_settings)
        cfg = Path(f"{self.model_path}.json")
        if not cfg.is_file():
            raise ModelMissingError(f"Piper ses ayar dosyası eksik: {cfg}")
        try:
            from piper import PiperVoice
            from piper.config import SynthesisConfig
        except ImportError as exc:  # pragma: no cover
            raise ModelMissingError(f"piper-tts kurulu değil: {exc}") from None
        try:
            self.voice = _load_voice(PiperVoice, self.model_path, cfg)
        except Exception as exc:
            raise ModelMissingError(f"Piper sesi yüklenemedi ({self.model_path}): {str(exc).splitlines()[0]}") from None
        self.syn_config = SynthesisConfig(length_scale=tts_settings.length_scale, normalize_audio=False)
        self.sample_rate = int(self.voice.config.sample_rate)
        self.language = getattr(self.voice.config, "espeak_voice", "") or ""
        if tts_settings.turkish_phonemes and turkish_phonemes(self.voice):
            log.info("voice %s (%s) reads with Turkish phonemes", self.voice_name, self.language)
            self.language = "tr"
        self._normalize = _load_normalizer()
        self._lock = threading.Lock()
        if warm_up:
            self.synthesize("Hazır.")

    @staticmethod
    def _resolve(tts) -> tuple[str, Path, str | None]:
        from bantz_voice.models import resolve_model, resolve_with_fallback

        name = tts.voice
        if name.endswith(".onnx") or "/" in name:
            path = Path(name).expanduser()
            if not path.is_file():
                raise ModelMissingError(f"Piper sesi bulunamadı: {path}")
            return path.stem, path, None
        try:
            r = resolve_with_fallback(name, "tts")
        except ModelMissingError:
            if not tts.fallback_voice:
                raise
            return tts.fallback_voice, resolve_model(tts.fallback_voice), None
        path = Path(r.path)
        if path.is_dir():
            found = sorted(path.glob("*.onnx"))
            if not found:
                raise ModelMissingError(f"Piper sesi eksik: {path} içinde .onnx yok")
            path = found[0]
        if not path.is_file():
            raise ModelMissingError(f"Piper sesi bulunamadı: {path}")
        return r.name, path, r.note

    def normalize(self, text: str) -> str:
        try:
            return self._normalize(text)
        except Exception:
            log.exception("text could not be normalized; reading it as is")
            return text

    def reconfigure(self, settings) -> None:
        self.settings = settings
        self.syn_config.length_scale = settings.length_scale

    def render(self, spoken: str) -> np.ndarray:
        """Speak an already normalized text (all its sentences) as one int16 array at ``sample_rate``."""
        spoken = spoken.strip()
        if not spoken:
            return np.zeros(0, dtype=np.int16)
        t0 = time.monotonic()
        with self._lock:
            parts = [
                c.audio_float_array
                for piece in bound_length(spoken, self.settings.max_piece_chars)
                for c in self.voice.synthesize(piece, syn_config=self.syn_config)
            ]
        if not parts:
            return np.zeros(0, dtype=np.int16)
        gap = np.zeros(int(self.sample_rate * 0.12), dtype=np.float32)
        joined = parts[0] if len(parts) == 1 else np.concatenate([p for part in parts for p in (part, gap)][:-1])
        out = level(joined, self.settings.target_rms_dbfs)
        log.debug("tts %d chars -> %.2f s audio in %.3f s", len(spoken), out.size / self.sample_rate, time.monotonic() - t0)
        return out
