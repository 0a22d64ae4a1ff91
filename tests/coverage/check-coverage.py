"""Line and branch coverage of lib/ by the unit + api suites (gcovr over a
-Db_coverage=true gcc build), against the floor written in docs/quality.md.

Usage: check-coverage.py GCOVR SOURCE_ROOT BUILD_DIR [--write]

Without --write (the `coverage-floor` test, suite coverage): prints the
figures and fails if lines or branches of lib/ are below the floor in
docs/quality.md, the only place the floor is written. With --write
(scripts/coverage): also rewrites the figures between the coverage markers
of docs/quality.md, so the figures there always come from this command."""
import json
import os
import re
import subprocess
import sys

BEGIN, END = "<!-- coverage:begin -->", "<!-- coverage:end -->"
FLOOR = re.compile(r"Floor: lines >= \*\*([0-9.]+) %\*\*, branches >= \*\*([0-9.]+) %\*\*")

gcovr, root, build = sys.argv[1:4]
write = sys.argv[4:] == ["--write"]
doc = os.path.join(root, "docs", "quality.md")

# GCC counts compiler-made branches too; the two exclusions drop branches
# that no source line can take (none in lib/ today: the figures are the
# same without them) and C++ exception edges (none in C).
args = ["--root", root, "--filter", os.path.join(root, "lib") + "/",
        "--exclude-unreachable-branches", "--exclude-throw-branches",
        "--json-summary", "-", build]
out = subprocess.run([gcovr] + args, capture_output=True, text=True, check=True).stdout
s = json.loads(out)
if not s["line_total"]:
    sys.exit("no coverage data: run the unit and api suites in a -Db_coverage=true build first")

text = open(doc).read()
m = FLOOR.search(text)
if not m:
    sys.exit(f"{doc}: no 'Floor: lines >= **N %**, branches >= **N %**' line")
line_floor, branch_floor = float(m.group(1)), float(m.group(2))

def pct(c, t):
    return 100.0 * c / t if t else 100.0

lines = pct(s["line_covered"], s["line_total"])
branches = pct(s["branch_covered"], s["branch_total"])
print(f"lib/ lines {lines:.1f} % ({s['line_covered']}/{s['line_total']}), "
      f"branches {branches:.1f} % ({s['branch_covered']}/{s['branch_total']}); "
      f"floor {line_floor} % / {branch_floor} %")

if write:
    rows = ["| file | lines | branches |", "|---|---:|---:|"]
    for f in sorted(s["files"], key=lambda f: f["filename"]):
        rows.append(f"| `{f['filename']}` | {pct(f['line_covered'], f['line_total']):.1f} % "
                    f"({f['line_covered']}/{f['line_total']}) | "
                    f"{pct(f['branch_covered'], f['branch_total']):.1f} % "
                    f"({f['branch_covered']}/{f['branch_total']}) |")
    rows.append(f"| **lib/ total** | **{lines:.1f} %** ({s['line_covered']}/{s['line_total']}) | "
                f"**{branches:.1f} %** ({s['branch_covered']}/{s['branch_total']}) |")
    cmd = "gcovr " + " ".join(a if a != build else "build-cov" for a in args).replace(root + "/", "").replace(root, ".")
    block = (f"{BEGIN}\nProduced by `sh scripts/coverage`, which ran the unit and api suites in\n"
             f"`build-cov/` and then `{cmd}`.\n\n" + "\n".join(rows) + f"\n{END}")
    a, b = text.index(BEGIN), text.index(END) + len(END)
    open(doc, "w").write(text[:a] + block + text[b:])

bad = []
if lines < line_floor:
    bad.append(f"line coverage {lines:.1f} % is below the floor {line_floor} %")
if branches < branch_floor:
    bad.append(f"branch coverage {branches:.1f} % is below the floor {branch_floor} %")
if bad:
    sys.exit("; ".join(bad) + " (docs/quality.md)")
