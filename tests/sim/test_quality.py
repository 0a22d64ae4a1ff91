"""The quality benchmark (issue 20, point 7) and the limit beside it: a
small run of `dynmem-sim --quality` gives every policy on every fleet and
host size, ratios that hold by construction, and a limit no policy beats;
the limit itself is checked on a fleet worked out by hand."""
import csv
import json
import os
import tempfile

from simrun import run

POLICIES = ["dynmem", "hyperv", "static", "squeezed", "mom", "esx", "proxmox"]
METRICS = ["deficit_mib_s", "deficit_time", "churn", "flapping", "fairness"]


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_limit_of_a_fleet_worked_out_by_hand():
    # a wants 904 MiB above its maximum; together a (at its maximum) and b
    # want 4096 + 4000 = 8096 MiB where the host holds 8192 - 1024 = 7168:
    # 904 + 928 = 1832 MiB short every second for 100 s, whatever the policy.
    spec = {"name": "limit", "duration_s": 100,
            "host": {"memory_mib": 8192, "reserve_mib": 1024},
            "vms": [{"name": "a", "startup_mib": 2048, "minimum_mib": 512, "maximum_mib": 4096,
                     "demand": 5000},
                    {"name": "b", "startup_mib": 2048, "minimum_mib": 512, "maximum_mib": 6144,
                     "demand": 4000}]}
    with tempfile.TemporaryDirectory() as d:
        path, out = os.path.join(d, "s.json"), os.path.join(d, "c.csv")
        with open(path, "w") as f:
            json.dump(spec, f)
        r = run([path, "--compare", "--no-density", "--compare-csv", out])
        table = rows(out)
    assert "deficit no policy can avoid" in r.stdout
    assert {float(t["limit_mib_s"]) for t in table} == {1832 * 100}
    for t in table:
        assert float(t["deficit_mib_s"]) >= 1832 * 100, t


def test_quality_smoke():
    with tempfile.TemporaryDirectory() as d:
        runs, summary = os.path.join(d, "runs.csv"), os.path.join(d, "summary.csv")
        r = run(["--quality", "2", "--vms", "8", "--hours", "0.5", "--jobs", "2",
                 "--quality-csv", runs, "--quality-summary-csv", summary])
        per_run, ratios = rows(runs), rows(summary)
    # Every policy on 2 fleets x 3 host sizes.
    cases = {(x["fleet"], x["host_fraction"]) for x in per_run}
    assert cases == {(f, h) for f in ("1", "2") for h in ("0.50", "0.70", "0.90")}
    assert sorted(x["policy"] for x in per_run) == sorted(POLICIES * 6)
    for x in per_run:
        # The limit is a lower bound for every policy: none can do better.
        assert float(x["deficit_mib_s"]) + 1 >= float(x["limit_mib_s"]), x
        parts = float(x["waiting_deficit_mib_s"]) + float(x["blind_deficit_mib_s"])
        assert parts <= float(x["deficit_mib_s"]) + 1, x
        assert x["best_peer"] not in ("dynmem", "hyperv")
        # Density is searched at the 50 % host only, for three policies.
        searched = x["host_fraction"] == "0.50" and x["policy"] in ("dynmem", "hyperv", "static")
        assert (int(x["density"]) >= 0) == searched, x
    got = {(x["policy"], x["reference"], x["metric"]): x for x in ratios}
    assert len(got) == len(POLICIES) * 2 * len(METRICS)
    for m in METRICS:
        h = got[("hyperv", "hyperv", m)]
        assert float(h["median"]) == 1.0 and float(h["worst"]) == 1.0, h
    for p in POLICIES:
        x = got[(p, "hyperv", "deficit_mib_s")]
        assert float(x["median"]) <= float(x["worst"]), x
    assert "goals (median over 6 fleet x host cases)" in r.stdout
    assert "limit" in r.stdout and "where the deficit comes from" in r.stdout


def test_quality_refuses_a_scenario_file_and_bad_counts():
    r = run(["--quality", "2", "examples/scenarios/s1.json"], check=False)
    assert r.returncode == 2 and "scenario" in r.stderr
    r = run(["--quality", "0"], check=False)
    assert r.returncode == 2 and "--quality" in r.stderr
