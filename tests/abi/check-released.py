#!/usr/bin/python3
"""Released-nodes gate: a version node of lib/libdynmem.map that shipped in a
release never changes. Each release froze the ABI it shipped as
abi/libdynmem-<major>.<minor>.<patch>.abi (written once, at the tag, never
refreshed); the node DYNMEM_<major>.<minor> of the map must hold exactly the
symbols that file lists in that node: a symbol removed from it would break
programs linked against the release, one added to it would be missing from
the release's library while a program built later asks for it there.
New API goes into the next node (docs/abi-policy.md).

Every frozen file must also be registered in tests/meson.build's
released_abis, which runs abidiff against it: the released versions are
passed as arguments, and a frozen file that is not among them fails.

Usage: check-released.py MAPFILE ABI_DIR RELEASE...
"""
import pathlib
import re
import sys

from mapfile import map_nodes

FROZEN = re.compile(r"libdynmem-(\d+)\.(\d+)\.(\d+)\.abi")
ELF_SYMBOL = re.compile(r"<elf-symbol name='(\w+)' version='([\w.]+)'")


def main():
    map_path, abi_dir = sys.argv[1:3]
    registered = set(sys.argv[3:])
    nodes = map_nodes(map_path)
    frozen = sorted(p for p in pathlib.Path(abi_dir).iterdir() if FROZEN.fullmatch(p.name))
    for release in sorted(registered - {".".join(FROZEN.fullmatch(p.name).groups()) for p in frozen}):
        print(f"FAIL: release {release} registered but abi/libdynmem-{release}.abi is missing",
              file=sys.stderr)
        sys.exit(1)
    if not frozen:
        sys.exit(f"FAIL: no frozen release baseline (libdynmem-X.Y.Z.abi) in {abi_dir}")
    failures = []
    for path in frozen:
        release = ".".join(FROZEN.fullmatch(path.name).groups())
        if release not in registered:
            failures.append(f"{path.name}: not in released_abis of tests/meson.build, "
                            f"so no abidiff runs against it")
        major, minor, _ = FROZEN.fullmatch(path.name).groups()
        node = f"DYNMEM_{major}.{minor}"
        shipped = {name for name, version in ELF_SYMBOL.findall(path.read_text())
                   if version == node}
        if not shipped:
            failures.append(f"{path.name}: lists no symbol in node {node}")
            continue
        mapped = set(nodes.get(node, []))
        for s in sorted(shipped - mapped):
            failures.append(f"{s}: shipped in {node} ({path.name}) but no longer in that node of the map")
        for s in sorted(mapped - shipped):
            failures.append(f"{s}: added to the released node {node} ({path.name}); "
                            f"new API goes into the next node")
        if not failures:
            print(f"released: {node} holds the {len(shipped)} symbols of {path.name}")
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    sys.exit(1 if failures else 0)


main()
