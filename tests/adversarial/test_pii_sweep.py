"""PII sweep: a scripted conversation through the real `ask` command (separate processes, debug
logging on) with a loopback OpenAI-compatible server that echoes what it is sent. Afterwards no
planted value may be found in any file under the config, data, state, cache and runtime dirs, in
the captured log output, or in what reached the LLM server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripted_llm import ScriptedLLM

REPO = Path(__file__).resolve().parents[2]


def make_tckn(first9: str) -> str:
    d = [int(c) for c in first9]
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    return first9 + str(d10) + str((sum(d) + d10) % 10)


TC = make_tckn("398172645")
TC_SPACED = f"{TC[:3]} {TC[3:6]} {TC[6:9]} {TC[9:]}"
IBAN_SPACED = "tr33 0006 1005 1978 6457 8413 26"
EMAIL = "çağrı.yılmaz@firma.com.tr"
LANDLINE = "212 555 12 34"
SPOKEN = "sıfır beş yüz otuz iki yüz on iki otuz dört elli altı"
CARD = "4111 1111 1111 1111"

CONVERSATION = [
    f"TC kimlik numaram {TC_SPACED}, bunu bir yere yaz",
    f"IBAN numaram {IBAN_SPACED}, kardeşime söyleyeceğim",
    f"e-posta adresim {EMAIL} olarak değişti",
    f"ev telefonum {LANDLINE}, cep telefonum {SPOKEN}",
    f"kartım {CARD} ile ödeme yaptım, sence iyi mi",
    f"TC {TC} ile başvurdum, bugün kendimi yorgun hissediyorum",
    "az önce ne konuştuk",
]
# every form a planted value could be stored in
PLANTED = {
    "tc": [TC, TC_SPACED],
    "iban": [IBAN_SPACED, IBAN_SPACED.replace(" ", ""), IBAN_SPACED.upper(), "0006 1005 1978", "00061005"],
    "email": [EMAIL, "çağrı.yılmaz", "yılmaz@"],
    "landline": [LANDLINE, LANDLINE.replace(" ", ""), "555 12 34"],
    "spoken": [SPOKEN, "05321123456", "beş yüz otuz iki yüz on iki"],
    "card": [CARD, CARD.replace(" ", "")],
}


def echo(role: str, body: dict[str, Any]) -> str:
    """A careless model: routes everything to chat and repeats the user's words back."""
    if role == "router":
        return json.dumps({"route": "smalltalk", "confidence": "high"})
    last = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
    return f"Anladım efendim: {last}"


@pytest.fixture
def server() -> Iterator[ScriptedLLM]:
    srv = ScriptedLLM(echo).start()
    yield srv
    srv.stop()


def _files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            yield path


@pytest.mark.timeout(600)
def test_no_planted_value_reaches_disk_logs_or_the_llm(server: ScriptedLLM, isolated_dirs: Path) -> None:
    env = dict(os.environ)
    for ep in ("SMALL", "CHAT"):
        env[f"BANTZ_MODELS__ENDPOINTS__{ep}__KIND"] = "openai"
        env[f"BANTZ_MODELS__ENDPOINTS__{ep}__BASE_URL"] = server.base_url
        env[f"BANTZ_MODELS__ENDPOINTS__{ep}__MODEL"] = "scripted"
        env[f"BANTZ_MODELS__ENDPOINTS__{ep}__CONNECT_RETRIES"] = "0"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    logs: list[str] = []
    replies: list[str] = []
    for text in CONVERSATION:
        res = subprocess.run(
            [sys.executable, "-m", "bantz_voice", "-v", "ask", text, "--now", "2026-11-27T10:00", "--json"],
            capture_output=True, text=True, timeout=180, env=env,
        )
        assert res.returncode == 0, res.stderr[-2000:]
        logs.append(res.stderr)
        replies.append(json.loads(res.stdout.strip().splitlines()[-1])["reply"])
    assert len(server.requests) >= len(CONVERSATION)  # every turn went through the LLM server
    assert " DEBUG " in "".join(logs)  # debug logging was on
    assert "[TC kimlik]" in replies[0] and "[IBAN]" in replies[1]  # the echo came back, scrubbed
    # the memory was written and read back in the last turn
    assert (Path(os.environ["BANTZ_STATE_DIR"]) / "brain.sqlite3").is_file()

    haystacks: dict[str, bytes] = {"log output": "\n".join(logs).encode(), "LLM requests": server.bodies().encode()}
    haystacks["LLM requests"] += json.dumps(server.bodies(), ensure_ascii=True).encode()  # \\u-escaped form too
    for root in sorted(isolated_dirs.iterdir()):
        for path in _files(root):
            haystacks[str(path.relative_to(isolated_dirs))] = path.read_bytes()
    assert any("brain.sqlite3" in name for name in haystacks)
    found = [
        f"{kind} '{value}' in {where}"
        for kind, values in PLANTED.items()
        for value in values
        for where, data in haystacks.items()
        if value.encode() in data or value.encode("unicode_escape") in data
    ]
    assert not found, found
