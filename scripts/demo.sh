#!/usr/bin/env bash
# The main job, from a fresh clone: installs the build tools if missing, builds nfvi in
# release mode, and runs its demo. Arguments go to `nfvi demo`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build src/nfvi >/dev/null
exec build/src/nfvi demo "$@"
