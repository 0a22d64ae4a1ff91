#!/usr/bin/python3
"""docs/errors.md must list exactly the library's error codes, each with its
value, name and description as the built library reports them.
Usage: check-error-table.py DOCS_ERRORS_MD DYNMEM_VERSION_EXE"""
import re
import subprocess
import sys

doc, exe = sys.argv[1:3]
out = subprocess.run([exe, "--errors"], check=True, capture_output=True, text=True).stdout
lib = {}
for m in re.finditer(r"^\s+(-?\d+)\s+(DYNMEM_\w+)\s+(.*?)\s*$", out, re.M):
    lib[m.group(2)] = (int(m.group(1)), m.group(3))
documented = {}
for m in re.finditer(r"^\|\s*(-?\d+)\s*\|\s*`(DYNMEM_\w+)`\s*\|\s*(.*?)\s*\|", open(doc).read(), re.M):
    documented[m.group(2)] = (int(m.group(1)), m.group(3))
failures = []
for name in sorted(set(lib) | set(documented)):
    if name not in documented:
        failures.append(f"{name} is missing from {doc}")
    elif name not in lib:
        failures.append(f"{name} is documented but the library does not know it")
    elif lib[name] != documented[name]:
        failures.append(f"{name}: library says {lib[name]}, docs say {documented[name]}")
if not lib:
    failures.append("the library listed no error codes")
if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
print(f"errors: {len(lib)} codes documented exactly")
