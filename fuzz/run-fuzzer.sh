#!/bin/sh
# Runs one libFuzzer target for a bounded time on a scratch copy of its
# committed corpus (libFuzzer adds new inputs to the directory it is given,
# and the committed corpus must not change behind git's back).
# Crash reproducers land in ARTIFACT_DIR. A finding exits 1: libFuzzer's
# own default (77) is what meson reads as a skipped test, and would hide it.
# Usage: run-fuzzer.sh TARGET CORPUS_DIR SECONDS ARTIFACT_DIR
set -eu
target=$1 corpus=$2 seconds=$3 artifacts=$4
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$corpus"/* "$scratch"/
mkdir -p "$artifacts"
exec "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$scratch"
