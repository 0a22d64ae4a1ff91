"""Events through the whole stack: configure, restart, stop and a start
refused for lack of memory, resize refused for a dynamic VM,
and every guest kind in one small scenario; the run must end with the
balancer's books checked after every step (dynmem-sim exits 1 otherwise)."""
import json
import os
import tempfile

from simrun import Timeline, run

SCENARIO = {
    "duration_s": 400,
    "host": {"memory_mib": 8192, "reserve_mib": 1024, "calm_period_s": 20},
    "vms": [
        {"name": "a", "startup_mib": 2048, "minimum_mib": 512, "maximum_mib": 3072,
         "demand": [{"mib": 600}, {"from_s": 200, "type": "ramp", "mib": 600, "to_mib": 3500,
                                   "over_s": 60}]},
        {"name": "b", "startup_mib": 2048, "minimum_mib": 1024, "maximum_mib": 4096,
         "kind": "windows", "demand": [{"mib": 900}, {"from_s": 100, "mib": 2600}]},
        {"name": "hr", "startup_mib": 1024, "minimum_mib": 256, "maximum_mib": 2048,
         "kind": "hot-remove", "demand": 300},
        {"name": "slow", "startup_mib": 1024, "minimum_mib": 256, "maximum_mib": 2048,
         "kind": "slow", "delay_ms": 3000, "demand": 400},
        {"name": "stuck", "startup_mib": 512, "minimum_mib": 256, "maximum_mib": 1024,
         "kind": "stuck", "stuck_at_s": 40, "demand": 200},
        {"name": "liar", "startup_mib": 512, "minimum_mib": 256, "maximum_mib": 1024,
         "kind": "lying", "lie_factor": 0.5, "demand": 300},
        {"name": "nodrv", "startup_mib": 512, "kind": "no-driver", "demand": 300,
         "start_s": None},
    ],
    "events": [
        {"at_s": 60, "vm": "a", "type": "configure", "maximum_mib": 4096, "weight": 9000},
        {"at_s": 70, "vm": "a", "type": "configure", "minimum_mib": 1024, "maximum_mib": 2048},
        {"at_s": 80, "vm": "b", "type": "resize", "mib": 1024},
        {"at_s": 150, "vm": "b", "type": "restart"},
        {"at_s": 170, "vm": "nodrv", "type": "start"},
        {"at_s": 250, "vm": "hr", "type": "stop"},
        {"at_s": 300, "vm": "hr", "type": "start"},
    ],
}


def test_events_and_kinds():
    with tempfile.TemporaryDirectory() as d:
        p, tl = os.path.join(d, "e.json"), os.path.join(d, "t.csv")
        with open(p, "w") as f:
            json.dump(SCENARIO, f)
        r = run([p, "--actions", "--timeline", tl])
        t = Timeline(tl)
    out = r.stdout
    assert "a: configure (minimum 512, maximum 4096 MiB): done" in out
    # Raising the minimum while running is refused (B1), and said so.
    assert "a: configure (minimum 1024, maximum 2048 MiB): DYNMEM_ERR_BAD_STATE" in out
    assert "b: resize to 1024 MiB: DYNMEM_ERR_BAD_STATE" in out, "dynamic VMs are not resized"
    assert "b: restarted" in out
    assert t.at(100, "hr")["running"] == "1" and t.at(260, "hr")["status"] == "off"
    # By then a has grown into the room hr left: its start is refused (B2)
    # with what is missing.
    assert "hr: start refused, " in out and t.at(320, "hr")["status"] == "off"
    # The hot-remove guest shrank for real: visible below its startup.
    assert t.num(140, "hr", "visible_mib") < 1024
    # The no-driver guest is held at its startup memory (B14).
    assert t.num(390, "nodrv", "assigned_mib") == 512
    # The stuck guest is neither given nor robbed of memory it did not confirm.
    assert t.num(390, "stuck", "assigned_mib") == t.num(60, "stuck", "assigned_mib")
    # Memory is short at the end: a (weight 9000 since t=60) is in Warning.
    assert t.at(390, "a")["status"] == "Warning"
    # The lying guest under-reports (lie_factor 0.5): it alone pays for it.
    assert float(t.at(390, "liar")["assigned_mib"]) < 300
    assert "invariant" not in r.stderr
