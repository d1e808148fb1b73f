"""``bantz-voice audio setup-echo-cancel``: the sound server's echo canceller (WebRTC) for loudspeakers."""

from __future__ import annotations

import argparse


def _setup_echo_cancel(args: argparse.Namespace) -> int:
    from bantz_voice.audio import aec_setup

    if args.undo:
        mid = aec_setup.undo()
        print(f"Kaldırıldı: {aec_setup.MODULE} (modül #{mid})." if mid else "Bantz'ın yankı giderme modülü yüklü değil; bir şey yapılmadı.")
        return 0
    report = aec_setup.setup(source_master=args.source_master, sink_master=args.sink_master, make_default=args.default)
    for line in report.lines:
        print(line)
    print("Geri almak için: " + "; ".join(report.undo) + " (ya da: bantz-voice audio setup-echo-cancel --undo)")
    print("Not: ses sunucusu yeniden başlayınca modül kalkar; kalıcı yapmak için bu satırı ses sunucunuzun ayarına kendiniz ekleyin.")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audio", help="ses aygıtları (yankı giderme)")
    asub = p.add_subparsers(dest="audio_command", metavar="ALT")
    e = asub.add_parser(
        "setup-echo-cancel",
        help="hoparlörle kullanım için ses sunucusunun yankı gidericisini (module-echo-cancel, WebRTC) yükle",
    )
    e.add_argument("--default", action="store_true", help="yankısı giderilmiş kaynağı ve çıkışı varsayılan yap")
    e.add_argument("--source-master", metavar="KAYNAK", help="mikrofon (pactl adı; varsayılan: şu anki varsayılan kaynak)")
    e.add_argument("--sink-master", metavar="ÇIKIŞ", help="hoparlör (pactl adı; varsayılan: şu anki varsayılan çıkış)")
    e.add_argument("--undo", action="store_true", help="Bantz'ın yüklediği yankı giderme modülünü kaldır")
    e.set_defaults(func=_setup_echo_cancel)
