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
    for f in failures:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
