"""Negative control of the TSan build: runs the threads test in its `race`
mode (threads sharing one estimator unlocked) and passes only if
ThreadSanitizer reported a data race inside the library and ended the run
with the exit code set in TSAN_OPTIONS. A crash or a clean exit fails: either
would mean the gate could not catch a real race."""
import subprocess
import sys

exe, code = sys.argv[1], int(sys.argv[2])
r = subprocess.run([exe, "race"], capture_output=True, text=True, timeout=300)
report = "WARNING: ThreadSanitizer: data race" in r.stderr
in_lib = "dynmem_pressure_" in r.stderr
print(f"exit {r.returncode}, race reported: {report}, in the library: {in_lib}")
if r.returncode != code or not report or not in_lib:
    sys.stderr.write(r.stderr[-4000:])
    sys.exit(1)
