"""``bantz-voice doctor [--vram [--profile NAME | --all]] [--json]``."""

from __future__ import annotations

import argparse
import json

from bantz_voice.config import load_settings
from bantz_voice.doctor.catalog import WHISPER, GpuSpec
from bantz_voice.doctor.vram import SHIPPED_PROFILE, plan, profiles
from bantz_voice.errors import BantzError


class PlanRefused(BantzError):
    exit_code = 3


def _vram(args: argparse.Namespace) -> int:
    settings = load_settings()
    whisper = args.whisper or (settings.asr.model if settings.asr.model in WHISPER else "whisper-small")
    from bantz_voice.doctor import report

    plans = report.all_plans(args.max_model_len, args.max_num_seqs, whisper, args.reserve_mib)
    if args.vram_mib:
        plans = [plan(p.request.model_copy(update={"gpu": GpuSpec(total_mib=args.vram_mib, name=f"{args.vram_mib} MiB GPU")}))
                 for p in plans]
    if args.all:
        if args.json:
            print(json.dumps([report.plan_to_json(p) for p in plans], ensure_ascii=False, indent=2))
        else:
            print(report.render_table(plans))
        return 0
    if args.profile:
        known = profiles()
        if args.profile not in known:
            raise BantzError(f"'{args.profile}' diye bir profil yok (var: {', '.join(known)})")
        target = next(p for p in plans if p.request.name == args.profile)
    else:
        try:
            req = report.request_from_settings(settings, args.max_num_seqs)
        except ValueError as exc:
            raise BantzError(str(exc)) from None
        if req is None:
            if not args.json:
                print("Yapılandırmada GPU'da çalışan model yok: LLM gömülü llama.cpp ile CPU'da, Whisper CPU'da "
                      "(GPU belleği gerekmez).")
                print(f"GPU'lu bir makine için paketle gelen profil '{SHIPPED_PROFILE}' (paketteki model-settings.yaml'daki "
                      "örnek); adaylar:\n")
                print(report.render_table(plans))
            else:
                print(json.dumps({"configured": None, "profiles": [report.plan_to_json(p) for p in plans]},
                                 ensure_ascii=False, indent=2))
            return 0
        if args.vram_mib:
            req = req.model_copy(update={"gpu": GpuSpec(total_mib=args.vram_mib, name=f"{args.vram_mib} MiB GPU")})
        if args.reserve_mib is not None:
            req = req.model_copy(update={"reserve_mib": args.reserve_mib})
        target = plan(req)
    if args.json:
        print(json.dumps(report.plan_to_json(target), ensure_ascii=False, indent=2))
    else:
        print(report.render_plan(target))
    if not target.fits:
        fitting = [p for p in plans if p.fits]
        if not args.json:
            print("\nBu yapılandırma 8 GB'a sığmıyor. Sığanlar ve tahmini gecikme bedelleri:")
            print(report.render_table(fitting))  # latency cost against the shipped profile
        raise PlanRefused(f"'{target.request.name}' GPU belleğine sığmıyor: {target.total_bytes / 2**30:.2f} GiB gerekir, "
                          f"{target.budget_bytes / 2**30:.2f} GiB var")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    if args.vram:
        return _vram(args)
    from bantz_voice.health import run_checks

    results = run_checks(load_settings())
    if args.json:
        print(json.dumps([{"name": c.name, "status": c.status, "message": c.message} for c in results],
                         ensure_ascii=False, indent=2))
    else:
        for c in results:
            print(c.line())
    return 1 if any(c.status == "hata" for c in results) else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="aygıtları, modelleri, uç noktaları, takvimi denetle; --vram: GPU bellek planı")
    p.add_argument("--vram", action="store_true", help="vLLM + Whisper GPU bellek planı (8 GB)")
    p.add_argument("--profile", help="adı verilen profili planla (bkz. --all)")
    p.add_argument("--all", action="store_true", help="tüm aday yapılandırmaları tablo olarak göster")
    p.add_argument("--max-model-len", type=int, default=4096, help="profiller için bağlam uzunluğu (varsayılan 4096)")
    p.add_argument("--max-num-seqs", type=int, default=4, help="eşzamanlı dizi sayısı (varsayılan 4)")
    p.add_argument("--whisper", choices=sorted(WHISPER), help="Whisper modeli (varsayılan: ayarlardaki)")
    p.add_argument("--reserve-mib", type=int, default=None, help="masaüstünün GPU'da tuttuğu bellek (varsayılan 400)")
    p.add_argument("--vram-mib", type=int, default=None, help="GPU belleği (varsayılan 8188 MiB, RTX 4060 8 GB)")
    p.add_argument("--json", action="store_true", help="JSON olarak yazdır")
    p.set_defaults(func=_doctor)
