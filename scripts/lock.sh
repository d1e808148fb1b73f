#!/usr/bin/env bash
# Regenerate requirements.lock from the working .venv (after adding a dependency to pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
{ echo "# Pinned versions CI tested (pip constraints). Regenerate: scripts/lock.sh"
  .venv/bin/pip freeze --exclude-editable | grep -v '^-e' | sort -f; } > requirements.lock
