#!/usr/bin/python3
"""End-to-end tests of dynmem-dump: hex in / JSON out, JSON in / hex out,
raw binary streams, and bad input (one diagnostic line per bad message that
names its index, non-zero exit, the rest still processed).
Usage: test-dump.py DYNMEM_DUMP"""
import json
import os
import subprocess
import sys
import tempfile

DUMP = sys.argv[1]
VERSION_REQ = "01 00 10 00 07 00 00 00 00 00 02 00 00 00 00 00"
BALLOON_RESP = ("07 00 20 00 0b 00 00 00 00 00 00 00 05 00 00 00 45 23 01 00 00 00 02 00"
                " 00 00 20 00 00 01 00 00")
UNBALLOON_RESP = "09 00 08 00 0c 00 00 00"
failures = []


def run(args, text=None, data=None):
    r = subprocess.run([DUMP] + args, input=data if data is not None else text.encode(),
                       capture_output=True)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def check(name, cond, detail=""):
    if not cond:
        failures.append(f"{name}: {detail}")


def test_hex_to_json():
    text = f"# a capture\n{VERSION_REQ}\n\n{BALLOON_RESP.replace(' ', '')}\n{UNBALLOON_RESP}\n"
    rc, out, err = run([], text)
    lines = [json.loads(l) for l in out.splitlines()]
    check("hex->json exit", rc == 0 and not err, f"{rc} {err}")
    check("hex->json count", len(lines) == 3, out)
    if len(lines) == 3:
        check("hex->json version", lines[0]["version"] == "2.0" and lines[0]["trans_id"] == 7)
        check("hex->json ranges", lines[1]["range_array"] == [{"start": 0x12345, "count": 512},
                                                             {"start": 0x200000, "count": 1}])
        check("hex->json index", [l["index"] for l in lines] == [0, 1, 2])
        check("hex->json more_pages", lines[1]["more_pages"] is True)


def test_json_to_hex():
    msgs = [{"type": "VERSION_REQUEST", "trans_id": 7, "version": "2.0"},
            {"type": "BALLOON_RESPONSE", "trans_id": 11, "more_pages": True,
             "range_array": [{"start": 0x12345, "count": 512}, {"start": 0x200000, "count": 1}]},
            {"type": 9, "trans_id": 12},
            {"type": "CAPABILITIES_REPORT", "trans_id": 8, "max_page_number": "0xffffffffffffffff",
             "caps": {"balloon": True, "hot_add": True, "hot_add_alignment": 7}}]
    rc, out, err = run(["--encode"], "\n".join(json.dumps(m) for m in msgs) + "\n")
    check("json->hex exit", rc == 0 and not err, f"{rc} {err}")
    want = [VERSION_REQ, BALLOON_RESP, UNBALLOON_RESP,
            "03 00 20 00 08 00 00 00 1f 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
            " ff ff ff ff ff ff ff ff"]
    check("json->hex bytes", out.splitlines() == want, out)


def test_roundtrip_through_tool():
    rc, out, _ = run([], f"{VERSION_REQ}\n{BALLOON_RESP}\n")
    rc2, hexout, _ = run(["--encode"], out)
    check("decode|encode", rc == 0 and rc2 == 0 and hexout.splitlines() == [VERSION_REQ, BALLOON_RESP],
          hexout)


def test_bad_hex_lines():
    text = f"{VERSION_REQ}\nzz 01\n{VERSION_REQ[:-3]}\n{UNBALLOON_RESP}\n"
    rc, out, err = run([], text)
    errs = err.splitlines()
    check("bad lines exit", rc == 1, str(rc))
    check("bad lines decoded the rest", [json.loads(l)["index"] for l in out.splitlines()] == [0, 3],
          out)
    check("bad lines one diagnostic each", len(errs) == 2, err)
    if len(errs) == 2:
        check("bad hex named", errs[0].startswith("dynmem-dump: message 1 (line 2): bad hex"),
              errs[0])
        check("truncated named", errs[1].startswith(
            "dynmem-dump: message 2 (line 3): DYNMEM_ERR_PROTO_TRUNCATED"), errs[1])


def test_bad_json_lines():
    lines = ['{"type": "BALLOON_REQUEST", "num_pages": 5}',
             '{"type": "BALLOON_REQUEST", "num_pagez": 5}',
             'not json',
             '{"type": "NO_SUCH_TYPE"}',
             '{"type": "MEM_HOT_ADD_REQUEST", "range": {"start": 1099511627776, "count": 1}}',
             '{"type": "UNBALLOON_RESPONSE", "trans_id": 3}']
    rc, out, err = run(["--encode"], "\n".join(lines) + "\n")
    errs = err.splitlines()
    check("bad json exit", rc == 1, str(rc))
    check("bad json rest encoded", out.splitlines() == ["06 00 10 00 00 00 00 00 05 00 00 00 00 00 00 00",
                                                         "09 00 08 00 03 00 00 00"], out)
    check("bad json diagnostics", len(errs) == 4, err)
    if len(errs) == 4:
        check("unknown field", 'message 1 (line 2): bad message: unknown field "num_pagez"' in errs[0],
              errs[0])
        check("bad json", "message 2 (line 3): bad JSON" in errs[1], errs[1])
        check("unknown type", "message 3 (line 4): bad message: unknown message type" in errs[2],
              errs[2])
        check("bad range", "message 4 (line 5): DYNMEM_ERR_PROTO_BAD_RANGE" in errs[3], errs[3])


def test_binary_stream():
    good = bytes.fromhex(VERSION_REQ + BALLOON_RESP)
    bad = bytes.fromhex("05 00 10 00 00 00 00 00" + "00" * 8)  # status report of 16 bytes
    tail = bytes.fromhex(UNBALLOON_RESP)
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(good + bad + tail + tail[:5])
    try:
        rc, out, err = run(["--binary", f.name], data=b"")
    finally:
        os.unlink(f.name)
    types = [json.loads(l)["type"] for l in out.splitlines()]
    check("binary exit", rc == 1, str(rc))
    check("binary resynchronised", types == ["VERSION_REQUEST", "BALLOON_RESPONSE",
                                             "UNBALLOON_RESPONSE"], out)
    check("binary diagnostics", "message 2: DYNMEM_ERR_PROTO_BAD_SIZE" in err and
          "message 4: DYNMEM_ERR_PROTO_TRUNCATED" in err, err)


def test_protocol_option():
    info = "0c 00 20 00 00 00 00 00 00 00 00 00 10 00 00 00 00 00 00 00 08 00 00 00 00 00 08 00 00 00 00 00"
    rc, out, err = run(["--protocol", "0.3"], info + "\n")
    check("protocol 0.3 refuses info", rc == 1 and "DYNMEM_ERR_PROTO_VERSION" in err, err)
    rc, out, err = run(["--protocol", "1.0"], info + "\n")
    check("protocol 1.0 takes info", rc == 0 and json.loads(out)["info"]["max_page_count"] == 524288,
          err)
    rc, _, err = run(["--protocol", "9.9"], "")
    check("bad protocol option", rc == 2, str(rc))
    rc, _, err = run(["--bogus"], "")
    check("bad option", rc == 2 and "usage" in err, err)


for t in (test_hex_to_json, test_json_to_hex, test_roundtrip_through_tool, test_bad_hex_lines,
          test_bad_json_lines, test_binary_stream, test_protocol_option):
    t()
if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print("dynmem-dump: all end-to-end checks pass")
