"""``bantz-voice calendar list|add|rm`` on the configured calendar."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, timedelta

from bantz_voice.calendar import CalendarError, Event, open_calendar
from bantz_voice.calendar.service import CalendarService
from bantz_voice.config import load_settings

_DAYS = ["Pzt", "Sal", "Çar", "Per", "Cum", "Cmt", "Paz"]
DEFAULT_DAYS = 7


def _date(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CalendarError(f"{flag} geçersiz: '{text}' (YYYY-AA-GG bekleniyor).") from None


def _moment(text: str, flag: str) -> date | datetime:
    try:
        if "T" not in text and " " not in text.strip():
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise CalendarError(f"{flag} geçersiz: '{text}' (YYYY-AA-GG veya YYYY-AA-GGTSS:DD bekleniyor).") from None


def _line(ev: Event) -> str:
    day = f"{ev.start:%Y-%m-%d} {_DAYS[ev.start.weekday()]}"
    if ev.all_day:
        days = (ev.end.date() - ev.start.date()).days
        when = "tüm gün" if days <= 1 else f"{days} gün"
    else:
        when = f"{ev.start:%H:%M}–{ev.end:%H:%M}"
        if ev.end.date() != ev.start.date():
            when = f"{ev.start:%H:%M}–{ev.end:%Y-%m-%d %H:%M}"
    rec = " (tekrarlı)" if ev.recurring else ""
    return f"{day} {when:<11} {ev.title}{rec}  [{ev.uid}]"


def _list(args: argparse.Namespace) -> int:
    cal = open_calendar(load_settings())
    first = _date(args.from_, "--from") if args.from_ else datetime.now(cal.tz).date()
    last = _date(args.to, "--to") if args.to else first + timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise CalendarError("--to tarihi --from tarihinden önce olamaz.")
    start, _ = cal.day_range(first)
    _, end = cal.day_range(last)
    events = cal.list(start, end)
    if args.json:
        print(json.dumps([e.to_json() for e in events], ensure_ascii=False, indent=2))
    elif not events:
        print(f"{first} – {last} arasında etkinlik yok.")
    else:
        for ev in events:
            print(_line(ev))
    return 0


def _add(args: argparse.Namespace) -> int:
    cal = open_calendar(load_settings())
    start = _moment(args.start, "--start")
    end = _moment(args.end, "--end") if args.end else None
    all_day = bool(args.all_day) or (not isinstance(start, datetime))
    if not all_day and end is not None and not isinstance(end, datetime):
        raise CalendarError("--end saat de içermeli (YYYY-AA-GGTSS:DD).")
    service = CalendarService(cal)
    result = service.create(args.title, start, end, all_day)
    if not result.created:
        names = ", ".join(f"'{e.title}'" for e in result.clashes)
        if not args.force:
            print(f"uyarı: o saatte {names} var; yine de eklendi.", file=__import__("sys").stderr)
        result = service.create(args.title, start, end, all_day, force=True)
    ev = result.event
    assert ev is not None
    print(f"eklendi: {_line(ev)}")
    return 0


def _rm(args: argparse.Namespace) -> int:
    cal = open_calendar(load_settings())
    ev = cal.require(args.uid)
    cal.delete(ev, series=True)
    print(f"silindi: {ev.title}  [{ev.uid}]")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calendar", help="takvim: listele, ekle, sil")
    csub = p.add_subparsers(dest="calendar_command", metavar="ALT")

    ls = csub.add_parser("list", help="etkinlikleri listele (varsayılan: bugünden itibaren bir hafta)")
    ls.add_argument("--from", dest="from_", metavar="YYYY-AA-GG", help="ilk gün (dahil)")
    ls.add_argument("--to", metavar="YYYY-AA-GG", help="son gün (dahil)")
    ls.add_argument("--json", action="store_true", help="JSON çıktı")
    ls.set_defaults(func=_list)

    add = csub.add_parser("add", help="etkinlik ekle")
    add.add_argument("title", metavar="BAŞLIK", help="etkinliğin başlığı")
    add.add_argument("--start", required=True, metavar="ISO", help="başlangıç: 2026-11-27T14:00 ya da 2026-11-27")
    g = add.add_mutually_exclusive_group()
    g.add_argument("--end", metavar="ISO", help="bitiş (varsayılan: bir saat sonra)")
    g.add_argument("--all-day", action="store_true", help="tüm gün")
    add.add_argument("--force", action="store_true", help=argparse.SUPPRESS)
    add.set_defaults(func=_add)

    rm = csub.add_parser("rm", help="etkinliği sil (tekrarlıysa tüm seriyi)")
    rm.add_argument("uid", metavar="UID", help="etkinliğin kimliği (calendar list --json)")
    rm.set_defaults(func=_rm)

    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])
