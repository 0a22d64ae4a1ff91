#!/usr/bin/python3
"""Symbols gate: the exported surface is declared in exactly three places and
they must agree.

  (a) functions marked DYNMEM_API in the public headers,
  (b) the version script lib/libdynmem.map (and the node each name sits in),
  (c) `nm -D --defined-only` of the built shared library, with versions.

Every function sits in a DYNMEM_<major>.<minor> node: there is no
experimental tier (docs/abi-policy.md).
Usage: check-symbols.py MAPFILE LIBRARY HEADER_DIR
"""
import pathlib
import re
import subprocess
import sys

from mapfile import map_nodes

API_DECL = re.compile(r"\bDYNMEM_API\b[^;{}()]*?\b(dynmem_\w+)\s*\(", re.S)


def header_symbols(header_dir):
    found = {}
    for h in sorted(pathlib.Path(header_dir).glob("*.h")):
        text = re.sub(r"/\*.*?\*/", "", h.read_text(), flags=re.S)
        text = re.sub(r"^\s*#\s*define\b.*?(?<!\\)$", "", text, flags=re.M | re.S)
        for name in API_DECL.findall(text):
            found[name] = h.name
    return found


def map_symbols(map_path):
    nodes = {}
    for node, names in map_nodes(map_path).items():
        for name in names:
            if name in nodes:
                sys.exit(f"FAIL: {name} appears in the map twice")
            nodes[name] = node
    return nodes


def library_symbols(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] == "A":  # "A" rows are version nodes
            continue
        name, _, version = parts[2].partition("@")
        syms[name] = version.lstrip("@")
    return syms


def main():
    map_path, lib, header_dir = sys.argv[1:4]
    headers = header_symbols(header_dir)
    mapped = map_symbols(map_path)
    exported = library_symbols(lib)
    failures = []

    def compare(a_name, a, b_name, b):
        for s in sorted(set(a) - set(b)):
            failures.append(f"{s}: in {a_name} but not in {b_name}")

    compare("the headers", headers, "the map", mapped)
    compare("the map", mapped, "the headers", headers)
    compare("the map", mapped, "the library", exported)
    compare("the library", exported, "the map", mapped)
    for s, node in mapped.items():
        if s in exported and exported[s] != node:
            failures.append(f"{s}: map node {node} but library version {exported[s]}")
        if not re.fullmatch(r"DYNMEM_\d+\.\d+", node):
            failures.append(f"{s}: placed in node {node}, not a DYNMEM_<major>.<minor> release node")
        if not s.startswith("dynmem_"):
            failures.append(f"{s}: exported name lacks the dynmem_ prefix")
    if not headers:
        failures.append("no DYNMEM_API declarations found in the headers")
    if failures:
        print("\n".join("FAIL: " + f for f in failures))
        return 1
    print(f"symbols: {len(mapped)} exported names agree across headers, map and library")
    return 0


if __name__ == "__main__":
    sys.exit(main())
