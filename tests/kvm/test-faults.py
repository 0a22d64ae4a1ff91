#!/usr/bin/python3
"""Two real guests on too little host memory, and dynmem-kvm's QMP
connection to the first cut and then stalled (through a proxy) while the
second wants more than is free: a lost connection or a command that gets no
answer is not a dead QEMU. The first guest's memory stays booked, so the
second never gets it, and the sum of what the QEMUs hold, read from a second
QMP monitor on each, never exceeds the budget. Each time the connection comes
back the first guest is re-adopted at the size QMP reports. When its QEMU
really exits (its pid from QEMU's -pidfile: the proxy is still there), its
memory goes back to the pool and the second guest gets it.
usage: test-faults.py DYNMEM_KVM SRCDIR WORKDIR"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kvmtest import (MIB, Daemon, Guest, Proxy, Qmp, fail,  # noqa: E402
                     prepare, log, wait_for)

HOST = 1088                        # MiB shared, reserve 0: A_BOOT + B_BOOT do not fit
A_BOOT, B_BOOT, MINIMUM = 512, 768, 320
A_HOG, B_HOG, RATE = 250, 480, 32  # memhog MiB: A then wants its boot size, B
                                   # more than is free (B's workload may be OOM-killed)
CUT_S, STALL_S = 14, 8             # how long each fault lasts


class Budget:
    """What every QEMU holds (balloon actual), read four times a second from
    the test's own QMP monitors; a QEMU that has exited holds nothing."""

    def __init__(self, guests):
        self.guests = guests
        self.qmps = [Qmp(g.qmp_test) for g in guests]
        self.samples = []  # (time, [MiB per guest])
        self.stop = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        while not self.stop:
            held = []
            for g, q in zip(self.guests, self.qmps):
                try:
                    held.append(q.cmd("query-balloon")["actual"] // MIB)
                except (OSError, ValueError, RuntimeError):
                    held.append(0 if g.proc.poll() is not None else None)
            if None not in held:
                self.samples.append((time.monotonic(), held))
            time.sleep(0.25)

    def last(self, i):
        """Guest i's latest figure (MiB), or None before the first sample."""
        return self.samples[-1][1][i] if self.samples else None

    def worst(self, since=0):
        return max((sum(h), t, h) for t, h in self.samples if t >= since)

    def close(self):
        self.stop = True
        self.th.join(timeout=5)
        for q in self.qmps:
            q.close()


def main():
    exe, workdir, kernel, initrd, t_start = prepare("kvm-faults")
    append = "memhog=16:wait,%d:wait memhog_rate=%d"
    a = Guest("a", workdir, kernel, initrd, A_BOOT, append % (A_HOG, RATE))
    b = Guest("b", workdir, kernel, initrd, B_BOOT, append % (B_HOG, RATE))
    proxy = budget = d = None
    proxied = os.path.join(a.dir, "qmp-proxy.sock")
    try:
        proxy = Proxy(proxied, a.qmp_daemon)
        # statistics every second (the default) spelled out, so that a daemon
        # with another default is tested the same way
        d = Daemon(exe, workdir, [
            "--host-memory", "%dM" % HOST, "--reserve", "0", "--stats-interval", "1",
            "--tick", "500", "--calm", "3000", "--settle", "5000",
            "--vm", "name=a,qmp=%s,pidfile=%s,startup=%dM,minimum=%dM"
            % (proxied, a.pidfile, A_BOOT, MINIMUM),
            "--vm", "name=b,qmp=%s,startup=%dM,minimum=%dM" % (b.qmp_daemon, B_BOOT, MINIMUM)])
        for g in (a, b):
            g.wait_line(r"^READY", 150)
        # A is admitted first; B's startup fits once A idles down to its
        # minimum. Until then B's QEMU runs outside the books, so the budget
        # is watched from the moment both are managed and idle.
        if not wait_for(lambda: "b: managed" in d.text(), 150):
            fail("guest b was never admitted", [a, b], d)
        budget = Budget([a, b])
        if not wait_for(lambda: (budget.last(1) or B_BOOT) <= MINIMUM + 8, 150):
            fail("guest b was not reclaimed", [a, b], d)
        # A's workload grows; then its connection is cut while B wants more.
        a.next_phase()
        a.wait_line(r"^MEMHOG .*phase=1 held=%d " % A_HOG, 120)
        time.sleep(2)
        b.next_phase()
        time.sleep(2)
        t_cut = time.monotonic()
        proxy.cut()
        time.sleep(CUT_S)
        proxy.restore()
        if not wait_for(lambda: d.text().count("a: QMP reconnected") >= 1, 30):
            fail("guest a was not re-adopted after the cut", [a, b], d)
        # Now the connection stalls: commands get no answer.
        t_stall = time.monotonic()
        proxy.stall()
        time.sleep(STALL_S)
        proxy.restore()
        if not wait_for(lambda: d.text().count("a: QMP reconnected") >= 2, 30):
            fail("guest a was not re-adopted after the stall", [a, b], d)
        time.sleep(2)
        b_capped = budget.last(1)
        faults_text = d.text()
        # B's workload wants its peak (again, if the OOM killer restarted it)
        b.next_phase()
        # A's QEMU exits for real (the proxy stays): its memory is released
        # and B, which still wants more, gets it.
        t_kill = time.monotonic()
        a.kill()
        if not wait_for(lambda: "a: QEMU gone" in d.text(), 15, 0.1):
            fail("the exit of guest a's QEMU was not noticed", [a, b], d)
        t_gone = time.monotonic()
        wait_for(lambda: budget.last(1) > b_capped + 64, 60)
        b_after = budget.last(1)
        worst = budget.worst()
        text = d.text()
    finally:
        if budget:
            budget.close()
        rc = d.stop() if d else None
        for g in (a, b):
            if g:
                g.kill()
        if proxy:
            proxy.close()
    print("RESULT most held at once: %d MiB of %d MiB (a %d, b %d)"
          % (worst[0], HOST, worst[2][0], worst[2][1]))
    print("RESULT guest b capped at %d MiB while a was booked, %d MiB after a's QEMU exited "
          "(noticed %.1f s after the kill)" % (b_capped, b_after, t_gone - t_kill))
    print("RESULT cut at +%.0f s, stall at +%.0f s; whole test %.1f s"
          % (t_cut - t_start, t_stall - t_start, time.monotonic() - t_start))
    if worst[0] > HOST:
        fail("the QEMUs held %d MiB, more than the %d MiB budget (a %d, b %d)"
             % (worst[0], HOST, worst[2][0], worst[2][1]), [a, b], d)
    if "a: QEMU gone" in faults_text:
        fail("a lost or stalled QMP connection was taken for a dead QEMU", [a, b], d)
    if faults_text.count("stay booked") < 2:
        fail("the cut and the stall should each log that the memory stays booked", [a, b], d)
    if "no answer to" not in faults_text:
        fail("the stall should show as a command without an answer", [a, b], d)
    if "returned to the pool" not in text:
        fail("a's memory was not returned once its QEMU exited", [a, b], d)
    if b_after <= b_capped:
        fail("guest b did not get the memory a's exit freed (%d -> %d MiB)"
             % (b_capped, b_after), [a, b], d)
    if rc != 0:
        fail("dynmem-kvm did not exit cleanly on SIGTERM (%s)" % rc, [a, b], d)
    print("PASS")


if __name__ == "__main__":
    main()
