#!/bin/sh
# pkg-config consumer test: stage an install, build dynmem-version against it
# with pkg-config only, and check it loaded the staged library.
set -eu
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$("$src/scripts/consumer-build" "$build" "$work" --errors)
echo "$out"
echo "$out" | grep -q "^libdynmem [0-9.]* (0x[0-9a-f]*), compiled against headers" || {
    echo "FAIL: consumer did not report its version" >&2; exit 1; }
echo "$out" | grep -q "DYNMEM_ERR_NO_MEMORY" || {
    echo "FAIL: consumer did not print the error table" >&2; exit 1; }
# It must have loaded the staged copy, not one from the build tree.
[ -e "$(find "$work/stage" -name 'libdynmem.so.1' | head -n 1)" ] || {
    echo "FAIL: libdynmem.so.1 was not installed" >&2; exit 1; }
