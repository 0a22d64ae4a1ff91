#!/usr/bin/python3
"""One real domain on a real libvirtd (QEMU TCG, the Debian guest kernel):
--once --dry-run changes nothing; the idle domain is reclaimed to its
minimum (never below); a growing workload gets its balloon back, then
virtio-mem memory past its boot size, without being OOM-killed; once the
workload stops, virtio-mem is unplugged and the balloon takes the domain back
to its minimum. Settings edited live with virsh metadata are taken (a lower
minimum) or refused with the field named (a minimum not in 2 MiB units); a
balloon moved by hand brings the books in line with what the domain holds.
usage: test-grow.py DYNMEM_LIBVIRT SRCDIR WORKDIR"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lvtest import (MIB, memcheck, META_URI, Daemon, Domain, Libvirtd, Sampler, fail,  # noqa: E402
                    log, prepare, wait_for)

BOOT, VMEM, MINIMUM = 512, 512, 192  # MiB
PEAK, RATE = 480, 16                  # memhog MiB, MiB/s
SCHED = "16:wait,%d:wait,16:wait" % PEAK
SLACK = 40                            # MiB: deadband (32) and rounding


def virsh(lv, *args):
    return subprocess.run(["virsh", "-c", lv.uri] + list(args), capture_output=True, text=True,
                          timeout=30)


def main():
    exe, workdir, kernel, initrd, t_start = prepare("libvirt-grow")
    lv = Libvirtd(os.path.join(workdir, "libvirtd"), os.path.join(workdir, "libvirt-cache"))
    d = sampler = None
    web = Domain(lv, "web", workdir, kernel, initrd, BOOT,
                 "memhog=%s memhog_rate=%d" % (SCHED, RATE), vmem_mib=VMEM,
                 meta={"minimum": MINIMUM, "buffer": 50, "calm": 5})
    common = ["-c", lv.uri, "--host-memory", "4G", "--reserve", "0"]
    try:
        web.start()
        sampler = Sampler(lv, ["web"])
        web.wait_line(r"^READY", 150)
        once = subprocess.run([exe, "--once", "--dry-run"] + common, capture_output=True,
                              text=True, timeout=60)
        print(once.stdout, end="")
        if once.returncode != 0 or "web: status: held 512 MiB" not in once.stdout:
            fail("--once --dry-run: status %d, no status line at 512 MiB" % once.returncode, [web])
        vg = memcheck(exe, workdir)
        d = Daemon(vg[0], workdir, vg[1:] + common + ["--stats-interval", "1", "--tick", "500",
                                      "--settle", "5000", "-v"], name="dynmem-libvirt")
        # idle: down to the minimum
        if not wait_for(lambda: (sampler.last("web") or 1 << 40) <= (MINIMUM + SLACK) * MIB, 150):
            fail("idle domain not reclaimed: holds %s MiB" % (sampler.last("web") // MIB), [web], d)
        t_idle = time.monotonic()
        web.next_phase()
        web.wait_line(r"^MEMHOG .*phase=1 held=%d " % PEAK, 150)
        time.sleep(3)
        grown = max(r["web"][1] for _, r in sampler.samples if "web" in r)
        web.next_phase()
        web.wait_line(r"^MEMHOG .*phase=2 ", 30)
        t_drop = time.monotonic()
        wait_for(lambda: sampler.samples[-1][1]["web"][1] == 0
                 and sum(sampler.samples[-1][1]["web"]) <= (MINIMUM + SLACK) * MIB, 120)
        after = sampler.samples[-1][1]["web"]
        t_back = time.monotonic() - t_drop
        # live settings: a bad one is refused with its field, a lower minimum taken
        bad = virsh(lv, "metadata", "web", "--uri", META_URI, "--key", "dynmem", "--live",
                    "--set", "<memory><minimum unit='KiB'>200001</minimum></memory>")
        wait_for(lambda: "new settings refused" in d.text(), 15)
        good = virsh(lv, "metadata", "web", "--uri", META_URI, "--key", "dynmem", "--live",
                     "--set", "<memory><minimum unit='MiB'>160</minimum><buffer>50</buffer>"
                     "<calm>5</calm></memory>")
        wait_for(lambda: "settings changed: minimum 160 MiB" in d.text(), 15)
        # resized by hand behind the daemon's back: the books follow
        by_hand = virsh(lv, "setmem", "web", "320M", "--live")
        wait_for(lambda: "changed outside the daemon" in d.text(), 30)
        text = d.text()
        samples = list(sampler.samples)
        hog = web.hog_samples()
    finally:
        if sampler:
            sampler.close()
        rc = d.stop() if d else None
        lv.stop()
    held = [sum(r["web"]) for t, r in samples if "web" in r and t >= t_idle - 1]
    boot_total = max(s["MemTotal"] for _, s in hog if s["phase"] == 0)
    peak_total = max(s["MemTotal"] for _, s in hog)
    print("RESULT idle domain reclaimed to %d MiB (minimum %d)" % (min(held) // MIB, MINIMUM))
    print("RESULT virtio-mem plugged up to %d MiB; guest MemTotal %d -> %d MiB (boot %d MiB)"
          % (grown // MIB, boot_total // 1024, peak_total // 1024, BOOT))
    print("RESULT after the workload stopped: balloon %d MiB, virtio-mem %d MiB, %.1f s after the drop"
          % (after[0] // MIB, after[1] // MIB, t_back))
    print("RESULT whole test %.1f s" % (time.monotonic() - t_start))
    if min(held) < MINIMUM * MIB:
        fail("the domain went below its minimum: %d MiB" % (min(held) // MIB), [web], d)
    if grown == 0 or peak_total <= BOOT * 1024:
        fail("virtio-mem never grew the domain past its boot memory", [web], d)
    # balloon first, then virtio-mem; back: virtio-mem first, then the balloon
    plugged = [r["web"] for t, r in samples if "web" in r and r["web"][1] > 0]
    if plugged and plugged[0][0] != BOOT * MIB:
        fail("virtio-mem plugged while the balloon still held memory: %s" % (plugged[0],), [web], d)
    # (one step may do both: the balloon may start while virtio-mem finishes)
    inflated = [v for t, r in samples if "web" in r and t > t_drop
                for b, v in [r["web"]] if b < BOOT * MIB]
    if inflated and inflated[0] >= grown:
        fail("the balloon inflated before virtio-mem gave anything back", [web], d)
    if web.oom_lines():
        fail("the guest OOM-killed its workload: %s" % web.oom_lines()[:3], [web], d)
    if after[1] != 0 or sum(after) > (MINIMUM + SLACK) * MIB:
        fail("memory not taken back after the workload stopped", [web], d)
    if bad.returncode or "new settings refused (metadata minimum" not in text:
        fail("a minimum not in 2 MiB units was not refused by name", [web], d)
    if good.returncode or "settings changed: minimum 160 MiB" not in text:
        fail("a lower minimum set live was not taken", [web], d)
    # the daemon may be moving the balloon too: what matters is that the books
    # take the size the domain then holds
    resync = re.search(r"web: holds (\d+) MiB, the books \d+ MiB \(changed outside the daemon\): "
                       r"adopted again at what it holds\n.*web: managed at what it holds, (\d+) MiB",
                       text)
    if by_hand.returncode or not resync or resync.group(1) != resync.group(2):
        fail("a balloon moved by hand did not bring the books in line", [web], d)
    if rc != 0:
        fail("dynmem-libvirt did not exit cleanly on SIGTERM under valgrind (%s; 99: memory "
             "errors, see valgrind.*.log)" % rc, [web], d)
    print("PASS")


if __name__ == "__main__":
    main()
