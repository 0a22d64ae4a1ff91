"""The plot (gnuplot): drawn for what ran, and a plot that cannot be made
ends the run with exit status 3 and the reason (issue 20)."""
import json
import os
import shutil
import tempfile

import pytest

from simrun import run

pytestmark = pytest.mark.skipif(shutil.which("gnuplot") is None,
                                reason="gnuplot missing: scripts/bootstrap installs gnuplot-nox")

# The first VM never starts (no start time, no event): its panel has
# nothing to draw.
NEVER = {"name": "never", "duration_s": 30, "host": {"memory_mib": 8192},
         "vms": [{"name": "idle", "startup_mib": 1024, "start_s": None, "demand": 500},
                 {"name": "b", "startup_mib": 1024, "demand": 500}]}


def scenario_file(d):
    p = os.path.join(d, "never.json")
    with open(p, "w") as f:
        json.dump(NEVER, f)
    return p


def test_a_vm_that_never_runs_gets_an_empty_panel():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out")
        r = run([scenario_file(d), "--out", out, "--quiet"], check=False)
        assert r.returncode == 0, r.stderr
        assert "plot: " in r.stdout
        assert "gnuplot" not in r.stderr
        assert os.path.getsize(os.path.join(out, "plot.png")) > 0


@pytest.mark.parametrize("asked", ["--plot", "--out"])
def test_a_plot_that_fails_ends_the_run_with_the_reason(asked):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out")
        os.mkdir(out)
        os.mkdir(os.path.join(out, "plot.png"))  # gnuplot cannot write there
        args = ["--out", out] if asked == "--out" else \
            ["--timeline", os.path.join(d, "t.csv"), "--plot", os.path.join(out, "plot.png")]
        r = run([scenario_file(d), "--quiet"] + args, check=False)
        assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
        assert "no plot written to" in r.stderr and "cannot open file" in r.stderr, r.stderr
        assert "\x89PNG" not in r.stdout
