"""``bantz-voice nlu``, ``bantz-voice eval`` and ``bantz-voice normalize`` (Turkish layer, issue 3)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bantz_voice.errors import BantzError
from bantz_voice.schemas import NluDecision


class NluCliError(BantzError):
    pass


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("nlu", help="bir cümlenin rota/niyet/slot kararını göster")
    p.add_argument("text", nargs="?", help="Türkçe cümle")
    p.add_argument("--jsonl", type=Path, help="her satırında \"text\" olan JSONL dosyası")
    p.add_argument("--now", help="şimdiki zaman, ISO (ör. 2026-11-26T10:00); saat dilimi yoksa ayarlardaki")
    p.add_argument("--rules-only", action="store_true", help="yalnızca kural tabanlı hızlı yol (model yok)")
    p.add_argument("--json", action="store_true", help="JSON çıktısı")
    p.set_defaults(func=_cmd_nlu)

    e = sub.add_parser("eval", help="etiketli JSONL dosyasında doğruluğu ölç")
    e.add_argument("file", type=Path, help="etiketli JSONL dosyası")
    e.add_argument("--now", help="şimdiki zaman, ISO (ör. 2026-11-26T10:00)")
    e.add_argument("--rules-only", action="store_true", help="yalnızca kural tabanlı hızlı yol")
    e.set_defaults(func=_cmd_eval)

    n = sub.add_parser("normalize", help="metnin seslendirilecek biçimini yazdır")
    n.add_argument("text", help="metin")
    n.set_defaults(func=_cmd_normalize)


# --- helpers --------------------------------------------------------------------------------
def _settings():
    from bantz_voice.config import load_settings

    return load_settings()


def parse_now(value: str | None, tz_name: str) -> datetime:
    try:
        tz = ZoneInfo(tz_name)
    except Exception as exc:
        raise NluCliError(f"bilinmeyen saat dilimi: {tz_name}") from exc
    if not value:
        return datetime.now(tz)
    try:
        now = datetime.fromisoformat(value)
    except ValueError as exc:
        raise NluCliError(f"--now geçersiz: {value!r} (ör. 2026-11-26T10:00)") from exc
    return now.replace(tzinfo=tz) if now.tzinfo is None else now


Decide = Callable[[str, datetime], Coroutine[Any, Any, NluDecision]]


def _decider(rules_only: bool, settings) -> Decide:
    """The coroutine that decides one utterance: the brain (fast path + LLM) or rules only.
    All decisions of one command run in one event loop (model clients stay valid)."""
    from bantz_voice.turkish.nlu import parse

    async def rules(text: str, now: datetime) -> NluDecision:
        return parse(text, now)

    if rules_only or settings.brain.rules_only:
        return rules
    from bantz_voice.brain import decide

    state = {"failed": False}

    async def run(text: str, now: datetime) -> NluDecision:
        if state["failed"]:
            return parse(text, now)
        try:
            return await decide(text, now, settings)
        except BantzError as exc:
            print(f"not: model kullanılamıyor ({exc}); yalnızca kurallar kullanılıyor", file=sys.stderr)
        except Exception as exc:
            print(f"not: model kullanılamıyor ({type(exc).__name__}); yalnızca kurallar kullanılıyor", file=sys.stderr)
        state["failed"] = True
        return parse(text, now)

    return run


async def _decide_all(decide: Decide, texts: list[str], now: datetime) -> list[NluDecision]:
    return [await decide(t, now) for t in texts]


def _read_jsonl_texts(path: Path) -> list[str]:
    from bantz_voice.turkish.evaluate import read_text_lines

    return [obj["text"] for _, obj in read_text_lines(path)]


def _human(d: NluDecision) -> str:
    lines = [f"rota:   {d.route.value}", f"niyet:  {d.intent.value}", f"güven:  {d.confidence:.2f} ({d.source})"]
    for k, v in d.slots.compact().items():
        lines.append(f"{k + ':':<8}{v}")
    return "\n".join(lines)


# --- commands -------------------------------------------------------------------------------
def _cmd_nlu(args: argparse.Namespace) -> int:
    settings = _settings()
    now = parse_now(args.now, settings.brain.timezone)
    if args.jsonl is None and not args.text:
        raise NluCliError("bir cümle ya da --jsonl DOSYA verin")
    if args.jsonl is not None and args.text:
        raise NluCliError("cümle ile --jsonl birlikte verilemez")
    decide = _decider(args.rules_only, settings)
    if args.jsonl is not None:
        for d in asyncio.run(_decide_all(decide, _read_jsonl_texts(args.jsonl), now)):
            print(json.dumps(d.to_json_dict(), ensure_ascii=False))
        return 0
    d = asyncio.run(decide(args.text, now))
    print(json.dumps(d.to_json_dict(), ensure_ascii=False) if args.json else _human(d))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from bantz_voice.turkish.evaluate import format_report, load_cases, score

    settings = _settings()
    now = parse_now(args.now, settings.brain.timezone)
    cases = load_cases(args.file)
    if not cases:
        raise NluCliError(f"{args.file}: değerlendirilecek satır yok")
    decide = _decider(args.rules_only, settings)
    preds = [d.to_json_dict() for d in asyncio.run(_decide_all(decide, [c.text for c in cases], now))]
    print(format_report(score(cases, preds)))
    return 0


def _cmd_normalize(args: argparse.Namespace) -> int:
    from bantz_voice.turkish.normalize import normalize

    print(normalize(args.text))
    return 0
