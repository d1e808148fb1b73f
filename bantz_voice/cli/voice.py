"""``bantz-voice once | say | transcribe``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bantz_voice.config import load_settings
from bantz_voice.errors import BantzError


def _once(args: argparse.Namespace) -> int:
    from bantz_voice.app import build_responder, start_pipeline
    from bantz_voice.audio.wavio import read_wav

    settings = load_settings()
    read_wav(args.wav, settings.audio.sample_rate)  # bad input fails before models load
    responder = build_responder(settings, args.responder)

    async def run():
        pipeline = await start_pipeline(settings, responder)  # the daemon's start-up: models loaded and warmed
        try:
            return pipeline, await pipeline.run_turn_from_wav(args.wav, out_wav=args.out, fast=args.fast)
        finally:
            await pipeline.aclose()

    pipeline, outcome = asyncio.run(run())
    data = outcome.to_dict()
    if args.out:
        data["out"] = str(args.out)
    data["voice"] = pipeline.tts.voice_name
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(f"duyulan: {outcome.transcript}")
        print(f"yanıt:   {outcome.result.reply}")
        if args.out:
            print(f"ses:     {args.out}")
        lat = outcome.trace.spoken_latency_ms
        if lat is not None:
            print(f"gecikme: {lat:.0f} ms (konuşmanın sonundan sesin başlamasına)")
    err = outcome.error or outcome.result.error
    if err:
        print(f"hata: {err}", file=sys.stderr)
        return 1
    return 0


def _forward_to_daemon(settings, text: str) -> bool:
    """A running daemon owns the speaker: let it speak. False when no daemon answers."""
    from bantz_voice.daemon.client import DaemonNotRunning, call
    from bantz_voice.daemon.control import socket_path_from

    try:
        call(socket_path_from(settings.daemon.socket_path), "say", {"text": text})
    except DaemonNotRunning:
        return False
    return True


def _say(args: argparse.Namespace) -> int:
    from bantz_voice.audio.player import AudioSink, Player, WavSink
    from bantz_voice.daemon.protocol import MAX_SAY_CHARS
    from bantz_voice.stages import StageMonitor
    from bantz_voice.tts.piper_tts import PiperTTS
    from bantz_voice.voice.output import SpeechOutput, text_once
    from bantz_voice.voice.turn import Turn

    text = " ".join(args.text).strip()
    if not text:
        raise BantzError("söylenecek metin boş")
    if len(text) > MAX_SAY_CHARS:
        raise BantzError(f"metin çok uzun ({len(text)} karakter; en fazla {MAX_SAY_CHARS})")
    settings = load_settings()
    if not args.out and not args.local and _forward_to_daemon(settings, text):
        return 0
    sink: AudioSink
    if args.out:
        sink = WavSink(args.out)
    else:
        player = Player(settings.audio.output_device)
        player.check()  # a missing speaker fails before the voice loads
        sink = player
    tts = PiperTTS(settings.tts)
    # the voice loop's own speech output: chunker -> normalizer -> TTS -> sink
    output = SpeechOutput(tts, settings.tts, StageMonitor({"tts": settings.tts.deadline_s}))
    turn = Turn("say")

    async def play() -> None:
        try:
            await output.play(text_once(text), turn, sink)
        finally:
            output.shutdown()

    asyncio.run(play())
    if turn.error:
        raise BantzError(turn.error)
    if args.out:
        print(args.out)
    return 0


def _transcribe(args: argparse.Namespace) -> int:
    from bantz_voice.asr import Transcriber
    from bantz_voice.audio.wavio import read_wav

    settings = load_settings()
    audio = read_wav(args.wav, settings.audio.sample_rate)
    result = Transcriber(settings.asr, warm_up=False).transcribe(audio)
    if args.json:
        print(json.dumps({"text": result.text, "raw_text": result.raw_text, "avg_logprob": result.avg_logprob,
                          "no_speech_prob": result.no_speech_prob, "dropped": result.dropped,
                          "seconds": result.seconds}, ensure_ascii=False))
        return 0 if result.text else 1
    if not result.text:
        raise BantzError(f"{args.wav}: konuşma anlaşılamadı" + (f" ({result.dropped})" if result.dropped else ""))
    print(result.text)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("once", help="bir WAV dosyasıyla tek tur (mikrofonla aynı yol)")
    p.add_argument("--wav", required=True, help="giriş WAV (her örnekleme hızı, mono/stereo)")
    p.add_argument("--out", help="söylenen yanıtı bu WAV dosyasına yaz")
    p.add_argument("--json", action="store_true", help="tek bir JSON nesnesi yazdır")
    p.add_argument("--fast", action="store_true", help="dosyayı gerçek zaman yerine olabildiğince hızlı besle")
    p.add_argument("--responder", choices=("echo", "brain"), help="yanıtlayıcı (varsayılan: ayarlardaki)")
    p.set_defaults(func=_once)

    s = sub.add_parser("say", help="metni seslendir (hoparlöre ya da dosyaya)")
    s.add_argument("text", nargs="+", help="söylenecek metin")
    s.add_argument("--out", help="hoparlör yerine bu WAV dosyasına yaz")
    s.add_argument("--local", action="store_true", help="çalışan bir servis olsa da doğrudan hoparlöre çal")
    s.set_defaults(func=_say)

    t = sub.add_parser("transcribe", help="WAV dosyasını yazıya dök")
    t.add_argument("wav", help="WAV dosyası")
    t.add_argument("--json", action="store_true", help="JSON olarak yazdır")
    t.set_defaults(func=_transcribe)
