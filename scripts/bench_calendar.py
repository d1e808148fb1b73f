"""Calendar speed on a 5,000-event .ics file (plus one weekly recurring event).

    .venv/bin/python scripts/bench_calendar.py [--events 5000] [--repeat 20] [--caldav]

Prints the median time of: first load (parse + index), a one-day query, a one-week query,
a query over the whole file, ``find`` without a day, and one ``create`` (lock + atomic write).
``--caldav`` also times create/list/update/delete against a local Radicale on loopback."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bantz_voice.calendar.ics import IcsCalendar

TZ = ZoneInfo("Europe/Istanbul")
BASE = datetime(2026, 1, 1, 8, tzinfo=TZ)


def write_file(path: Path, n: int) -> None:
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    for i in range(n):
        s = BASE + timedelta(hours=7 * i)
        body += [
            "BEGIN:VEVENT", f"UID:ev-{i}", "DTSTAMP:20260101T000000Z", f"SUMMARY:Etkinlik {i} toplantısı",
            f"DTSTART;TZID=Europe/Istanbul:{s:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Europe/Istanbul:{s + timedelta(minutes=30):%Y%m%dT%H%M%S}", "END:VEVENT",
        ]
    body += ["BEGIN:VEVENT", "UID:weekly", "DTSTAMP:20260101T000000Z", "SUMMARY:Haftalık",
             "DTSTART;TZID=Europe/Istanbul:20260105T123000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY", "END:VEVENT"]
    body += ["END:VCALENDAR", ""]
    path.write_text("\r\n".join(body), encoding="utf-8")


def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--caldav", action="store_true", help="also time a local Radicale server")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        os.environ["BANTZ_CACHE_DIR"] = str(Path(d) / "cache")  # never the user's cache
        path = Path(d) / "calendar.ics"
        write_file(path, args.events)
        size = path.stat().st_size

        def cold(keep_cache: bool) -> None:
            if not keep_cache:
                shutil.rmtree(Path(d) / "cache", ignore_errors=True)
            IcsCalendar(path, TZ).list(BASE, BASE + timedelta(days=1))

        n = max(3, args.repeat // 5)
        rows = [
            (f"fresh process, {args.events} events ({size // 1024} KiB), no index cache", timed(lambda: cold(False), n)),
        ]
        cold(False)
        rows.append(("fresh process, index cache present", timed(lambda: cold(True), n)))

        def first_write() -> None:
            IcsCalendar(path, TZ).create("İlk", BASE)

        rows.append(("fresh process, first create (appends; index cache present)", timed(first_write, n)))

        def first_update() -> None:
            fresh = IcsCalendar(path, TZ)
            fresh.update(fresh.get("ev-10"), title="Değişti")

        rows.append(("fresh process, first get + update (one event re-parsed)", timed(first_update, n)))
        cal = IcsCalendar(path, TZ)
        day = datetime(2026, 3, 2, tzinfo=TZ)
        rows += [
            ("list one day (warm)", timed(lambda: cal.list(day, day + timedelta(days=1)), args.repeat)),
            ("list one week (warm)", timed(lambda: cal.list(day, day + timedelta(days=7)), args.repeat)),
            ("list whole file, ~4 years (warm)", timed(lambda: cal.list(BASE, BASE + timedelta(days=1500)), 3)),
            ("find 'toplantımı' (one year window)", timed(lambda: cal.find("toplantımı", now=day), 3)),
            ("next_event", timed(lambda: cal.next_event(day), args.repeat)),
        ]
        cal.create("Isınma", day)  # parse once
        counter = iter(range(10**6))
        rows.append(("create one more event (lock, serialize, fsync, rename)",
                     timed(lambda: cal.create(f"Yeni {next(counter)}", day + timedelta(hours=1)), 5)))
        for name, ms in rows:
            print(f"{name:<62} {ms:9.1f} ms")
    if args.caldav:
        bench_caldav(args.repeat)


def bench_caldav(repeat: int) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from fixtures.radicale import RadicaleServer

    from bantz_voice.calendar.caldav_backend import CaldavCalendar

    with tempfile.TemporaryDirectory() as d:
        server = RadicaleServer(Path(d))
        server.start()
        try:
            cal = CaldavCalendar(server.url, server.username, server.password, TZ, server.new_calendar(), 10)
            day = datetime(2026, 3, 2, 9, tzinfo=TZ)
            for i in range(50):
                cal.create(f"Dolgu {i}", day + timedelta(days=i % 7, hours=i % 8))
            cal.create("Haftalık", day, rrule="FREQ=WEEKLY")
            made = []
            rows = [
                ("caldav create", timed(lambda: made.append(cal.create("Yeni", day + timedelta(hours=10))), repeat)),
                ("caldav list one week (51 events + weekly series)", timed(lambda: cal.list(day, day + timedelta(days=7)), repeat)),
                ("caldav update", timed(lambda: cal.update(made[0], title="Yeni adı"), repeat)),
                ("caldav delete", timed(lambda: cal.delete(made.pop()), repeat)),
            ]
            for name, ms in rows:
                print(f"{name:<62} {ms:9.1f} ms")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
