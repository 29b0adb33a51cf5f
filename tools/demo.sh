#!/usr/bin/env bash
# The README's main job: set up, then run `engram demo` on ./storage (or the store given as $1).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --no-build
swift run -q engram --store "${1:-./storage}" demo
