#!/usr/bin/python3
"""dynmem-kvm against a scripted QMP peer (no QEMU) whose connection is cut,
then stalled, while the "QEMU" process (a sleep, given with pid=) runs: the
VM stays in the books with all its memory (state "disconnected" in the
metrics file), is re-adopted when QMP answers again, and is released only
when the process exits. Also the metrics file and --status. Fast enough for
every build, sanitizers included.
usage: test-qmp-lost.py DYNMEM_KVM WORKDIR"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from kvmtest import Faulty  # noqa: E402
from promfile import metric, vm_state  # noqa: E402

GIB = 1 << 30


class FakeQemu(Faulty):
    """Answers QMP like an idle 1 GiB guest on every connection, with the
    faults of Faulty (cut, stall, restore)."""

    def __init__(self, path):
        self.update = 0
        super().__init__(path)

    def _answer(self, req):
        cmd, args = req["execute"], req.get("arguments", {})
        if cmd == "query-balloon":
            return {"actual": GIB}
        if cmd == "qom-get" and args.get("property") == "guest-stats":
            self.update += 1
            return {"stats": {"stat-total-memory": GIB - (64 << 20),
                              "stat-available-memory": 600 << 20,
                              "stat-free-memory": 500 << 20, "stat-disk-caches": 50 << 20,
                              "stat-swap-in": 0, "stat-major-faults": 0},
                    "last-update": 1000 + self.update}
        return {}

    def serve(self, conn):
        try:
            f = conn.makefile("rwb")
            f.write(json.dumps({"QMP": {"version": {}, "capabilities": []}}).encode() + b"\n")
            f.flush()
            for line in f:
                if not self.held_up():
                    break
                req = json.loads(line)
                f.write(json.dumps({"return": self._answer(req), "id": req.get("id")}).encode()
                        + b"\n")
                f.flush()
        except (OSError, ValueError):
            pass
        conn.close()


def wait_for(what, cond, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for: " + what)


def status(exe, prom):
    return subprocess.run([exe, "--status", "--metrics-file", prom], capture_output=True,
                          text=True, timeout=10)


def main():
    exe = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(dir=sys.argv[2]) as tmp:
        sock, prom = os.path.join(tmp, "qmp.sock"), os.path.join(tmp, "dynmem.prom")
        logpath = os.path.join(tmp, "daemon.log")
        fake = FakeQemu(sock)
        qemu = subprocess.Popen(["sleep", "600"])  # stands for QEMU's process
        log = open(logpath, "w")
        d = subprocess.Popen([exe, "--host-memory", "4G", "--reserve", "0", "--tick", "200",
                              "--metrics-file", prom, "--vm", "name=fake,qmp=%s,startup=1G,minimum=512M,pid=%d"
                              % (sock, qemu.pid)], stdout=log, stderr=subprocess.STDOUT)
        text = lambda: open(logpath).read()  # noqa: E731
        try:
            wait_for("managed", lambda: "fake: managed" in text())
            wait_for("managed in the metrics file", lambda: vm_state(prom, "fake") == "managed")
            assert metric(prom, "dynmem_host_memory_bytes") == 4 * GIB
            assert metric(prom, "dynmem_vm_assigned_bytes", "fake") == GIB
            print("ok - managed, counters in the metrics file")
            st = status(exe, prom)
            assert st.returncode == 0 and re.search(r"\nfake +managed +\S+ +1024 MiB",
                                                    st.stdout), st.stdout
            print("ok - --status prints the table")
            # 1. the connection is cut: booked, disconnected, reconnected
            fake.cut()
            wait_for("the cut noticed", lambda: "its 1024 MiB stay booked" in text())
            wait_for("state disconnected", lambda: vm_state(prom, "fake") == "disconnected")
            assert metric(prom, "dynmem_vm_assigned_bytes", "fake") == GIB, "memory unbooked"
            assert metric(prom, "dynmem_host_assigned_bytes") == GIB
            st = status(exe, prom)
            assert re.search(r"\nfake +disconnected +\S+ +1024 MiB", st.stdout), st.stdout
            print("ok - a cut connection keeps the VM booked")
            time.sleep(1.5)
            fake.restore()
            wait_for("re-adopted", lambda: "QMP reconnected" in text())
            wait_for("managed again", lambda: vm_state(prom, "fake") == "managed")
            print("ok - re-adopted once QMP answers")
            # 2. QMP stops answering: a timeout is not a dead QEMU either
            fake.stall()
            wait_for("the stall noticed", lambda: "no answer to" in text(), 20)
            assert text().count("its 1024 MiB stay booked") >= 2, "memory unbooked"
            fake.restore()
            wait_for("re-adopted after the stall", lambda: text().count("QMP reconnected") >= 2, 20)
            print("ok - a command without an answer keeps the VM booked")
            assert "QEMU gone" not in text(), "a lost connection was taken for a dead QEMU"
            # 3. the process exits: released at once
            fake.cut()
            wait_for("disconnected", lambda: text().count("stay booked") >= 3)
            qemu.kill()
            qemu.wait()
            wait_for("released", lambda: "QEMU gone (pid %d exited): VM removed, 1024 MiB "
                     "returned to the pool" % qemu.pid in text())
            wait_for("state waiting", lambda: vm_state(prom, "fake") == "waiting")
            assert metric(prom, "dynmem_host_assigned_bytes") == 0
            assert metric(prom, "dynmem_vm_assigned_bytes", "fake") is None
            print("ok - released once the process exited")
            d.send_signal(signal.SIGTERM)
            assert d.wait(timeout=10) == 0, "SIGTERM: exit status"
            missing = status(exe, prom + ".none")
            assert missing.returncode == 1 and "No such file" in missing.stderr, missing.stderr
            print("ok - --status without the file exits 1")
        except AssertionError as e:
            print("FAIL:", e)
            print(text()[-3000:])
            sys.exit(1)
        finally:
            if d.poll() is None:
                d.kill()
            if qemu.poll() is None:
                qemu.kill()
    print("PASS")


if __name__ == "__main__":
    main()
