"""Scoring of NLU decisions against a labelled JSONL file (rules of shared/eval/README.md):
route and intent exact; a case's slots are right when every expected key matches — a 10-character
value (a date) matches any prediction that starts with it, ``title`` holds space-separated stems
that must each appear in the predicted title after Turkish lowercasing; keys not expected are not
scored."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bantz_voice.errors import BantzError
from bantz_voice.turkish.text import tr_lower


class EvalFileError(BantzError):
    pass


@dataclass(slots=True)
class Case:
    text: str
    route: str
    intent: str
    slots: dict[str, str]
    line: int


@dataclass(slots=True)
class Miss:
    case: Case
    predicted: dict[str, Any]
    what: list[str]


@dataclass(slots=True)
class Report:
    total: int = 0
    route_ok: int = 0
    intent_ok: int = 0
    slots_ok: int = 0
    confusion: Counter = field(default_factory=Counter)  # (expected intent, predicted intent)
    misses: list[Miss] = field(default_factory=list)

    def rate(self, n: int) -> float:
        return n / self.total if self.total else 0.0

    @property
    def route_acc(self) -> float:
        return self.rate(self.route_ok)

    @property
    def intent_acc(self) -> float:
        return self.rate(self.intent_ok)

    @property
    def slot_acc(self) -> float:
        return self.rate(self.slots_ok)


def read_text_lines(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-empty line of a JSONL file whose objects carry ``text``."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalFileError(f"{p}: okunamadı ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise EvalFileError(f"{p}: UTF-8 değil") from exc
    out: list[tuple[int, dict[str, Any]]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"{p}:{n}: geçersiz JSON ({exc.msg})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise EvalFileError(f"{p}:{n}: her satır \"text\" alanı olan bir JSON nesnesi olmalı")
        out.append((n, obj))
    return out


def load_cases(path: str | Path) -> list[Case]:
    return [
        Case(obj["text"], str(obj.get("route", "")), str(obj.get("intent", "")), dict(obj.get("slots") or {}), n)
        for n, obj in read_text_lines(path)
    ]


def slot_matches(key: str, expected: str, predicted: Any) -> bool:
    if predicted is None:
        return False
    predicted = str(predicted)
    if key == "title":
        got = tr_lower(predicted)
        return all(tr_lower(stem) in got for stem in str(expected).split())
    if len(expected) == 10:
        return predicted.startswith(expected)
    return predicted == expected


def score(cases: Iterable[Case], predictions: Iterable[dict[str, Any]]) -> Report:
    rep = Report()
    for case, pred in zip(cases, predictions, strict=True):
        rep.total += 1
        what: list[str] = []
        if pred.get("route") == case.route:
            rep.route_ok += 1
        else:
            what.append("route")
        if pred.get("intent") == case.intent:
            rep.intent_ok += 1
        else:
            what.append("intent")
        pslots = pred.get("slots") or {}
        bad = [k for k, v in case.slots.items() if not slot_matches(k, v, pslots.get(k))]
        if bad:
            what.append("slots:" + ",".join(bad))
        else:
            rep.slots_ok += 1
        rep.confusion[(case.intent, str(pred.get("intent")))] += 1
        if what:
            rep.misses.append(Miss(case, pred, what))
    return rep


def format_report(rep: Report) -> str:
    lines = [
        f"örnek: {rep.total}",
        f"rota doğruluğu:  {rep.route_acc:.1%} ({rep.route_ok}/{rep.total})",
        f"niyet doğruluğu: {rep.intent_acc:.1%} ({rep.intent_ok}/{rep.total})",
        f"slot doğruluğu:  {rep.slot_acc:.1%} ({rep.slots_ok}/{rep.total})",
        "",
        "karışıklık tablosu (satır: beklenen, sütun: tahmin):",
    ]
    labels = sorted({e for e, _ in rep.confusion} | {p for _, p in rep.confusion})
    width = max([len(x) for x in labels] + [8])
    lines.append(" " * (width + 1) + " ".join(f"{x[:width]:>{width}}" for x in labels))
    for e in labels:
        row = [rep.confusion.get((e, p), 0) for p in labels]
        if any(row):
            lines.append(f"{e:<{width}} " + " ".join(f"{v:>{width}}" for v in row))
    lines.append("")
    lines.append(f"hatalar ({len(rep.misses)}):")
    for m in rep.misses:
        exp = {"route": m.case.route, "intent": m.case.intent, "slots": m.case.slots}
        lines.append(f"- satır {m.case.line}: {m.case.text!r} [{'; '.join(m.what)}]")
        lines.append(f"    beklenen: {json.dumps(exp, ensure_ascii=False)}")
        lines.append(f"    tahmin:   {json.dumps(m.predicted, ensure_ascii=False)}")
    return "\n".join(lines)
