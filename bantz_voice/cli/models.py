"""``bantz-voice models list|pull|verify``."""

from __future__ import annotations

import argparse
import sys

from bantz_voice.config import load_settings
from bantz_voice.errors import ModelMissingError
from bantz_voice.models import is_present, load_manifest, pull, verify


def configured_models() -> list[str]:
    """Models the effective configuration uses (plus the fallbacks of those that have one)."""
    s = load_settings()
    names = [s.asr.model, s.tts.voice]
    if s.tts.fallback_voice:
        names.append(s.tts.fallback_voice)
    names += [ep.gguf for ep in s.models.endpoints.values() if ep.kind == "llamacpp" and ep.gguf]
    manifest = load_manifest().models
    out: list[str] = []
    for n in names:
        for m in (n, manifest[n].fallback if n in manifest else None):
            if m and m in manifest and m not in out:
                out.append(m)
    return out


def _list(args: argparse.Namespace) -> int:
    used = set(configured_models())
    print(f"{'ad':32} {'rol':4} {'dil':12} {'boyut':>7} {'RAM':>7}  durum")
    for name, e in load_manifest().models.items():
        state = "var" if is_present(name) else "yok"
        mark = "*" if name in used else " "
        print(f"{mark}{name:31} {e.role:4} {e.language:12} {e.size_mb:>5}MB {e.ram_mb:>5}MB  {state}")
    print("(* = ayarlarda kullanılan)")
    return 0


def _pull(args: argparse.Namespace) -> int:
    names = args.names or configured_models()
    failed = 0
    for name in names:
        try:
            path = pull(name)
            print(f"{name}: hazır ({path})")
        except ModelMissingError as exc:
            failed += 1
            print(f"{name}: {exc}", file=sys.stderr)
    return 0 if (failed == 0 or args.offline_ok) else 1


def _verify(args: argparse.Namespace) -> int:
    names = args.names or [n for n in load_manifest().models if is_present(n)]
    bad_any = False
    for name in names:
        bad = verify(name)
        bad_any |= bool(bad)
        print(f"{name}: {'tamam' if not bad else 'BOZUK/EKSİK: ' + ', '.join(bad)}")
    return 1 if bad_any else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="modelleri listele, indir, doğrula")
    msub = p.add_subparsers(dest="models_command", metavar="ALT")
    lp = msub.add_parser("list", help="manifestteki modeller")
    lp.set_defaults(func=_list)
    pp = msub.add_parser("pull", help="modelleri indir/hazırla (varsayılan: ayarlarda kullanılanlar)")
    pp.add_argument("names", nargs="*")
    pp.add_argument("--offline-ok", action="store_true", help="indirilemeyen model için hata kodu verme")
    pp.set_defaults(func=_pull)
    vp = msub.add_parser("verify", help="sha256 doğrula")
    vp.add_argument("names", nargs="*")
    vp.set_defaults(func=_verify)
