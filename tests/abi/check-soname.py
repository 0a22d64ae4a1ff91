#!/usr/bin/python3
"""The shared library's SONAME must be libdynmem.so.<soversion>.
Usage: check-soname.py LIBRARY EXPECTED_SONAME"""
import re
import subprocess
import sys

lib, expected = sys.argv[1:3]
dyn = subprocess.run(["readelf", "-d", lib], check=True, capture_output=True, text=True).stdout
m = re.search(r"\(SONAME\).*\[(.*)\]", dyn)
if not m:
    sys.exit(f"FAIL: {lib} has no SONAME")
if m.group(1) != expected:
    sys.exit(f"FAIL: SONAME is {m.group(1)}, expected {expected}")
print(f"soname: {m.group(1)}")
