#!/usr/bin/env bash
# Installs what Engram needs on Debian/Ubuntu (idempotent, quiet when everything is there), then builds.
#   tools/setup.sh           system packages + debug build
#   tools/setup.sh --no-build
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libuv1-dev libfaiss-dev libxxhash-dev libopenblas-dev liblapack-dev pkg-config python3-faiss python3-numpy)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: the Swift toolchain (6.0 or newer) is needed: https://www.swift.org/install/" >&2
    exit 1
fi

if [ "${1:-}" != "--no-build" ]; then
    swift build -q 2>&1 | grep -v "^warning: 'main': Source files for target" || true
fi
