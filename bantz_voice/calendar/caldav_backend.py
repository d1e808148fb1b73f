"""CalDAV backend (Nextcloud, Radicale, iCloud, Fastmail…) through the ``caldav`` library.

The password comes from the environment variable named in the settings, or else the system
keyring (service ``bantz-voice``, the CalDAV user name); it is never logged nor put in an error.
Every change is one PUT or DELETE of one calendar object, so a failure leaves the server as it
was. Recurring events are expanded here (not by the server) so that every server behaves alike."""

from __future__ import annotations

import builtins
import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import icalendar

from bantz_voice.calendar import ical
from bantz_voice.calendar.base import CalendarBackend, check_range
from bantz_voice.calendar.errors import CalendarError, EventNotFoundError
from bantz_voice.calendar.model import Event
from bantz_voice.config import CalendarSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
KEYRING_SERVICE = "bantz-voice"


def caldav_password(cfg: CalendarSettings, environ: dict[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    value = env.get(cfg.caldav_password_env)
    if value:
        return value
    try:
        import keyring  # optional
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, cfg.caldav_username or "")
    except Exception:  # no keyring daemon etc.
        return None


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else url


class _Redact(logging.Filter):
    """Drops passwords (and Basic credentials) from anything the caldav library logs."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        msg = record.getMessage()
        if any(s in msg for s in self.secrets):
            for s in self.secrets:
                msg = msg.replace(s, "***")
            record.msg, record.args = msg, None
        return True


_REDACT = _Redact()
logging.getLogger("caldav").addFilter(_REDACT)  # the library logs through this one logger


def _split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``https://user:pw@host/dav`` -> (``https://host/dav``, user, pw): never keep a password in a URL."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, None
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), user, password


class CaldavCalendar(CalendarBackend):
    def __init__(
        self,
        url: str,
        username: str | None,
        password: str | None,
        tz: ZoneInfo,
        calendar: str | None = None,
        timeout: float = 10.0,
        password_env: str = "BANTZ_CALDAV_PASSWORD",
    ) -> None:
        url, url_user, url_password = _split_credentials(url)
        parts = urlsplit(url)
        self.loopback = _is_local(parts.hostname)
        if parts.scheme.lower() != "https" and not self.loopback:
            raise CalendarError(
                f"CalDAV sunucusuna ({_host(url)}) şifresiz {parts.scheme or 'http'}:// ile bağlanmıyorum: parola ve "
                "takvim ağda açık giderdi. Adresi https:// ile yazın (calendar.caldav_url)."
            )
        username = username or url_user
        password = password or url_password
        self.url = url
        self.password_env = password_env
        self.username = username
        self._password = password
        self.tz = tz
        self.calendar_name = calendar
        self.timeout = timeout
        self._client: Any = None
        self._calendar: Any = None
        self._mutex = threading.RLock()
        self._bad: builtins.list[str] = []
        self._sync: Any = None  # the library's synchronized copy of the calendar's objects
        self._parsed: dict[str, tuple[str, icalendar.Calendar | None]] = {}
        self._install_redaction()

    def __repr__(self) -> str:  # never shows the password
        return f"CaldavCalendar(url={self.url!r}, username={self.username!r})"

    @classmethod
    def from_settings(cls, cfg: CalendarSettings, tz: ZoneInfo) -> CaldavCalendar:
        if not cfg.caldav_url:
            raise CalendarError("CalDAV sunucu adresi ayarlanmamış (calendar.caldav_url).")
        return cls(
            cfg.caldav_url, cfg.caldav_username, caldav_password(cfg), tz, cfg.caldav_calendar, cfg.timeout_s, cfg.caldav_password_env
        )

    def _install_redaction(self) -> None:
        import base64

        if self._password:
            _REDACT.secrets.add(self._password)
            if self.username:
                _REDACT.secrets.add(base64.b64encode(f"{self.username}:{self._password}".encode()).decode())

    # --- connection -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _errors(self, writing: bool) -> Iterator[None]:
        from caldav.lib import error as dav_error

        host = _host(self.url)
        unchanged = " Değişiklik yapılmadı." if writing else ""
        try:
            yield
        except CalendarError:
            raise
        except dav_error.AuthorizationError:
            self._reset()
            raise CalendarError(f"Takvim sunucusu ({host}) kullanıcı adını ya da parolayı kabul etmedi.{unchanged}") from None
        except (dav_error.ETagMismatchError, dav_error.ScheduleTagMismatchError):
            raise CalendarError(
                f"Etkinlik o arada başka bir yerden değişmiş; üzerine yazmadım.{unchanged} Tekrar deneyin."
            ) from None
        except dav_error.NotFoundError:
            raise CalendarError(f"Takvim sunucusunda ({host}) aranan takvim ya da etkinlik bulunamadı.{unchanged}") from None
        except dav_error.DAVError as exc:
            status = getattr(exc, "reason", "") or type(exc).__name__
            raise CalendarError(f"Takvim sunucusu ({host}) isteği reddetti ({status}).{unchanged}") from None
        except Exception as exc:
            self._reset()
            if _is_timeout(exc):
                raise CalendarError(
                    f"Takvim sunucusu ({host}) {self.timeout:g} saniye içinde yanıt vermedi.{unchanged}"
                ) from None
            if _is_connection(exc):
                raise CalendarError(f"Takvim sunucusuna ({host}) ulaşılamadı.{unchanged}") from None
            log.debug("caldav failure: %s", type(exc).__name__)
            raise CalendarError(f"Takvim sunucusundan ({host}) beklenmeyen bir yanıt geldi.{unchanged}") from None

    def _reset(self) -> None:
        self._client = None
        self._calendar = None
        self._sync = None

    def _cal(self) -> Any:
        if self._calendar is not None:
            return self._calendar
        from caldav.davclient import DAVClient  # caldav's package root exports it lazily (untyped)

        if self.username and not self._password:
            raise CalendarError(
                f"CalDAV parolası bulunamadı: {self.password_env} ortam değişkenini ya da sistem anahtarlığını ayarlayın."
            )
        if self._client is None:
            self._client = DAVClient(
                url=self.url,
                username=self.username,
                password=self._password,
                timeout=self.timeout,  # type: ignore[arg-type]  # annotated int; niquests takes float seconds
                enable_rfc6764=False,
                require_tls=False,
            )
            if self.loopback:  # a loopback server is reached directly, never through HTTP(S)_PROXY
                session = getattr(self._client, "session", None)
                if session is not None and hasattr(session, "trust_env"):
                    session.trust_env = False
        name = self.calendar_name
        if name and "://" in name:
            self._calendar = self._client.calendar(url=name)
            return self._calendar
        calendars = self._client.principal().calendars()
        if name:
            match = [c for c in calendars if (c.get_display_name() or "") == name or str(c.url).rstrip("/").endswith("/" + name)]
            if not match:
                raise CalendarError(f"CalDAV sunucusunda '{name}' adlı takvim yok.")
            self._calendar = match[0]
        elif calendars:
            self._calendar = calendars[0]
        else:
            self._calendar = self._client.principal().make_calendar(name="Bantz")
        return self._calendar

    def _run(self, fn: Callable[[Any], T], writing: bool = False) -> T:
        with self._mutex, self._errors(writing):
            return fn(self._cal())

    def _object(self, cal: Any, uid: str) -> Any | None:
        from caldav.lib import error as dav_error

        try:
            return cal.get_object_by_uid(uid)
        except (dav_error.ETagMismatchError, dav_error.ScheduleTagMismatchError):
            raise CalendarError(
                "Etkinlik o arada başka bir yerden değişmiş; üzerine yazmadım. Tekrar deneyin."
            ) from None
        except dav_error.NotFoundError:
            return None

    # --- reading ----------------------------------------------------------------------------
    def list(self, start: datetime, end: datetime) -> builtins.list[Event]:
        """Occurrences in [start, end), expanded here from a synchronized copy of the calendar.

        The server is not asked for a time range: answering one, a server expands recurring
        events itself, and a FREQ=SECONDLY rule without an end keeps it busy past every timeout
        (Radicale does). The copy is kept up to date with one sync-collection REPORT per call
        (RFC 6578; the library falls back to comparing ETags on servers without it), each object
        is parsed once per version, and a damaged object is skipped (``problems()`` names it)."""
        start, end = self.local(start), self.local(end)
        check_range(start, end)
        merged = ical.new_calendar()
        seen_tz: set[str] = set()
        with self._mutex:
            objects = self._run(self._synced)
            bad: builtins.list[str] = []
            for href, data in objects:
                part = self._parsed_object(href, data)
                if part is None:
                    bad.append(f"{href.rstrip('/').rsplit('/', 1)[-1] or href} ({_host(self.url)})")
                    continue
                for comp in part.subcomponents:
                    if comp.name == "VTIMEZONE":
                        tzid = str(comp.get("TZID"))
                        if tzid in seen_tz:
                            continue
                        seen_tz.add(tzid)
                    elif comp.name != "VEVENT":
                        continue
                    merged.subcomponents.append(comp)
            if bad and bad != self._bad:
                log.warning("caldav: %d damaged calendar object(s) skipped", len(bad))
            self._bad = bad
        return ical.expand(merged, start, end, self.tz)

    def _synced(self, cal: Any) -> builtins.list[tuple[str, str]]:
        """(href, iCalendar text) of every object in the calendar, as it is now on the server."""
        if self._sync is None or self._sync.calendar is not cal:
            self._sync = cal.get_objects_by_sync_token(load_objects=True)
        else:
            try:
                self._sync.sync()
            except Exception:
                self._sync = None
                raise
        out = []
        for obj in self._sync:
            data = obj.data
            if data:
                out.append((str(obj.url), data if isinstance(data, str) else str(data)))
        live = {href for href, _ in out}
        for href in [h for h in self._parsed if h not in live]:
            del self._parsed[href]
        return out

    def _parsed_object(self, href: str, data: str) -> icalendar.Calendar | None:
        """The parsed object (cached per version), or None when it is damaged."""
        hit = self._parsed.get(href)
        if hit is not None and hit[0] == data:
            return hit[1]
        try:
            parsed: icalendar.Calendar | None = ical.parse(data, _host(self.url))
        except CalendarError:
            parsed = None
        self._parsed[href] = (data, parsed)
        return parsed

    def problems(self) -> builtins.list[str]:
        return list(self._bad)

    def get(self, uid: str) -> Event | None:
        data = self.snapshot(uid)
        return ical.master_event(ical.parse(data, _host(self.url)), uid, self.tz) if data else None

    def snapshot(self, uid: str) -> str | None:
        def fetch(cal: Any) -> str | None:
            obj = self._object(cal, uid)
            return obj.data if obj is not None else None

        return self._run(fetch)

    # --- writing ----------------------------------------------------------------------------
    def create(
        self, title: str, start: datetime | date, end: datetime | date | None = None, all_day: bool = False, *, rrule: str | None = None
    ) -> Event:
        s, e = ical.normalize_times(start, end, all_day, self.tz)
        comp = ical.build_event(title, s, e, all_day, rrule=rrule)
        body = ical.new_calendar()
        body.add_component(comp)
        ical.add_timezones(body, compact=True)
        text = body.to_ical().decode()
        # a fresh random UID: no need for the extra "does it exist" request of no_overwrite
        self._run(lambda cal: cal.add_event(ical=text, increase_seqno=False), writing=True)
        ev = ical.occurrence_to_event(comp, self.tz, ical.recurring_masters([comp]))
        assert ev is not None
        return ev

    def _edit(self, uid: str, change: Callable[[icalendar.Calendar], None]) -> icalendar.Calendar | None:
        """Fetch the object of ``uid``, change it, PUT it back (or DELETE it once empty)."""

        def run(cal: Any) -> icalendar.Calendar | None:
            obj = self._object(cal, uid)
            if obj is None:
                raise EventNotFoundError("Etkinlik takvimde bulunamadı; silinmiş ya da değişmiş olabilir.")
            parsed = ical.parse(obj.data, _host(self.url))
            change(parsed)
            if not ical.events_of(parsed):
                strong = bool(obj.etag) and not str(obj.etag).startswith("W/")
                obj.delete(if_match=strong)  # not if someone changed it since we read it
                return None
            obj.data = parsed.to_ical().decode()
            obj.save(increase_seqno=False)
            return parsed

        return self._run(run, writing=True)

    def update(self, event: Event, *, series: bool = False, **fields: Any) -> Event:
        parsed = self._edit(event.uid, lambda c: ical.apply_update(c, event, fields, self.tz, series=series, compact=True))
        assert parsed is not None
        return ical.event_after_change(parsed, event, self.tz, series)

    def delete(self, event: Event, *, series: bool = False) -> None:
        self._edit(event.uid, lambda c: ical.apply_delete(c, event, self.tz, series=series))

    def restore(self, uid: str, data: str | None) -> None:
        if data is not None:
            ical.parse(data, "geri alma kaydı")

        def run(cal: Any) -> None:
            obj = self._object(cal, uid)
            if data is None:
                if obj is not None:
                    obj.delete()
            elif obj is None:
                cal.add_event(ical=data, increase_seqno=False)
            else:
                obj.data = data
                obj.save(increase_seqno=False)

        self._run(run, writing=True)

    def close(self) -> None:
        client, self._client, self._calendar = self._client, None, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()


def _is_local(host: str | None) -> bool:
    from bantz_voice.llm.openai_backend import is_loopback

    return is_loopback(host)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen = 0
    cur: BaseException | None = exc
    while cur is not None and seen < 10:
        yield cur
        cur = cur.__cause__ or cur.__context__
        seen += 1


def _is_timeout(exc: BaseException) -> bool:
    for e in _chain(exc):
        name = type(e).__name__
        if isinstance(e, (TimeoutError, socket.timeout)) or "Timeout" in name:
            return True
    return False


def _is_connection(exc: BaseException) -> bool:
    return any(isinstance(e, (ConnectionError, OSError)) or "Connection" in type(e).__name__ for e in _chain(exc))
