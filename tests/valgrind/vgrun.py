"""exe_wrapper of the `valgrind` test setup (tests/meson.build).

Usage: vgrun.py VALGRIND [VALGRIND_OPTIONS...] -- TEST [ARGS...]

Runs the test under valgrind with one log file per process. Criterion runs
each test in a worker process and ignores a worker's exit status once the
test itself passed, so --error-exitcode alone would let a leak in a test
pass; instead every process's log must end with "ERROR SUMMARY: 0 errors"
(leaks of the kinds in --errors-for-leak-kinds count as errors). Exits with
the test's own status if it failed, else 99 if any process's log shows an
error or no summary (the logs are then printed), else 0."""
import glob
import os
import re
import subprocess
import sys
import tempfile

VALGRIND_FAILED = 99

argv = sys.argv[1:]
sep = argv.index("--")
valgrind, test = argv[:sep], argv[sep + 1:]
with tempfile.TemporaryDirectory(prefix="dynmem-vg-") as logs:
    cmd = valgrind + [f"--log-file={logs}/%p.log"] + test
    rc = subprocess.run(cmd).returncode
    bad = []
    files = sorted(glob.glob(f"{logs}/*.log"))
    for path in files:
        text = open(path, errors="replace").read()
        m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
        if not m or m.group(1) != "0":
            bad.append((path, text))
    for path, text in bad:
        sys.stderr.write(f"--- valgrind log of process {os.path.basename(path)[:-4]}\n{text}")
    print(f"valgrind: {len(files)} processes, {len(bad)} with errors or leaks")
if rc:
    sys.exit(rc)
sys.exit(VALGRIND_FAILED if bad or not files else 0)
