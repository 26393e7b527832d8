#!/usr/bin/env bash
# The test command: installs the build tools if missing, then builds and runs every test
# suite twice, in the default float build (build/) and in the double build (build-double/),
# where gradient checks are strict. Extra arguments go to `meson test`.
#
# Environment (CI sets both; see .ci/run):
#   NFVI_SANITIZE=1  also a debug build with AddressSanitizer and UBSan (build-asan/)
#   NFVI_WERROR=1    compiler warnings are errors in every build
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh

werror=false
[ "${NFVI_WERROR:-0}" = 1 ] && werror=true
configs=("build:-Dreal=float" "build-double:-Dreal=double")
if [ "${NFVI_SANITIZE:-0}" = 1 ]; then
    # b_lundef=false: the sanitizer runtimes resolve symbols at load time. -O1, which the
    # AddressSanitizer documentation suggests for usable speed; with the sanitizers it builds
    # in half the time -O3 takes (about 4 minutes against 8 on 2 cores).
    configs+=("build-asan:-Dbuildtype=debug -Doptimization=1 -Db_sanitize=address,undefined -Db_lundef=false")
fi

status=0
for cfg in "${configs[@]}"; do
    dir=${cfg%%:*}
    read -r -a opts <<<"${cfg#*:}"
    opts+=("-Dwerror=$werror")
    if [ -f "$dir/build.ninja" ]; then
        meson configure "$dir" "${opts[@]}" >/dev/null
    else
        meson setup "$dir" "${opts[@]}" >/dev/null
    fi
    echo "== $dir (${opts[*]})"
    if ! ninja -C "$dir" >"$dir/ninja-output.txt" 2>&1; then
        grep -E -A5 "error|FAILED" "$dir/ninja-output.txt" | head -60
        echo "== $dir: the build failed (full output in $dir/ninja-output.txt)"
        status=1
        continue
    fi
    # UBSan reports stop the test that triggered them, so they cannot pass unnoticed.
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
        meson test -C "$dir" --num-processes 2 --print-errorlogs "$@" || status=1
done
exit $status
