"""``bantz-voice models [list|pull|verify]`` (``models`` alone lists)."""

from __future__ import annotations

import argparse
import sys


def configured_models() -> list[str]:
    """Models the effective configuration uses (plus the fallbacks of those that have one)."""
    from bantz_voice.config import load_settings
    from bantz_voice.models import load_manifest
    from bantz_voice.models.manager import used_by

    s = load_settings()
    names = used_by(s) + ([s.tts.fallback_voice] if s.tts.fallback_voice else [])
    manifest = load_manifest().models
    out: list[str] = []
    for n in names:
        for m in (n, manifest[n].fallback if n in manifest else None):
            if m and m in manifest and m not in out:
                out.append(m)
    return out


def _list(args: argparse.Namespace) -> int:
    from bantz_voice.models import is_present, load_manifest, models_dir
    from bantz_voice.models.manager import partial_bytes

    used = set(configured_models())
    print(f"Model klasörü: {models_dir()}")
    print(f"{'ad':32} {'rol':4} {'dil':12} {'boyut':>7} {'RAM':>7}  {'durum':10} sabitleme")
    for name, e in load_manifest().models.items():
        part = partial_bytes(name)
        state = "var" if is_present(name) else f"yarım ({part // 1_000_000} MB)" if part else "yok"
        hub = e.hub
        if hub is None:
            pin = "paket (sha256 sabit)"
        elif hub.pinned:
            pin = f"{hub.revision[:12]}" + (" + sha256" if e.hashes_pinned else " (sha256 hub'dan)")
        else:
            pin = f"sabitlenmemiş ({hub.revision})"
        mark = "*" if name in used else " "
        print(f"{mark}{name:31} {e.role:4} {e.language:12} {e.size_mb:>5}MB {e.ram_mb:>5}MB  {state:10} {pin}")
    print("(* = ayarlarda kullanılan; sabitleme: hub'daki commit; sabitlenmemiş = dal/etiketin o anki hali indirilir, "
          "hub'ın bildirdiği hash denetlenip .pin.yaml'a yazılır)")
    if any(e.unpinned_reason for e in load_manifest().models.values()):
        print("(sabitlenmemiş olanların nedeni manifestte 'unpinned' alanında ve docs/models.md'de yazılı)")
    return 0


def _pull(args: argparse.Namespace) -> int:
    from bantz_voice.errors import ModelMissingError
    from bantz_voice.models import entry, is_present, load_manifest, pull

    names = args.names or configured_models()
    failed = 0
    for name in names:
        e = entry(name) if name in load_manifest().models else None
        if e is not None and e.unpinned_reason and not is_present(name):
            print(f"{name}: uyarı — hub sürümü commit'e sabitlenmemiş ('{e.hub.revision if e.hub else '?'}' "
                  "indirilecek; hash'i .pin.yaml'a yazılır; neden: docs/models.md)", file=sys.stderr)
        try:
            path = pull(name, progress=args.progress)
            print(f"{name}: hazır ({path})")
        except ModelMissingError as exc:
            failed += 1
            print(f"{name}: {exc}", file=sys.stderr)
    return 0 if (failed == 0 or args.offline_ok) else 1


_STATE_TR = {"ok": "tamam", "missing": "EKSİK", "corrupt": "BOZUK (sha256 uyuşmuyor)", "unknown": "denetlenemedi (bilinen sha256 yok)"}


def _verify(args: argparse.Namespace) -> int:
    from bantz_voice.models import is_present, load_manifest, verify_report

    names = args.names or [n for n in load_manifest().models if is_present(n)]
    bad_any = False
    for name in names:
        report = verify_report(name)
        bad = {f: s for f, s in report.items() if s != "ok"}
        bad_any |= any(s in ("missing", "corrupt") for s in report.values())
        if not bad:
            print(f"{name}: tamam")
        for f, s in bad.items():
            print(f"{name}/{f}: {_STATE_TR[s]}")
    return 1 if bad_any else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="modelleri listele, indir, doğrula (alt komutsuz: listele)")
    p.set_defaults(func=_list)
    msub = p.add_subparsers(dest="models_command", metavar="ALT")
    lp = msub.add_parser("list", help="manifestteki modeller ve durumları")
    lp.set_defaults(func=_list)
    pp = msub.add_parser("pull", help="modelleri indir/hazırla (varsayılan: ayarlarda kullanılanlar)")
    pp.add_argument("names", nargs="*", metavar="AD", help="model adları")
    pp.add_argument("--offline-ok", action="store_true", help="indirilemeyen model için hata kodu verme")
    pp.add_argument(
        "--progress", choices=("auto", "bar", "lines", "none"), default="auto",
        help="ilerleme: uçbirimde çubuk, günlükte (journald) düz satırlar (varsayılan: auto)",
    )
    pp.set_defaults(func=_pull)
    vp = msub.add_parser("verify", help="dosyaların sha256'sını denetle")
    vp.add_argument("names", nargs="*", metavar="AD", help="model adları (varsayılan: indirilmiş olanlar)")
    vp.set_defaults(func=_verify)
