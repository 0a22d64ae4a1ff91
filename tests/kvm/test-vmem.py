#!/usr/bin/python3
"""One real guest with virtio-mem: --once --dry-run changes nothing; the
daemon grows the guest past its boot size by plugging virtio-mem memory (the
guest onlines it movable) and takes it back once the workload stops; when QEMU
dies the VM is removed and its memory returned, and a restarted QEMU on the
same socket is managed again.
usage: test-vmem.py DYNMEM_KVM SRCDIR WORKDIR"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kvmtest import (MIB, Daemon, Guest, Sampler, fail,  # noqa: E402
                     prepare, wait_for)

BOOT, MINIMUM, VMEM = 512, 256, 1024  # MiB
PEAK, RATE = 560, 16
SCHED = "16:wait,%d:wait,16:wait" % PEAK


def main():
    exe, workdir, kernel, initrd, t_start = prepare("kvm-vmem")
    append = "memhog=%s memhog_rate=%d" % (SCHED, RATE)
    g = Guest("guest", workdir, kernel, initrd, BOOT, append, vmem=VMEM)
    g2 = sampler = d = None
    spec = ("name=guest,qmp=%s,startup=%dM,minimum=%dM,maximum=%dM,buffer=50,vmem=vmem0"
            % (g.qmp_daemon, BOOT, MINIMUM, BOOT + VMEM))
    try:
        sampler = Sampler(g, vmem=True)
        g.wait_line(r"^READY", 150)
        time.sleep(2)  # first statistics
        once = subprocess.run([exe, "--once", "--dry-run", "--host-memory", "4G", "--reserve", "0",
                               "--vm", spec], capture_output=True, text=True, timeout=30)
        print(once.stdout, end="")
        if once.returncode != 0 or "guest: status: held 512 MiB" not in once.stdout:
            fail("--once --dry-run: status %d, no status line" % once.returncode, [g])
        d = Daemon(exe, workdir, ["--host-memory", "4G", "--reserve", "0", "--stats-interval", "1",
                                  "--tick", "500", "--calm", "5000", "--settle", "5000", "-v",
                                  "--vm", spec])
        # idle guest first comes down to its minimum
        wait_for(lambda: sampler.samples[-1][1] <= (MINIMUM + 40) * MIB, 150)
        g.next_phase()
        g.wait_line(r"^MEMHOG .*phase=1 held=%d " % PEAK, 150)
        time.sleep(3)
        grown = max(v for _, _, v in sampler.samples)
        g.next_phase()
        g.wait_line(r"^MEMHOG .*phase=2 ", 30)
        t_drop = time.monotonic()
        wait_for(lambda: sampler.samples[-1][2] == 0
                 and sampler.samples[-1][1] <= (MINIMUM + 40) * MIB, 120)
        after = sampler.samples[-1]
        t_back = time.monotonic() - t_drop
        hog = g.hog_samples()
        sampler.close()
        sampler = None
        # QEMU dies: the VM leaves the balancer; a new QEMU is managed again.
        g.kill()
        end = time.monotonic() + 15
        while time.monotonic() < end and "QEMU gone" not in d.text():
            time.sleep(0.5)
        g2 = Guest("guest", workdir, kernel, initrd, BOOT, append, vmem=VMEM)
        end = time.monotonic() + 30
        while time.monotonic() < end and d.text().count("guest: managed") < 2:
            time.sleep(0.5)
        text = d.text()
    finally:
        if sampler:
            sampler.close()
        rc = d.stop() if d else None
        g.kill()
        if g2:
            g2.kill()
    boot_total = max(s["MemTotal"] for _, s in hog if s["phase"] == 0)
    peak_total = max(s["MemTotal"] for _, s in hog)
    print("RESULT virtio-mem plugged up to %d MiB; guest MemTotal %d -> %d MiB (boot size %d MiB)"
          % (grown // MIB, boot_total // 1024, peak_total // 1024, BOOT))
    print("RESULT after the workload stopped: balloon %d MiB, virtio-mem %d MiB, %.1f s after the drop"
          % (after[1] // MIB, after[2] // MIB, t_back))
    print("RESULT whole test %.1f s" % (time.monotonic() - t_start))
    if grown == 0 or "hot-add" not in text:
        fail("virtio-mem never plugged memory", [g], d)
    if peak_total <= BOOT * 1024:
        fail("the guest never saw more than its boot memory", [g], d)
    if g.oom_lines():
        fail("the guest OOM-killed its workload: %s" % g.oom_lines()[:3], [g], d)
    if after[2] != 0 or after[1] > (MINIMUM + 40) * MIB:
        fail("memory not taken back after the workload stopped", [g], d)
    if "QEMU gone" not in text or "returned to the pool" not in text:
        fail("QEMU's exit was not noticed", [g], d)
    if text.count("guest: managed") < 2:
        fail("the restarted QEMU was not managed again", [g2], d)
    if rc != 0:
        fail("dynmem-kvm did not exit cleanly on SIGTERM (%s)" % rc, [g], d)
    print("PASS")


if __name__ == "__main__":
    main()
