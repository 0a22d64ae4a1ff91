#!/bin/sh
# ABI gate: the built library must be ABI-compatible with the committed
# baseline abi/libdynmem.abi. Added symbols are allowed (the symbols test
# polices where they go); anything else abidiff reports fails the test.
# Refresh the baseline deliberately with scripts/abi-refresh.
# Usage: check-abi.sh BASELINE LIBRARY HEADER_DIR SUPPRESSIONS
set -u
baseline=$1 lib=$2 headers=$3 suppr=$4
abidiff --no-added-syms --suppressions "$suppr" --headers-dir2 "$headers" \
    "$baseline" "$lib"
rc=$?
if [ "$rc" -ne 0 ]; then
    echo "FAIL: abidiff exit status $rc against $baseline (bit 4: ABI change, bit 8: incompatible)" >&2
    exit 1
fi
echo "abi: compatible with $baseline"
