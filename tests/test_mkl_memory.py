"""MKL's fast memory manager is off in the product (bantz_voice.asr sets MKL_DISABLE_FAST_MM before
faster-whisper loads CTranslate2 and its bundled MKL): its per-thread buffer cache would keep a
decode's working buffers resident between turns (docs/benchmarks.md, "RSS after READY")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Records the C environment's MKL_DISABLE_FAST_MM at the moment CTranslate2 is first imported (MKL
# reads it through getenv), then loads Whisper through the product's own loader.
PROBE = r"""
import ctypes, json, sys
getenv = ctypes.CDLL(None).getenv
getenv.restype = ctypes.c_char_p
seen = {}
def hook(event, args):
    if event == "import" and args[0] == "ctranslate2" and "at_import" not in seen:
        value = getenv(b"MKL_DISABLE_FAST_MM")
        seen["at_import"] = value.decode() if value is not None else None
sys.addaudithook(hook)
from bantz_voice import app
from bantz_voice.config import Settings
app.load_transcriber(Settings())
print(json.dumps(seen))
"""


def _run(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "MKL_DISABLE_FAST_MM"}
    clean["PYTHONPATH"] = os.pathsep.join([str(ROOT), clean.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_the_product_turns_mkl_fast_mm_off_before_ctranslate2_loads() -> None:
    seen = json.loads(_run(PROBE))
    assert seen == {"at_import": "1"}


def test_a_users_own_mkl_fast_mm_setting_wins() -> None:
    code = "import os, bantz_voice.asr; print(os.environ['MKL_DISABLE_FAST_MM'])"
    assert _run(code, MKL_DISABLE_FAST_MM="0") == "0"
    assert _run("import os, bantz_voice.asr; print(os.environ['MKL_DISABLE_FAST_MM'])") == "1"
