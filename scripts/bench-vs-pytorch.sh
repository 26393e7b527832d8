#!/usr/bin/env bash
# Runs nfvi's benchmarks and the PyTorch reference programs one after the other, on the same
# machine and thread counts, and prints the ratios. The PyTorch side is skipped (with a
# message) when python3-torch is missing: apt-get install -y python3-torch libopenblas0-openmp
#   scripts/bench-vs-pytorch.sh [REFERENCE_DIR (../shared/reference)] [THREADS (1 2)]
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:-../shared/reference}
threads=${2:-"1 2"}

scripts/bootstrap.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build tests/bench/bench_planar_vi tests/bench/bench_gemm tests/bench/bench_nfvae >/dev/null

py=/usr/bin/python3
have_torch=0
if [ -x "$py" ] && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" -c "import torch" 2>/dev/null && [ -d "$ref" ]; then
    have_torch=1
else
    echo "PyTorch side skipped: no $py with torch, or no reference programs in $ref" >&2
fi
torch() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" "$@"; }
field() { sed -n "s/.*\"$1\": *\([0-9.eE+-]*\).*/\1/p" | head -n 1; }

for t in $threads; do
    n=$(build/tests/bench/bench_planar_vi --threads "$t" --steps 2000 | field steps_per_second)
    line="planar_vi U1 K=32 batch 1000, $t thread(s): nfvi $n steps/s"
    if [ $have_torch = 1 ]; then
        p=$(torch "$ref/torch_planar_vi.py" --potential U1 --K 32 --batch 1000 --steps 550 --warmup 50 \
              --threads "$t" --kl-samples 0 --grid 0 2>/dev/null | field steps_per_s)
        line="$line, PyTorch $p steps/s, ratio $(awk -v a="$n" -v b="$p" 'BEGIN{printf "%.1f", a/b}')x"
    fi
    echo "$line"
done

for k in 16 0; do
    for t in $threads; do
        out=$(build/tests/bench/bench_nfvae --threads "$t" --flows "$k" --steps 1000)
        n=$(echo "$out" | field samples_per_second)
        line="nfvae z=40 512-512 ELU planar K=$k batch 128, $t thread(s): nfvi $n samples/s"
        if [ $have_torch = 1 ]; then
            p=$(torch "$ref/torch_nfvae.py" --flows "$k" --steps 300 --warmup 20 --threads "$t" 2>/dev/null | field train_samples_per_s)
            line="$line, PyTorch $p samples/s, ratio $(awk -v a="$n" -v b="$p" 'BEGIN{printf "%.2f", a/b}')x"
        fi
        echo "$line"
        if [ "$k" = 16 ] && [ "$t" = "${threads%% *}" ]; then
            echo "  memory: peak RSS $(echo "$out" | field peak_rss_bytes) bytes; parameters + gradients + Adam + one step's tape + data $(echo "$out" | field needed_bytes) + $(echo "$out" | field data_bytes) bytes; ratio $(echo "$out" | field rss_over_needed)"
        fi
    done
done

for t in $threads; do
    echo "gemm, $t thread(s), GFLOP/s (nfvi):"
    build/tests/bench/bench_gemm --threads "$t"
done
if [ $have_torch = 1 ]; then
    echo "gemm, torch.mm GFLOP/s (median):"
    torch "$ref/torch_gemm.py" --threads "$(echo $threads | tr ' ' ',')" 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    if not line.startswith("{"):
        continue
    for r in json.loads(line).get("results", []):
        print("{op:<20} t={threads}  {M:>5} {N:>5} {K:>5} {layout}  {gflops_median:8.1f}".format(**r))
'
fi
