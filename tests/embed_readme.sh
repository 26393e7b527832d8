#!/usr/bin/env bash
# Compiles the README's embedding example against the installed library, found through
# pkg-config, and runs it. Usage: embed_readme.sh SOURCE_ROOT BUILD_ROOT [B_SANITIZE]
# (a sanitized library needs the same -fsanitize flags in the program that links it).
set -euo pipefail
src=$1
build=$2
sanitize=${3:-none}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sed -n '/<!-- embed-example:begin -->/,/<!-- embed-example:end -->/p' "$src/README.md" |
    sed '1,2d;$d' | sed '$d' > "$work/fit.cpp"
grep -q 'int main' "$work/fit.cpp" || { echo "no example found in README.md"; exit 1; }

meson install -C "$build" --no-rebuild --destdir "$work/root" >/dev/null
pcdir=$(dirname "$(find "$work/root" -name nfvi.pc | head -n 1)")
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$work/root
flags=$(pkg-config --cflags --libs nfvi)
echo "g++ -std=c++20 fit.cpp $flags"
extra=""
[ "$sanitize" = none ] || extra="-fsanitize=$sanitize"
${CXX:-g++} -std=c++20 $extra "$work/fit.cpp" $flags -o "$work/fit"
"$work/fit"
