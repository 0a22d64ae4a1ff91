"""Bad scenario files: each error names the file, the line and the JSON
path of the offending value, and dynmem-sim exits with status 2."""
import os
import tempfile

import pytest

from simrun import run

GOOD_VM = '{ "name": "a", "startup_mib": 1024, "demand": 500 }'


def load(text, extra_files=None):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "bad.json")
        with open(p, "w") as f:
            f.write(text)
        for name, body in (extra_files or {}).items():
            with open(os.path.join(d, name), "w") as f:
                f.write(body)
        r = run([p, "--quiet"], check=False)
        return r.returncode, r.stderr.replace(p, "bad.json")


def scenario(vm=GOOD_VM, host='{ "memory_mib": 4096 }', more=""):
    return ('{\n  "duration_s": 10,\n  "host": ' + host + ',\n  "vms": [\n    ' + vm +
            '\n  ]' + more + '\n}\n')


def test_a_good_file_runs():
    rc, err = load(scenario())
    assert rc == 0, err


@pytest.mark.parametrize("text, line, words", [
    # JSON syntax: jansson's line and column.
    ('{\n  "duration_s": 10,\n  "host": { "memory_mib": 4096 \n}\n', 5, "'}' expected"),
    # Unknown key (a typo), on the line of the VM.
    (scenario(vm='{ "name": "a",\n      "startup_mb": 1024, "demand": 500 }'), 6,
     "vms[0].startup_mb: unknown key"),
    # A configuration the library refuses names the field and its values.
    (scenario(vm='{ "name": "a", "startup_mib": 1024,\n "minimum_mib": 2048, "demand": 1 }'), 5,
     "vms[0]: minimum 2048 MiB above startup 1024 MiB"),
    (scenario(vm='{ "name": "a", "startup_mib": 1024, "maximum_mib": 512, "demand": 1 }'), 5,
     "vms[0]: maximum 512 MiB below startup 1024 MiB"),
    (scenario(vm='{ "name": "a", "startup_mib": 1024, "weight": 10001, "demand": 1 }'), 5,
     "vms[0]: weight 10001 outside 0..10000"),
    (scenario(vm='{ "name": "a", "startup_mib": 1024, "buffer_percent": 20.5, "demand": 1 }'), 5,
     "vms[0].buffer_percent: must be a whole number"),
    # The host: a reserve at or above its memory (the default's too).
    (scenario(host='{ "memory_mib": 4096, "reserve_mib": 4096 }'), 3,
     "host.reserve_mib: reserve 4096 MiB at or above host memory 4096 MiB"),
    (scenario(host='{ "memory_mib": 4096, "reserve_mib": 5000 }'), 3,
     "host.reserve_mib: reserve 5000 MiB at or above host memory 4096 MiB"),
    (scenario(host='{ "memory_mib": 512 }'), 3,
     "host: reserve 900 MiB (the default for this host) at or above host memory 512 MiB"),
    # Free text is still text: a description that is not a string is refused.
    (scenario(more=',\n  "description": 7'), 7, "description: must be a string"),
    # vm_defaults: the kind is text too; a name is no default.
    (scenario(more=',\n  "vm_defaults": { "kind": 5 }'), 7, "vm_defaults.kind: must be a string"),
    (scenario(more=',\n  "vm_defaults": { "name": "b" }'), 7,
     "vm_defaults.name: a name is each VM's own, not a default"),
    # Two VMs with one name.
    (scenario(vm=GOOD_VM + ',\n    ' + GOOD_VM), 6, "vms[1]: vm 'a': name also used by VM 1"),
    # Sizes in whole 2 MiB units.
    (scenario(vm='{ "name": "a", "startup_mib": 1023, "demand": 1 }'), 5,
     "vms[0].startup_mib: must be a multiple of 2 MiB"),
    (scenario(vm='{ "name": "a", "startup_mib": 1024, "kind": "beos", "demand": 1 }'), 5,
     "unknown guest kind 'beos'"),
    (scenario(more=',\n  "events": [\n    { "at_s": 1, "vm": "zz", "type": "stop" }\n  ]'), 8,
     "events[0].vm: no VM named 'zz'"),
    (scenario(more=',\n  "events": [\n    { "at_s": 1, "vm": "a", "type": "explode" }\n  ]'), 8,
     "unknown event type 'explode'"),
    (scenario(host='{ "memory_mib": "lots" }'), 3, "host.memory_mib: must be a number"),
    (scenario(host='{ "memory_mib": 4096, "policy": "fifo" }'), 3, "unknown policy 'fifo'"),
    ('{ "host": { "memory_mib": 4096 }, "vms": [] }', 1, "missing 'duration_s'"),
    (scenario(vm='{ "name": "a", "startup_mib": 1024, "demand": [\n'
                 '      { "from_s": 5, "mib": 1 },\n      { "from_s": 1, "mib": 2 } ] }'), 7,
     "vms[0].demand[1]: from_s goes backwards"),
    (scenario(vm='{ "name": "a", "startup_mib": 1024,\n'
                 '      "demand": [ { "type": "trace", "file": "missing.csv" } ] }'), 6,
     "cannot open trace"),
])
def test_bad_file(text, line, words):
    rc, err = load(text)
    assert rc == 2, err
    assert f"bad.json:{line}:" in err, err
    assert words in err, err


def test_bad_trace_line_is_named():
    text = scenario(vm='{ "name": "a", "startup_mib": 1024,\n'
                       '      "demand": [ { "type": "trace", "file": "t.csv" } ] }')
    rc, err = load(text, {"t.csv": "time_s,demand_mib\n0,500\n10,oops\n"})
    assert rc == 2
    assert "t.csv:3: expected 'time_s,demand_mib'" in err, err


def test_trace_drives_demand():
    text = scenario(vm='{ "name": "a", "startup_mib": 1024,\n'
                       '      "demand": [ { "type": "trace", "file": "t.csv" } ] }')
    rc, err = load(text, {"t.csv": "time_s,demand_mib\n0,500\n5,700\n"})
    assert rc == 0, err
