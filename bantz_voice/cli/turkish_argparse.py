"""argparse's own texts (usage, option titles, errors) in Turkish, like the rest of the CLI.

argparse looks its messages up with ``gettext`` at call time through its module-level ``_`` and
``ngettext``; :func:`install` points those at this table (messages not in it stay as they are).
"""

from __future__ import annotations

import argparse

MESSAGES = {
    "usage: ": "kullanım: ",
    "positional arguments": "konumsal argümanlar",
    "options": "seçenekler",
    "optional arguments": "seçenekler",
    "show this help message and exit": "bu yardımı göster ve çık",
    "show program's version number and exit": "sürümü göster ve çık",
    "%(prog)s: error: %(message)s\n": "%(prog)s: hata: %(message)s\n",
    "the following arguments are required: %s": "şu argümanlar gerekli: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "geçersiz seçim: %(value)r (seçenekler: %(choices)s)",
    "unrecognized arguments: %s": "tanınmayan argümanlar: %s",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s argümanı: %(message)s",
    "invalid %(type)s value: %(value)r": "geçersiz %(type)s değeri: %(value)r",
    "expected one argument": "bir değer bekleniyordu",
    "expected at least one argument": "en az bir değer bekleniyordu",
    "expected at most one argument": "en fazla bir değer bekleniyordu",
    "ambiguous option: %(option)s could match %(matches)s": "belirsiz seçenek: %(option)s şunlardan biri olabilir: %(matches)s",
    "one of the arguments %s is required": "şu argümanlardan biri gerekli: %s",
    "not allowed with argument %s": "%s argümanıyla birlikte kullanılamaz",
    "ignored explicit argument %r": "yok sayılan argüman: %r",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "bilinmeyen komut %(parser_name)r (seçenekler: %(choices)s)",
    "can't open '%(filename)s': %(error)s": "'%(filename)s' açılamadı: %(error)s",
}


def _gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _gettext(singular if n == 1 else plural)


def install() -> None:
    argparse._ = _gettext  # type: ignore[attr-defined]
    argparse.ngettext = _ngettext  # type: ignore[attr-defined]


# Placeholders in usage lines (argparse prints the option's dest in capitals when no metavar is
# given): the Turkish word for the common ones.
METAVARS = {
    "text": "METİN", "wav": "WAV", "file": "DOSYA", "out": "DOSYA", "jsonl": "DOSYA", "demo_wav": "WAV",
    "socket": "YOL", "timeout": "SN", "now": "ZAMAN", "profile": "PROFİL", "max_model_len": "N",
    "max_num_seqs": "N", "reserve_mib": "MiB", "vram_mib": "MiB", "action": "EYLEM", "names": "AD",
    "responder": "YANITLAYICI", "whisper": "MODEL", "start": "ISO", "end": "ISO",
}


def name_placeholders(parser: argparse.ArgumentParser) -> None:
    """Give every argument without a metavar its Turkish placeholder, in all subcommands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                name_placeholders(sub)
        elif action.metavar is None and action.dest in METAVARS and action.nargs != 0 and not action.choices:
            action.metavar = METAVARS[action.dest]
