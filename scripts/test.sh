#!/usr/bin/env bash
# The test command: installs the build tools if missing, then builds and runs every test
# suite twice, in the default float build (build/) and in the double build (build-double/),
# where gradient checks are strict. Extra arguments go to `meson test`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh

status=0
for cfg in "build:-Dreal=float" "build-double:-Dreal=double"; do
    dir=${cfg%%:*}
    opt=${cfg#*:}
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$opt" >/dev/null
    fi
    echo "== $dir ($opt)"
    ninja -C "$dir" >/dev/null
    meson test -C "$dir" --num-processes 2 --print-errorlogs "$@" || status=1
done
exit $status
