#!/bin/sh
# dynmem-demo end to end: the first scenario's numbers appear in its table.
set -eu
out=$("$1")
echo "$out" | tail -5
echo "$out" | grep -Eq '^ +140s +533 MiB +640 MiB +2048 MiB +1408 MiB +83 +OK$' || {
    echo "FAIL: idle guest not ballooned to 640 MiB while seeing 2048 MiB" >&2; exit 1; }
echo "$out" | grep -Eq '^ +190s +4423 MiB +4096 MiB +4096 MiB +0 MiB +108 +Warning$' || {
    echo "FAIL: hog not grown to 4096 MiB at Warning, pressure 108" >&2; exit 1; }
echo "$out" | grep -Eq '^ +300s +600 MiB +720 MiB +4096 MiB' || {
    echo "FAIL: not reclaimed to 720 MiB with 4096 MiB visible" >&2; exit 1; }
"$1" --policy nosuch 2>/dev/null && { echo "FAIL: unknown policy accepted" >&2; exit 1; }
exit 0
