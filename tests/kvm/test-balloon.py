#!/usr/bin/python3
"""One real guest (Debian kernel, TCG) under dynmem-kvm, balloon only:
idle guest reclaimed toward demand + buffer but never below its minimum; a
growing workload gets memory back quickly and is not OOM-killed; once it
stops and the calm period passes, memory is reclaimed again.
usage: test-balloon.py DYNMEM_KVM SRCDIR WORKDIR"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kvmtest import (MIB, Daemon, Guest, Sampler, fail,  # noqa: E402
                     prepare, log, wait_for)

BOOT = 1024          # MiB, -m
MINIMUM = 320        # MiB
BUFFER = 50          # percent
STATS_S = 1          # guest statistics interval
CALM_MS = 6000
IDLE, PEAK = 16, 288  # memhog MiB
RATE = 12            # memhog MiB/s
# idle, PEAK, idle again: the test ends each phase once it has seen what it
# waits for (a busy machine slows TCG guests down a lot)
SCHED = "%d:wait,%d:wait,%d:wait" % (IDLE, PEAK, IDLE)
SLACK = 40           # MiB: deadband (32) and rounding


def main():
    exe, workdir, kernel, initrd, t_start = prepare("kvm-balloon")
    g = Guest("guest", workdir, kernel, initrd, BOOT,
              "memhog=%s memhog_rate=%d" % (SCHED, RATE))
    d = sampler = None
    try:
        sampler = Sampler(g)
        d = Daemon(exe, workdir, [
            "--host-memory", "8G", "--reserve", "0", "--stats-interval", str(STATS_S),
            "--tick", "500", "--calm", str(CALM_MS), "--settle", "5000", "-v",
            "--vm", "name=guest,qmp=%s,startup=%dM,minimum=%dM,maximum=%dM,buffer=%d"
            % (g.qmp_daemon, BOOT, MINIMUM, BOOT, BUFFER)])
        g.wait_line(r"^READY", 90)
        t_ready = time.monotonic()
        log("guest ready after %.1f s" % (t_ready - g.t0))
        # Phase 1: idle. Expect the balloon to come down to the minimum.
        wait_for(lambda: sampler.samples and sampler.samples[-1][1] <= (MINIMUM + SLACK) * MIB, 150)
        idle = [a for t, a, _ in sampler.samples if t >= t_ready]
        if not idle or min(idle) > (MINIMUM + SLACK) * MIB:
            fail("idle guest not reclaimed: balloon at %s MiB" % (min(idle) // MIB if idle else "?"),
                 [g], d)
        time.sleep(2)
        t_reclaimed = time.monotonic()
        # Phase 2: memhog grows to PEAK; hold it a little.
        g.next_phase()
        g.wait_line(r"^MEMHOG .*phase=1 held=%d " % PEAK, 150)
        time.sleep(3)
        # Phase 3: back to idle; wait for the reclaim.
        g.next_phase()
        g.wait_line(r"^MEMHOG .*phase=2 ", 30)
        t_drop = time.monotonic()
        wait_for(lambda: sampler.samples[-1][1] <= (MINIMUM + SLACK) * MIB, CALM_MS / 1000 + 120)
        t_end = time.monotonic()
        samples = list(sampler.samples)
        hog = g.hog_samples()
    finally:
        if sampler:
            sampler.close()
        rc = d.stop() if d else None
        g.kill()
    log("dynmem-kvm exit status on SIGTERM: %s" % rc)

    # --- assertions on QMP (balloon actual) and the guest's own meminfo ---
    low = min(a for _, a, _ in samples)
    if low < MINIMUM * MIB:
        fail("balloon went below the minimum: %d MiB" % (low // MIB), [g], d)
    if g.oom_lines():
        fail("the guest OOM-killed its workload: %s" % g.oom_lines()[:3], [g], d)
    peak_held = max(s["held"] for _, s in hog)
    if peak_held < PEAK:
        fail("memhog never held %d MiB (max %d)" % (PEAK, peak_held), [g], d)
    if samples[-1][1] > (MINIMUM + SLACK) * MIB:
        fail("not reclaimed after the workload stopped: %d MiB" % (samples[-1][1] // MIB), [g], d)
    if rc != 0:
        fail("dynmem-kvm did not exit cleanly on SIGTERM (%s)" % rc, [g], d)
    if "balloon" not in d.text() or "unballoon" not in d.text():
        fail("dynmem-kvm logged no balloon/unballoon action", [g], d)

    # --- measurements ---
    boot_total = hog[0][1]["MemTotal"]  # kB, before any balloon moves (or close)
    first = [s for _, s in hog]
    boot_total = max(s["MemTotal"] for s in first)
    reserved_kb = BOOT * 1024 - boot_total  # kernel's own, never in MemTotal
    idle_total = min(s["MemTotal"] for t, s in hog if t <= t_reclaimed + 1)
    # the moment the guest's own demand x (1 + buffer) first exceeds what it holds
    t_need = t_seen = t_grow = None
    for t, s in hog:
        if s["phase"] != 1:
            continue
        if t_grow is None and s["held"] > IDLE:
            t_grow = t
        holds = s["MemTotal"] + reserved_kb
        demand = holds - s["MemAvailable"]
        if t_need is None and demand * (1 + BUFFER / 100) > holds + 32 * 1024:
            t_need = t
            base_total = s["MemTotal"]
        if t_need is not None and t_seen is None and s["MemTotal"] > base_total:
            t_seen = t
    reclaim_after_drop = next((t for t, a, _ in samples
                               if t > t_drop and a <= (MINIMUM + SLACK) * MIB), t_end) - t_drop
    print("RESULT idle balloon %d MiB (minimum %d), guest MemTotal %d -> %d MiB"
          % (low // MIB, MINIMUM, boot_total // 1024, idle_total // 1024))
    if t_seen and t_need:
        print("RESULT deflate visible in guest %.1f s after demand+buffer exceeded held memory "
              "(%.1f s after memhog started growing; stats interval %d s)"
              % (t_seen - t_need, t_seen - t_grow, STATS_S))
    print("RESULT reclaimed %.1f s after memhog dropped (calm period %.1f s)"
          % (reclaim_after_drop, CALM_MS / 1000))
    print("RESULT whole test %.1f s" % (time.monotonic() - t_start))
    if not t_seen:
        fail("the guest never saw its memory grow while memhog grew", [g], d)
    if t_seen - t_need > 4 * STATS_S + 2:
        fail("deflate too slow: %.1f s" % (t_seen - t_need), [g], d)
    print("PASS")


if __name__ == "__main__":
    main()
