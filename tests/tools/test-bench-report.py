#!/usr/bin/python3
"""Checks scripts/bench-report, the writer of docs/performance.md's tables,
without running any benchmark: every section it knows has exactly one pair
of markers in the document, in order; rewriting a section changes only the
text between its markers; a section without markers is refused.
Usage: test-bench-report.py SOURCE_ROOT"""
import importlib.machinery
import importlib.util
import os
import sys

ROOT = sys.argv[1]
failures = []


def check(name, cond, detail=""):
    if not cond:
        failures.append(f"{name}: {detail}")


path = os.path.join(ROOT, "scripts", "bench-report")
loader = importlib.machinery.SourceFileLoader("bench_report", path)
spec = importlib.util.spec_from_loader("bench_report", loader)
br = importlib.util.module_from_spec(spec)
loader.exec_module(br)

with open(os.path.join(ROOT, "docs", "performance.md")) as f:
    doc = f.read()
for name, _ in br.SECTIONS:
    begin, end = br.BEGIN.format(name), br.END.format(name)
    check(f"markers of {name}", doc.count(begin) == 1 and doc.count(end) == 1,
          f"{doc.count(begin)} begin and {doc.count(end)} end markers")
    check(f"order of {name}", doc.find(begin) < doc.find(end), "end before begin")

text = ("prose before\n" + br.BEGIN.format("x") + "\nold table\n" + br.END.format("x") +
        "\nprose after\n" + br.BEGIN.format("y") + "\nkept\n" + br.END.format("y") + "\n")
out = br.replace_section(text, "x", "| new | table |\n")
check("replaced", "| new | table |" in out and "old table" not in out, out)
check("prose kept", out.startswith("prose before\n") and "\nprose after\n" in out, out)
check("other section kept", "\nkept\n" in out, out)
check("idempotent", br.replace_section(out, "x", "| new | table |\n") == out, out)
try:
    br.replace_section(text, "z", "body")
    failures.append("missing markers: accepted")
except SystemExit:
    pass

for f in failures:
    print("FAIL", f)
print(f"{'FAILED' if failures else 'ok'}: bench-report checks")
sys.exit(1 if failures else 0)
