"""``bantz-voice wake enroll KAYIT.wav …``: the wake-word threshold from the user's own recordings."""

from __future__ import annotations

import argparse


def _enroll(args: argparse.Namespace) -> int:
    from bantz_voice import paths
    from bantz_voice.audio.wavio import read_wav
    from bantz_voice.config import MAIN_FILE, load_settings
    from bantz_voice.wake import OnnxWakeDetector
    from bantz_voice.wake.enroll import enroll, write_threshold

    settings = load_settings()
    w = settings.wake
    detector = OnnxWakeDetector(w.model_path, w.threshold, w.scan_s, w.confirm_k, w.confirm_n)
    result = enroll([read_wav(p) for p in args.recordings], detector)
    for path, score in zip(args.recordings, result.scores):
        print(f"{path}: {score:.2f}")
    if result.weak:
        names = ", ".join(str(args.recordings[i]) for i in result.weak)
        print(f"Uyarı: model bu kayıtlarda \"Bantz\"ı zor duyuyor: {names}. "
              "Daha yakından ve net söyleyin ya da wake.engine: transcript kullanın.")
    print(f"Eşik: {result.old_threshold:.2f} → {result.threshold:.2f}")
    if args.write:
        target = paths.config_dir() / MAIN_FILE
        write_threshold(target, result.threshold)
        print(f"Yazıldı: {target} (çalışan servis için: bantz-voice reload)")
    else:
        print("Kaydetmek için --write ekleyin.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("wake", help="uyandırma sözcüğü (Bantz)")
    wsub = p.add_subparsers(dest="wake_command", metavar="ALT")
    e = wsub.add_parser("enroll", help="kendi kayıtlarınızdan eşik ayarla (en az 3 WAV: \"Bantz\")")
    e.add_argument("recordings", nargs="+", metavar="KAYIT", help="16 kHz (ya da herhangi) WAV dosyaları")
    e.add_argument("--write", action="store_true", help="eşiği kullanıcı ayar dosyasına yaz")
    e.set_defaults(func=_enroll)
