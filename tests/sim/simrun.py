"""Helpers for the dynmem-sim tests: run the CLI, read its CSV outputs."""
import csv
import os
import subprocess
import tempfile

SIM = os.environ.get("DYNMEM_SIM", "dynmem-sim")
SCENARIOS = os.environ.get("DYNMEM_SCENARIOS", "examples/scenarios")


def scenario(name):
    return os.path.join(SCENARIOS, name)


def run(args, check=True, timeout=600):
    r = subprocess.run([SIM] + args, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"dynmem-sim {' '.join(args)} exited {r.returncode}:\n"
                             f"{r.stdout}\n{r.stderr}")
    return r


class Timeline:
    """The per-tick timeline CSV, indexed by (time, vm name)."""

    def __init__(self, path):
        self.rows = {}
        self.times = []
        with open(path) as f:
            for row in csv.DictReader(f):
                t = float(row["time_s"])
                if not self.times or self.times[-1] != t:
                    self.times.append(t)
                self.rows[(t, row["name"])] = row

    def at(self, t, vm):
        return self.rows[(float(t), vm)]

    def num(self, t, vm, col):
        return float(self.at(t, vm)[col])


def simulate(name, *extra):
    """Runs a scenario; returns (Timeline, summary rows by VM, stdout)."""
    with tempfile.TemporaryDirectory() as d:
        tl, sm = os.path.join(d, "t.csv"), os.path.join(d, "s.csv")
        r = run([scenario(name), "--timeline", tl, "--summary-csv", sm, "--actions", *extra])
        with open(sm) as f:
            summary = {row["vm"]: row for row in csv.DictReader(f)}
        return Timeline(tl), summary, r.stdout


def near(got, want, tol, what):
    assert abs(got - want) <= tol, f"{what}: got {got}, want {want} +- {tol}"


def simulate_dict(spec, *extra):
    """Runs a scenario given as a dict (written to a temporary file);
    returns (Timeline, summary rows by VM, stdout)."""
    import json
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "scenario.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        tl, sm = os.path.join(d, "t.csv"), os.path.join(d, "s.csv")
        r = run([path, "--timeline", tl, "--summary-csv", sm, "--actions", *extra])
        with open(sm) as f:
            summary = {row["vm"]: row for row in csv.DictReader(f)}
        return Timeline(tl), summary, r.stdout
