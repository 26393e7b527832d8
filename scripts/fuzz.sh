#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz/ and runs each for SECONDS seconds, one after
# the other. Every parser of outside bytes has one:
#   inflate     raw DEFLATE, zlib and gzip decoding with an output cap   (src/io/inflate.h)
#   idx         IDX (MNIST) files, plain and gzip-compressed, in memory and from a file
#   png         the PNG decoder                                         (src/io/png.h)
#   json        the JSON parser (parameter files, checkpoint settings)  (src/io/json.h)
#   args        the command-line parser                                 (src/args.h)
#   checkpoint  training checkpoints                                    (src/io/checkpoint.h)
#
# Usage:   scripts/fuzz.sh SECONDS [HARNESS...]        (default: all of them)
#   e.g.   nice -n 10 scripts/fuzz.sh 600               (ten minutes each, an hour in all)
#          scripts/fuzz.sh 60 png json
#
# Needs clang with its sanitizer and fuzzer runtimes; on Debian or Ubuntu:
#   apt-get install -y clang libclang-rt-dev        (or libclang-rt-NN-dev for clang-NN)
# Another clang can be chosen with CXX=clang++-15. Extra libFuzzer flags go in FUZZ_FLAGS
# (e.g. FUZZ_FLAGS="-jobs=1 -use_value_profile=1").
#
# Everything happens in build-fuzz/ (the repository is never modified):
#   build-fuzz/fuzz_NAME        the harness, built with -std=c++20 -g -O1
#                               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
#                               (float build; autodiff/config.h generated from config.h.in)
#   build-fuzz/corpus/NAME/     the working corpus: the seeds of tests/fuzz/corpus/NAME/ are
#                               copied in, and the fuzzer adds what it finds; it is kept
#                               between runs, so later runs start where earlier ones stopped
#   build-fuzz/logs/NAME.log    libFuzzer's output
#   build-fuzz/artifacts/NAME/  crash-*, leak-*, timeout-*, oom-* inputs of findings
# Each harness runs with -max_total_time=SECONDS -rss_limit_mb=2048 -timeout=10 (an input
# that takes over 10 s, or a process above 2 GiB, is a finding). Leaks are findings too.
# One line per harness gives its executions, executions per second, corpus size (files in the
# directory, and how many of them libFuzzer keeps in use after reducing) and outcome;
# the exit status is 1 if any harness found something, with the path of the input in the
# output. Replay an input with `build-fuzz/fuzz_NAME FILE`; minimise it with
# `build-fuzz/fuzz_NAME -minimize_crash=1 -runs=10000 FILE`; then add it as a test case to
# tests/test_fuzz_regressions.cpp.
set -euo pipefail
cd "$(dirname "$0")/.."

all_harnesses=(inflate idx png json args checkpoint)

usage() {
    echo "usage: scripts/fuzz.sh SECONDS [HARNESS...]   (harnesses: ${all_harnesses[*]})" >&2
    exit 2
}
[ $# -ge 1 ] || usage
seconds=$1
shift
[[ $seconds =~ ^[1-9][0-9]*$ ]] || usage
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all_harnesses[@]}")

# The library sources each harness links (besides tests/fuzz/fuzz_NAME.cpp).
sources_of() {
    case $1 in
        inflate) echo src/io/inflate.cpp src/io/deflate.cpp src/io/checksum.cpp ;;
        idx) echo src/io/idx.cpp src/io/files.cpp src/io/inflate.cpp src/io/deflate.cpp src/io/checksum.cpp ;;
        png) echo src/io/png.cpp src/io/inflate.cpp src/io/deflate.cpp src/io/checksum.cpp ;;
        json) echo src/io/json.cpp ;;
        args) echo src/args.cpp ;;
        checkpoint) echo src/io/checkpoint.cpp src/io/files.cpp src/io/checksum.cpp autodiff/tensor.cpp ;;
        *) echo "scripts/fuzz.sh: unknown harness '$1' (harnesses: ${all_harnesses[*]})" >&2; exit 2 ;;
    esac
}
for h in "${harnesses[@]}"; do sources_of "$h" >/dev/null; done

CXX=${CXX:-clang++}
out=build-fuzz
# shellcheck disable=SC2054  # the commas are part of -fsanitize's argument
flags=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
       -I. -I"$out")
mkdir -p "$out/obj" "$out/logs" "$out/autodiff"

missing() {
    echo "scripts/fuzz.sh: $1" >&2
    echo "install clang and its fuzzer runtime, e.g. on Debian or Ubuntu:" >&2
    echo "    apt-get install -y clang libclang-rt-dev    (or libclang-rt-NN-dev for clang-NN)" >&2
    exit 3
}
command -v "$CXX" >/dev/null || missing "$CXX not found"
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
    >"$out/obj/probe.cpp"
"$CXX" -fsanitize=fuzzer,address,undefined "$out/obj/probe.cpp" -o "$out/obj/probe" 2>"$out/logs/probe.log" ||
    missing "$CXX cannot link -fsanitize=fuzzer,address,undefined (see $out/logs/probe.log)"

sed 's/@REAL_IS_DOUBLE@/0/' autodiff/config.h.in >"$out/autodiff/config.h.new"
cmp -s "$out/autodiff/config.h.new" "$out/autodiff/config.h" 2>/dev/null ||
    mv "$out/autodiff/config.h.new" "$out/autodiff/config.h"
rm -f "$out/autodiff/config.h.new"

# Compiles $1 to an object unless the object is newer than it and than every header.
compile() {
    local src=$1 extra=$2 obj
    obj="$out/obj/${1//\//_}.o"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] ||
        [ -n "$(find src autodiff tests/fuzz "$out/autodiff" -name '*.h' -newer "$obj" -print -quit)" ]; then
        echo "  compiling $src" >&2
        "$CXX" "${flags[@]}" "$extra" -c "$src" -o "$obj"
    fi
    echo "$obj"
}

for h in "${harnesses[@]}"; do
    objs=()
    for s in $(sources_of "$h") "tests/fuzz/fuzz_$h.cpp"; do
        obj=$(compile "$s" -fsanitize=fuzzer-no-link) || exit 1
        objs+=("$obj")
    done
    "$CXX" "${flags[@]}" -fsanitize=fuzzer "${objs[@]}" -lpthread -o "$out/fuzz_$h"
done

status=0
for h in "${harnesses[@]}"; do
    corpus="$out/corpus/$h" artifacts="$out/artifacts/$h/" log="$out/logs/$h.log"
    mkdir -p "$corpus" "$artifacts"
    cp tests/fuzz/corpus/"$h"/* "$corpus"/
    rc=0
    # shellcheck disable=SC2086  # FUZZ_FLAGS is a list of flags
    "$out/fuzz_$h" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts" ${FUZZ_FLAGS:-} "$corpus" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1 || true)
    files=$(find "$corpus" -type f | wc -l)
    # libFuzzer's last status line, "... corp: N/SIZE ...": the inputs it keeps in use.
    in_use=$( (grep -E '^#[0-9]+' "$log" || true) | tail -1 | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
    if [ "$rc" -eq 0 ]; then
        outcome="no finding"
    else
        status=1
        input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1 || true)
        why=$(grep -m1 -E '^SUMMARY:|ERROR: libFuzzer|==ERROR' "$log" || true)
        outcome="FINDING (exit $rc): ${why:-see $log} — input: ${input:-none written, see $log}"
    fi
    printf '%-10s %10s execs %6s exec/s  corpus %5s files (%s in use)  %s\n' "$h" "${execs:-?}" "${rate:-?}" \
        "$files" "${in_use:-?}" "$outcome"
done
exit $status
