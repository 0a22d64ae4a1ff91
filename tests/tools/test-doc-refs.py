#!/usr/bin/python3
"""The guides must not name what does not exist, so that they cannot rot.

paths: every path of the source tree that docs/internals.md names must
  exist. A path is a run of characters starting with one of the tree's top
  folders (lib/, include/, tests/, docs/, bindings/, examples/, scripts/,
  fuzz/, abi/, bench/, .ci/); a placeholder (`<module>`, `*`) ends the
  check of that path at the folder before it.
names: every `dynmem_...` or `DYNMEM_...` name in docs/getting-started.md
  and docs/internals.md must occur in a public header (include/dynmem/),
  every `dynmem__...` or `DYNMEM__...` name in a file of lib/; a test's own
  knob (an environment variable such as DYNMEM_REFERENCE_SEED) may be found
  in tests/ instead. Names followed by `*` or ending in `_` are families
  (DYNMEM_CONFIG_*) and are checked as a prefix. And every
  `#define DYNMEM_<NAME>_INIT` of the public headers must be named in
  docs/getting-started.md.
Usage: test-doc-refs.py paths|names SOURCE_ROOT"""
import glob
import os
import re
import sys

TOP = r"(?:lib|include|tests|docs|bindings|examples|scripts|fuzz|abi|bench|\.ci)"
PATH = re.compile(r"(?<![\w./-])(" + TOP + r"/[\w./<>*-]*)")
NAME = re.compile(r"(?<![\w])((?:dynmem|DYNMEM)_\w*)(\*?)")
GUIDE = "docs/getting-started.md"
INTERNALS = "docs/internals.md"


def doc_lines(root, doc):
    """(line number, line) of a document."""
    with open(os.path.join(root, doc), encoding="utf-8") as f:
        return list(enumerate(f.read().splitlines(), 1))


def read_all(pattern):
    """The text of every file matching a glob pattern, joined."""
    return "\n".join(open(p, encoding="utf-8").read() for p in sorted(glob.glob(pattern)))


def named_paths(text):
    """Every path the text names, trimmed of placeholders and punctuation."""
    for m in PATH.finditer(text):
        path = m.group(1)
        cut = re.search(r"[<*]", path)
        if cut:
            path = path[:cut.start()]
            path = path[:path.rfind("/") + 1]
        yield path.rstrip(".,:;")


def check_paths(root):
    """(checked, problems) for the paths of docs/internals.md."""
    seen, problems = 0, []
    for lineno, line in doc_lines(root, INTERNALS):
        for path in named_paths(line):
            seen += 1
            if not os.path.exists(os.path.join(root, path)):
                problems.append(f"{INTERNALS}:{lineno}: {path} does not exist")
    return seen, problems


def check_names(root):
    """(checked, problems) for the library names of both guides."""
    public = read_all(os.path.join(root, "include/dynmem/*"))
    internal = read_all(os.path.join(root, "lib/*"))
    tests = read_all(os.path.join(root, "tests/*/*.c"))
    seen, problems = 0, []
    for doc in (GUIDE, INTERNALS):
        for lineno, line in doc_lines(root, doc):
            for m in NAME.finditer(line):
                name = m.group(1)
                family = bool(m.group(2)) or name.endswith("_")
                private = name.lower().startswith("dynmem__")
                pattern = re.escape(name) + ("" if family else r"\b")
                seen += 1
                if not re.search(pattern, internal if private else public) and \
                        not re.search(pattern, tests):
                    where = "lib/" if private else "include/dynmem/"
                    problems.append(f"{doc}:{lineno}: {name} is not in {where}")
    guide = "\n".join(line for _, line in doc_lines(root, GUIDE))
    for macro in sorted(set(re.findall(r"#define (DYNMEM_\w+_INIT)\b", public))):
        if "`" + macro + "`" not in guide:
            problems.append(f"{GUIDE} does not list {macro}")
    return seen, problems


CHECKS = {"paths": check_paths, "names": check_names}


def main(argv):
    if len(argv) != 3 or argv[1] not in CHECKS:
        sys.exit(__doc__)
    seen, problems = CHECKS[argv[1]](argv[2])
    if seen == 0:
        problems.append("nothing found to check: the check would prove nothing")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"test-doc-refs {argv[1]}: {seen} checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
