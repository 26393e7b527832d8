#!/usr/bin/env bash
# Installs the build tools nfvi needs (meson, ninja, doctest, pkg-config) with apt-get when
# any is missing; does nothing when they are all there. Needs root (or sudo) on Debian/Ubuntu.
set -euo pipefail

missing=()
command -v meson >/dev/null 2>&1 || missing+=(meson)
command -v ninja >/dev/null 2>&1 || missing+=(ninja-build)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
[ -f /usr/include/doctest/doctest.h ] || missing+=(doctest-dev)

[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: missing ${missing[*]}, and there is no apt-get here: install them with your package manager" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "bootstrap: missing ${missing[*]}; run as root or install sudo" >&2; exit 1; }
    sudo=sudo
fi
echo "bootstrap: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
