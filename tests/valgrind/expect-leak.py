"""Negative control of the valgrind setup: runs the leaking test
(tests/valgrind/leak.c) through vgrun.py with the setup's own valgrind
command and passes only if vgrun.py fails it with the leak reported.

Usage: expect-leak.py VGRUN VALGRIND [OPTIONS...] -- LEAK_TEST"""
import subprocess
import sys

vgrun, rest = sys.argv[1], sys.argv[2:]
r = subprocess.run([sys.executable, vgrun] + rest, capture_output=True, text=True,
                   timeout=300)
caught = r.returncode == 99 and "123 bytes in 1 blocks are definitely lost" in r.stderr
print(f"exit {r.returncode}, leak reported: {caught}")
if not caught:
    sys.stderr.write(r.stdout + r.stderr)
    sys.exit(1)
