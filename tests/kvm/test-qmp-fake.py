#!/usr/bin/python3
"""dynmem-kvm --once against a scripted QMP peer (no QEMU): the handshake,
events between answers, {"error": ...} answers, guest statistics that read
2^64-1 ("not available", beyond a signed 64-bit integer) and a peer that
hangs up. Fast enough for every build, sanitizers included.
usage: test-qmp-fake.py DYNMEM_KVM WORKDIR"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading

NA = 18446744073709551615


def serve(path, hang_up_after=None):
    """One connection; answers by command name. Returns the thread."""
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(20)

    def run():
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        f = conn.makefile("rwb")

        def send(obj):
            f.write(json.dumps(obj).encode() + b"\n")
            f.flush()
        send({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}},
                      "capabilities": ["oob"]}})
        for line in f:
            req = json.loads(line)
            cmd, rid = req["execute"], req.get("id")
            if cmd == hang_up_after:
                break
            send({"event": "BALLOON_CHANGE", "data": {"actual": 1 << 30},
                  "timestamp": {"seconds": 1, "microseconds": 0}})
            if cmd == "qmp_capabilities":
                send({"return": {}, "id": rid})
            elif cmd == "query-balloon":
                send({"return": {"actual": 1 << 30}, "id": rid})
            elif cmd == "qom-set":
                send({"error": {"class": "GenericError",
                                "desc": "timer value must be greater than zero"}, "id": rid})
            elif cmd == "qom-get" and req["arguments"]["property"] == "guest-stats":
                stats = {k: NA for k in ("stat-total-memory", "stat-available-memory",
                                         "stat-free-memory", "stat-disk-caches",
                                         "stat-swap-in", "stat-major-faults")}
                send({"return": {"stats": stats, "last-update": 0}, "id": rid})
            else:
                send({"error": {"class": "CommandNotFound", "desc": "no " + cmd}, "id": rid})
        conn.close()
        srv.close()
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def once(exe, path):
    return subprocess.run([exe, "--once", "--host-memory", "4G", "--reserve", "0",
                           "--vm", "name=fake,qmp=%s,startup=1G,minimum=256M" % path],
                          capture_output=True, text=True, timeout=30)


BAD_SETTINGS = [
    (["--vm", "name=a,qmp=/x,startup=1G,minimum=2G"],
     "vm 'a': minimum 2048 MiB above startup 1024 MiB"),
    (["--vm", "name=a,qmp=/x,startup=1G,maximum=512M"],
     "vm 'a': maximum 512 MiB below startup 1024 MiB"),
    (["--vm", "name=a,qmp=/x,startup=1G,buffer=3"], "vm 'a': buffer 3 % outside 5..2000 %"),
    (["--vm", "name=a,qmp=/x,startup=1G,weight=10001"], "vm 'a': weight 10001 outside 0..10000"),
    (["--vm", "name=a,qmp=/x,startup=1001M"],
     "vm 'a': startup 1001 MiB is not a whole number of 2 MiB units"),
    (["--vm", "name=a,qmp=/x,startup=1G,minimum=511M"],
     "vm 'a': minimum 511 MiB is not a whole number of 2 MiB units"),
    (["--vm", "name=a,qmp=/x,startup=1G,maximum=2G"],
     "vm 'a': maximum 2048 MiB above startup 1024 MiB needs vmem= (virtio-mem)"),
    (["--reserve", "4G", "--vm", "name=a,qmp=/x,startup=1G"],
     "--host-memory/--reserve: reserve 4096 MiB at or above host memory 4096 MiB"),
    (["--reserve", "5G", "--vm", "name=a,qmp=/x,startup=1G"],
     "--host-memory/--reserve: reserve 5120 MiB at or above host memory 4096 MiB"),
    (["--host-memory", "1001M", "--vm", "name=a,qmp=/x,startup=1G"],
     "--host-memory/--reserve: host memory 1001 MiB is not a whole number of 2 MiB units"),
    (["--vm", "name=a,qmp=/x,startup=1G", "--vm", "name=a,qmp=/y,startup=1G"],
     "vm 'a': name also used by the VM at qmp /x"),
    (["--vm", "name=a,qmp=/x,startup=1G", "--vm", "name=b,qmp=/x,startup=1G"],
     "vm 'b': qmp /x also used by vm 'a'"),
]


def bad_settings(exe):
    """Each refused with status 2 and a message naming the field; --once so
    that a daemon which accepts them ends (status 1: no QEMU) instead of
    waiting for QEMU for ever."""
    failures = []
    for args, words in BAD_SETTINGS:
        if "--reserve" not in args:
            args = ["--reserve", "0"] + args
        if "--host-memory" not in args:
            args = ["--host-memory", "4G"] + args
        r = subprocess.run([exe, "--once"] + args, capture_output=True, text=True, timeout=30)
        if r.returncode != 2 or words not in r.stderr:
            failures.append("%s: status %d, expected 2 and %r; said %r"
                            % (" ".join(args), r.returncode, words, (r.stdout + r.stderr)[-300:]))
    return failures


def main():
    exe = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory(dir=sys.argv[2]) as tmp:
        # 1. a guest without statistics yet: held at startup, errors logged
        path = os.path.join(tmp, "a.sock")
        th = serve(path)
        r = once(exe, path)
        th.join(5)
        print(r.stdout + r.stderr)
        if r.returncode != 0:
            failures.append("silent guest: exit status %d" % r.returncode)
        if "cannot enable guest statistics" not in r.stdout or "timer value" not in r.stdout:
            failures.append("the qom-set error was not reported")
        if "held 1024 MiB" not in r.stdout or "held at startup" not in r.stdout:
            failures.append("a silent guest is not held at startup")
        # 2. QEMU goes away in the middle of the handshake
        path = os.path.join(tmp, "b.sock")
        th = serve(path, hang_up_after="qom-set")
        r = once(exe, path)
        th.join(5)
        print(r.stdout + r.stderr)
        if r.returncode != 1 or "fake: status" in r.stdout or "lost QEMU" not in r.stdout:
            failures.append("a peer that hangs up should leave the VM unmanaged (status 1)")
        # 3. nothing listening
        r = once(exe, os.path.join(tmp, "none.sock"))
        print(r.stdout + r.stderr)
        if r.returncode != 1 or "waiting for QEMU" not in r.stdout:
            failures.append("a missing socket should be reported")
        # 4. bad command lines are refused with status 2
        for args in (["--vm", "qmp=/x"], ["--vm", "startup=1G"], ["--tick", "0"], []):
            r = subprocess.run([exe] + args, capture_output=True, text=True, timeout=10)
            if r.returncode != 2:
                failures.append("%s: status %d, expected 2" % (args, r.returncode))
        # 5. settings it cannot honour are refused, naming the field (the
        # library's check, as every front end)
        failures += bad_settings(exe)
    for f in failures:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
