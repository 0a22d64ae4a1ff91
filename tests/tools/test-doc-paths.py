#!/usr/bin/python3
"""Every path of the source tree that docs/internals.md names must exist, so
that its module map and its step lists cannot name a file that was renamed
or removed. A path is a run of characters starting with one of the tree's
top folders (lib/, include/, tests/, docs/, bindings/, examples/, scripts/,
fuzz/, abi/, bench/, .ci/); a placeholder (`<module>`, `*`) ends the
check of that path at the folder before it.
Usage: test-doc-paths.py SOURCE_ROOT [DOC...]  (default docs/internals.md)"""
import os
import re
import sys

TOP = r"(?:lib|include|tests|docs|bindings|examples|scripts|fuzz|abi|bench|\.ci)"
PATH = re.compile(r"(?<![\w./-])(" + TOP + r"/[\w./<>*-]*)")


def named_paths(text):
    """Every path the text names, trimmed of placeholders and punctuation."""
    for m in PATH.finditer(text):
        path = m.group(1)
        cut = re.search(r"[<*]", path)
        if cut:
            path = path[:cut.start()]
            path = path[:path.rfind("/") + 1]
        yield path.rstrip(".,:;")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    root = argv[1]
    docs = argv[2:] or ["docs/internals.md"]
    missing, seen = [], 0
    for doc in docs:
        with open(os.path.join(root, doc), encoding="utf-8") as f:
            text = f.read()
        for lineno, line in enumerate(text.splitlines(), 1):
            for path in named_paths(line):
                seen += 1
                if not os.path.exists(os.path.join(root, path)):
                    missing.append(f"{doc}:{lineno}: {path} does not exist")
    if seen == 0:
        missing.append("no path found: the check would prove nothing")
    for m in missing:
        print(m, file=sys.stderr)
    print(f"test-doc-paths: {seen} paths checked, {len(missing)} missing")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
