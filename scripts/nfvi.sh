#!/usr/bin/env bash
# Runs the nfvi program from a fresh clone: installs the build tools if missing, builds nfvi
# in release mode (-O3, this machine's vector width) and runs it with the given arguments,
# e.g.  scripts/nfvi.sh potential --target U1 --out runs/u1
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build src/nfvi >/dev/null
exec build/src/nfvi "$@"
