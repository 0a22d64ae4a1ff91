#!/usr/bin/python3
"""Data-driven codec corpus, run through dynmem-dump (so it also tests the
tool end to end).

  valid/<group>/<case>.hex    one message, hex; '# protocol: X' picks the
  valid/<group>/<case>.json   negotiated version; expected decoded JSON
  invalid/<group>/<case>.hex  one message that must be refused by the decoder
  invalid/<group>/<case>.json one message that must be refused by the encoder
  invalid/<group>/<case>.expect  the DYNMEM_ERR_* name it must be refused with

A valid case must decode to its JSON, and that JSON must encode back to the
same bytes (unless the case is flagged: reserved bits and info slack are
dropped on re-encoding, so then the re-encoded bytes must decode to the same
JSON minus the flags). Every codec error code must be reached by at least
one invalid case.
Usage: run-corpus.py DYNMEM_DUMP CORPUS_DIR
"""
import json
import pathlib
import re
import subprocess
import sys

CODEC_ERRORS = {
    "DYNMEM_ERR_PROTO_BAD_RANGE", "DYNMEM_ERR_PROTO_BAD_FIELD",
    "DYNMEM_ERR_PROTO_TRUNCATED", "DYNMEM_ERR_PROTO_HEADER_SIZE", "DYNMEM_ERR_PROTO_TOO_LARGE",
    "DYNMEM_ERR_PROTO_TRAILING_BYTES", "DYNMEM_ERR_PROTO_UNKNOWN_TYPE",
    "DYNMEM_ERR_PROTO_VERSION", "DYNMEM_ERR_PROTO_BAD_SIZE", "DYNMEM_ERR_PROTO_TOO_MANY_RANGES",
    "DYNMEM_ERR_PROTO_RANGE_COUNT", "DYNMEM_ERR_PROTO_BAD_INFO",
}
FLAGS = ("reserved_bits", "unknown_version", "info_slack")


def run(dump, args, text):
    return subprocess.run([dump] + args, input=text, capture_output=True, text=True)


def protocol_args(hex_text):
    m = re.search(r"^#\s*protocol:\s*(\S+)", hex_text, re.M)
    return ["--protocol", m.group(1)] if m else []


def message_hex(hex_text):
    lines = [l for l in hex_text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    return " ".join("".join(lines).split()).lower()


def normalise(obj, drop=("index",)):
    return {k: v for k, v in obj.items() if k not in drop}


def check_valid(dump, case):
    text = case.read_text()
    proto = protocol_args(text)
    want = json.loads(case.with_suffix(".json").read_text())
    r = run(dump, proto, text)
    if r.returncode:
        return f"decode failed: {r.stderr.strip()}"
    got = json.loads(r.stdout)
    if normalise(got) != normalise(want):
        return f"decoded to {r.stdout.strip()}"
    r = run(dump, ["--encode"] + proto, json.dumps(want) + "\n")
    if r.returncode:
        return f"encode failed: {r.stderr.strip()}"
    encoded = r.stdout.strip()
    flagged = any(k in want for k in FLAGS)
    if not flagged:
        return None if encoded == message_hex(text) else f"re-encoded to {encoded}"
    again = run(dump, proto, encoded + "\n")
    drop = ("index", "size", "info_size") + FLAGS
    if again.returncode or normalise(json.loads(again.stdout), drop) != normalise(want, drop):
        return f"flagged case does not survive re-encoding: {again.stdout.strip()}"
    return None


def check_invalid(dump, case, reached):
    text = case.read_text()
    want = case.with_suffix(".expect").read_text().strip()
    mode = ["--encode"] if case.suffix == ".json" else []
    r = run(dump, mode + protocol_args(text), text)
    if r.returncode != 1 or r.stdout:
        return f"not refused (exit {r.returncode}, output {r.stdout.strip()!r})"
    m = re.match(r"dynmem-dump: message 0 \(line \d+\): (DYNMEM_ERR_\w+): ", r.stderr)
    if not m:
        return f"unexpected diagnostic {r.stderr.strip()!r}"
    if m.group(1) != want:
        return f"refused with {m.group(1)}, expected {want}"
    reached.add(want)
    return None


def main():
    dump, corpus = sys.argv[1], pathlib.Path(sys.argv[2])
    failures, reached = [], set()
    valid = sorted((corpus / "valid").rglob("*.hex"))
    invalid = sorted(p for p in (corpus / "invalid").rglob("*") if p.suffix in (".hex", ".json"))
    for case in valid:
        why = check_valid(dump, case)
        if why:
            failures.append(f"{case.relative_to(corpus)}: {why}")
    for case in invalid:
        why = check_invalid(dump, case, reached)
        if why:
            failures.append(f"{case.relative_to(corpus)}: {why}")
    for code in sorted(CODEC_ERRORS - reached):
        failures.append(f"no invalid case reaches {code}")
    if len(valid) < 20 or len(invalid) < 40:
        failures.append(f"corpus too small: {len(valid)} valid, {len(invalid)} invalid")
    if failures:
        print("\n".join("FAIL: " + f for f in failures))
        return 1
    print(f"corpus: {len(valid)} valid and {len(invalid)} invalid cases pass; "
          f"{len(reached)} codec error codes reached")
    return 0


if __name__ == "__main__":
    sys.exit(main())
