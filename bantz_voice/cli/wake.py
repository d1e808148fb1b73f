"""``bantz-voice wake enroll KAYIT.wav …``: the wake-word threshold from the user's own recordings."""

from __future__ import annotations

import argparse


def _enroll(args: argparse.Namespace) -> int:
    from bantz_voice import paths
    from bantz_voice.audio.wavio import read_wav
    from bantz_voice.config import MAIN_FILE, load_settings
    from bantz_voice.wake import build_wake_detector
    from bantz_voice.wake.enroll import enroll, write_threshold

    settings = load_settings()
    w = settings.wake
    # the model stage as configured (one model, or the agreement of several), even when
    # wake.engine is transcript: the user enrolls for the model
    detector = build_wake_detector(w.model_copy(update={"engine": "model"}))
    result = enroll([read_wav(p) for p in args.recordings], detector)
    several = len(result.models) > 1
    for i, path in enumerate(args.recordings):
        print(f"{path}: " + " / ".join(f"{m.scores[i]:.2f}" for m in result.models))
    if result.weak:
        names = ", ".join(str(args.recordings[i]) for i in result.weak)
        print(f"Uyarı: model bu kayıtlarda \"Bantz\"ı zor duyuyor: {names}. "
              "Daha yakından ve net söyleyin ya da wake.engine: transcript kullanın.")
    for m in result.models:
        print(f"Eşik{' (' + m.model.name + ')' if several else ''}: {m.old_threshold:.2f} → {m.threshold:.2f}")
    if args.write:
        target = paths.config_dir() / MAIN_FILE
        agree = None
        if several:  # each further model keeps its name and rule, with its adapted threshold
            agree = [{**a.model_dump(mode="json"), "threshold": m.threshold}
                     for a, m in zip(w.agree, result.models[1:], strict=True)]
        write_threshold(target, result.threshold, agree)
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
