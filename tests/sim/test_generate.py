"""dynmem-sim --generate (issue 20, point 6): seeded fleets with workload
shapes, guest kinds and a host sized as a fraction of the sum of maxima.
Every generated fleet is a scenario file like any other: it loads, runs
and says what it is."""
import json
import os
import tempfile

import pytest

from simrun import run

KINDS = {"linux", "windows", "hot-remove", "no-driver"}


def generate(*args):
    return run(["--generate", *args]).stdout


def fleet(*args):
    return json.loads(generate(*args))


def shape(vm):
    d = vm["demand"]
    if isinstance(d, (int, float)):
        return "idle"
    types = {p.get("type", "const") for p in d}
    if "periodic" in types:
        return "periodic"
    if "bursts" in types:
        return "bursty"
    if "ramp" in types:
        return "ramp"
    return "step"


def peak(vm):
    """The most demand any piece can reach, MiB."""
    d = vm["demand"]
    if isinstance(d, (int, float)):
        return d
    top = 0
    for p in d:
        t = p.get("type", "const")
        top = max(top, p["mib"] + (p["amplitude_mib"] if t == "periodic" else 0),
                  p.get("burst_mib", 0), p.get("to_mib", 0))
    return top


def test_same_seed_same_fleet_other_seed_other_fleet():
    assert generate("7") == generate("7")
    assert generate("7") != generate("8")
    assert generate("7", "--host-fraction", "0.5") != generate("7")


@pytest.mark.parametrize("fraction", ["0.5", "0.7", "0.9"])
def test_host_is_the_fraction_of_the_sum_of_maxima(fraction):
    f = fleet("3", "--vms", "25", "--host-fraction", fraction)
    total = sum(vm["maximum_mib"] for vm in f["vms"])
    assert len(f["vms"]) == 25
    assert abs(f["host"]["memory_mib"] - float(fraction) * total) <= 2
    assert f["host"]["memory_mib"] % 2 == 0


def test_shapes_kinds_and_bounds_over_many_seeds():
    shapes, kinds = set(), set()
    for seed in range(1, 11):
        f = fleet(str(seed), "--hours", "3")
        assert f["duration_s"] == 3 * 3600
        for vm in f["vms"]:
            kinds.add(vm["kind"])
            shapes.add(shape(vm))
            assert 0 < vm["minimum_mib"] <= vm["startup_mib"] <= vm["maximum_mib"], vm
            assert peak(vm) <= vm["maximum_mib"], vm
            if vm["kind"] == "no-driver":
                assert shape(vm) == "idle", vm
    assert kinds == KINDS
    assert shapes == {"periodic", "bursty", "ramp", "step", "idle"}


@pytest.mark.parametrize("seed", range(0, 40))
def test_every_generated_fleet_runs(seed):
    # Small and short, so that many seeds are cheap: each must load as a
    # scenario and run to the end with the books checked after every tick.
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "f.json")
        with open(path, "w") as out:
            out.write(generate(str(seed), "--vms", "12", "--hours", "0.25"))
        r = run([path, "--quiet"])
        assert r.returncode == 0


@pytest.mark.parametrize("args, field", [
    (["--generate", "-1"], "--generate"),
    (["--generate", "1.5"], "--generate"),
    (["--generate", "x"], "--generate"),
    (["--generate", "1", "--vms", "0"], "--vms"),
    (["--generate", "1", "--hours", "0"], "--hours"),
    (["--generate", "1", "--host-fraction", "0"], "--host-fraction"),
    (["--generate", "1", "--host-fraction", "11"], "--host-fraction"),
    (["--generate", "1", "examples/scenarios/s1.json"], "scenario"),
])
def test_bad_arguments_are_refused_with_the_option_named(args, field):
    r = run(args, check=False)
    assert r.returncode == 2, r
    assert field in r.stderr, r.stderr
    assert r.stdout == ""
