"""``bantz-voice ask "metin" [--now ISO] [--json] [--rules-only]``: one full text turn."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from bantz_voice.config import load_settings
from bantz_voice.errors import BantzError
from bantz_voice.responder import TurnRequest


def parse_now(value: str | None, tz: str) -> datetime | None:
    if not value:
        return None
    try:
        now = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BantzError(f"--now geçersiz: '{value}' (örnek: 2026-11-26T10:00)") from exc
    return now.replace(tzinfo=ZoneInfo(tz)) if now.tzinfo is None else now


def timings_ms(request: TurnRequest, start: float) -> dict[str, float | None]:
    t = request.trace

    def rel(v: float | None) -> float | None:
        return None if v is None else round((v - start) * 1000.0, 1)

    return {
        "route_ms": rel(t.route_done),
        "plan_ms": rel(t.plan_done),
        "first_token_ms": rel(t.llm_first_token),
        "total_ms": rel(t.turn_done),
    }


async def run_turn(text: str, now: datetime | None, settings, stream_to=None) -> tuple[TurnRequest, float]:
    from bantz_voice.app import start_responder

    brain = await start_responder(settings, "brain")  # the daemon's start-up: models loaded and warmed
    request = TurnRequest(text=text, now=now)
    start = request.trace.origin
    try:
        async for piece in brain.respond(request):
            if stream_to is not None:
                stream_to.write(piece)
                stream_to.flush()
        request.trace.mark("turn_done")
    finally:
        await brain.aclose()
    return request, start


def _ask(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.rules_only:
        settings.brain.rules_only = True
    now = parse_now(args.now, settings.brain.timezone)
    request, start = asyncio.run(run_turn(args.text, now, settings, None if args.json else sys.stdout))
    if args.json:
        out = request.result.to_dict()
        out["timings_ms"] = timings_ms(request, start)
        print(json.dumps(out, ensure_ascii=False))
    else:
        print()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="tek bir metin turu (onaylar dahil)")
    p.add_argument("text", help="kullanıcının söylediği metin")
    p.add_argument("--now", help="şimdiki zaman (ISO, ör. 2026-11-26T10:00)")
    p.add_argument("--json", action="store_true", help="kararı ve süreleri JSON olarak yazdır")
    p.add_argument("--rules-only", action="store_true", help="dil modeli olmadan, yalnız kurallarla")
    p.set_defaults(func=_ask)
