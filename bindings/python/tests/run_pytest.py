#!/usr/bin/env python3
"""Run the Python test suite with pytest and turn every way it could pass
without testing anything into a failure.

Usage: run_pytest.py TEST_DIR [PYTEST_ARGS...]

pytest exits with 5 when it collects no test; meson would count any
non-zero status as a failure, but a suite where every test is skipped
exits 0. So: no test collected, or any test skipped, fails the run, and
the dynmem being tested must be the one of the build tree given in
PYTHONPATH (not an installed copy).
"""

import sys

import pytest


class Guard:
    """pytest plugin: counts collected, passed and skipped tests."""

    def __init__(self):
        self.collected = 0
        self.passed = 0
        self.skipped = []

    def pytest_collection_finish(self, session):
        """Remember how many tests were collected."""
        self.collected = len(session.items)

    def pytest_runtest_logreport(self, report):
        """Count passes and skips."""
        if report.skipped:
            self.skipped.append(report.nodeid)
        elif report.when == 'call' and report.passed:
            self.passed += 1


def main(argv):
    """Run pytest over argv[1]; exit non-zero unless tests ran and passed."""
    if len(argv) < 2:
        sys.exit(__doc__)
    guard = Guard()
    rc = pytest.main(['-p', 'no:cacheprovider', '-ra', '--strict-markers',
                      '--rootdir', argv[1], argv[1]] + argv[2:], plugins=[guard])
    if rc == 5 or guard.collected == 0:
        print('run_pytest: pytest collected no tests', file=sys.stderr)
        return 1
    if guard.skipped:
        print('run_pytest: skipped tests count as failures here: ' + ', '.join(guard.skipped),
              file=sys.stderr)
        return 1
    if rc == 0 and guard.passed == 0:
        print('run_pytest: no test passed', file=sys.stderr)
        return 1
    print(f'run_pytest: {guard.passed} of {guard.collected} tests passed', file=sys.stderr)
    return int(rc)


if __name__ == '__main__':
    sys.exit(main(sys.argv))

