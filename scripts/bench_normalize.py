#!/usr/bin/env python3
"""Text normalization for speech, measured on the public Turkish TTS normalization exam
(PyPI ``turkce-tts-sinav``, ``veri/normalizasyon.tsv``): this project's normalizer, ``damga``
(TN mode, tr) and the text left as it is, per group, plus the time to normalize a 200-character
reply (p50 / p95).

Scoring (the exam's own runner compares raw strings; we compare what a listener hears): both the
output and the expected reading are reduced to spoken words — Turkish lower-casing (I→ı, İ→i),
apostrophes joined ("Ankara'da" = "Ankarada"), every other punctuation mark replaced by a space —
then compared word by word: exact (no word differs) and word error rate (word edit distance over
the expected words). The groups ``Telaffuz`` and ``Cografi`` (GIS jargon: WMS, shapefile, degree-
minute-second coordinates, map-sheet codes) are left out: 114 of the 128 cases count.

    python scripts/bench_normalize.py [--json | --markdown] [--misses] [--no-damga]
"""

from __future__ import annotations

import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bantz_voice.bench import report  # noqa: E402 - the checkout's package, not an installed copy
from bantz_voice.bench.stats import percentile  # noqa: E402

EXCLUDED_GROUPS = ("Telaffuz", "Cografi")
# a 200-character assistant reply with numbers, a time, money, a unit and an abbreviation
REPLY_200 = (
    "Tamam, yarın saat 14:30'da Dr. Yılmaz ile randevunuz var; yol 12 km, yaklaşık 25 dk sürer. "
    "Fatura tutarı 1.250,50 TL, %18 KDV dahil. 3. kattaki ofis 09:00'da açılıyor, 2 kişi bekliyor. Tel: 0212 555 44 33."
)


def exam_cases() -> list[tuple[str, str, str]]:
    """(input, expected reading, group) for every counted case of the exam."""
    from turkce_tts_sinav import VERI

    rows = []
    for line in (VERI / "normalizasyon.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        given, expected, group = line.split("\t")
        if group not in EXCLUDED_GROUPS:
            rows.append((given, expected, group))
    return rows


def spoken_words(text: str) -> list[str]:
    """The words a listener hears: Turkish lower case, apostrophes joined, punctuation dropped."""
    s = unicodedata.normalize("NFC", text).replace("I", "ı").replace("İ", "i").lower()
    s = s.replace("'", "").replace("’", "")
    return "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in s).split()


def word_edits(a: list[str], b: list[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def score(system: Callable[[str], str], cases: list[tuple[str, str, str]]) -> dict:
    """Exact count and WER, overall and per group, plus the misses."""
    groups: dict[str, dict[str, int]] = {}
    misses = []
    for given, expected, group in cases:
        out = system(given)
        ref = spoken_words(expected)
        edits = word_edits(spoken_words(out), ref)
        g = groups.setdefault(group, {"exact": 0, "cases": 0, "edits": 0, "words": 0})
        g["cases"] += 1
        g["exact"] += edits == 0
        g["edits"] += edits
        g["words"] += len(ref)
        if edits:
            misses.append({"input": given, "output": out, "expected": expected, "group": group})
    total = {k: sum(g[k] for g in groups.values()) for k in ("exact", "cases", "edits", "words")}
    for g in (*groups.values(), total):
        g["wer"] = round(g["edits"] / g["words"], 4) if g["words"] else 0.0
    return {"total": total, "groups": groups, "misses": misses}


def timing(system: Callable[[str], str], text: str = REPLY_200, runs: int = 2000) -> dict:
    for _ in range(50):
        system(text)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        system(text)
        times.append(time.perf_counter() - t0)
    ms = [t * 1000 for t in times]
    return {
        "chars": len(text),
        "p50_ms": percentile(ms, 50, ndigits=3),
        "p95_ms": percentile(ms, 95, ndigits=3),
    }


def systems(with_damga: bool) -> dict[str, Callable[[str], str]]:
    from bantz_voice.turkish.normalize import normalize

    out: dict[str, Callable[[str], str]] = {"bantz_voice.turkish.normalize": normalize}
    if with_damga:
        try:
            import damga

            tn = damga.Normalizer(mode="tn", lang="tr")
            out[f"damga {damga.__version__} (TN mode, tr)"] = tn.normalize
        except ImportError:
            print("damga is not installed (pip install '.[bench]'): left out", file=sys.stderr)
    out["text left as it is"] = lambda s: s
    return out


def markdown(result: dict) -> str:
    names = list(result["systems"])
    chars = result["systems"][names[0]]["timing"]["chars"]
    lines = [f"| normalizer | exact | word error rate | {chars}-char reply p50 / p95 |", "| --- | --- | --- | --- |"]
    for name in names:
        r = result["systems"][name]
        t = r["total"]
        lines.append(
            f"| `{name}` | {t['exact']} / {t['cases']} | {100 * t['wer']:.1f} % "
            f"| {r['timing']['p50_ms']:.3f} / {r['timing']['p95_ms']:.3f} ms |"
        )
    lines += ["", "| group | cases | " + " | ".join(f"`{n.split(' ')[0]}`" for n in names) + " |"]
    lines.append("| --- | --- |" + " --- |" * len(names))
    for group in result["systems"][names[0]]["groups"]:
        row = [group, str(result["systems"][names[0]]["groups"][group]["cases"])]
        for name in names:
            g = result["systems"][name]["groups"][group]
            row.append(f"{g['exact']} ({100 * g['wer']:.0f} % WER)")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = report.parser(__doc__)
    p.add_argument("--misses", action="store_true", help="list this project's misses")
    p.add_argument("--no-damga", action="store_true")
    args = p.parse_args(argv)

    cases = exam_cases()
    result: dict = {
        **report.context(),
        "cases": len(cases),
        "systems": {},
    }
    for name, system in systems(not args.no_damga).items():
        r = score(system, cases)
        r["timing"] = timing(system, runs=2000 if name.startswith("bantz") else 100)
        if not (args.misses and name.startswith("bantz")):
            r.pop("misses")
        result["systems"][name] = r
    if not report.emit(args, result, markdown):
        return 0
    if args.misses:
        for r in result["systems"].values():
            for m in r.get("misses", []):
                print(f"\n[{m['group']}] {m['input']}\n  got:      {m['output']}\n  expected: {m['expected']}")
    print(f"\n{report.context_line(result)}, {len(cases)} cases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
