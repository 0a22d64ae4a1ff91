#!/usr/bin/python3
"""One real guest (Debian kernel, TCG) under dynmem-kvm with its default
settings (buffer 20 %, statistics every second, a decision a second; only
the calm period is shortened, so that the idle guest reaches its minimum
sooner), balloon only: the idle guest is reclaimed toward demand + buffer but
never below its minimum; from there its workload ramps up at 40 MiB/s and
is not OOM-killed; once it stops and the calm period passes, memory is
reclaimed again.
usage: test-balloon.py DYNMEM_KVM SRCDIR WORKDIR"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kvmtest import (MIB, Daemon, Guest, Sampler, fail,  # noqa: E402
                     prepare, log, wait_for)

BOOT = 1024          # MiB, -m
MINIMUM = 320        # MiB
BUFFER = 20          # percent: the default
STATS_S = 1          # guest statistics interval: the default
CALM_MS = 6000
IDLE, PEAK = 16, 400  # memhog MiB
RATE = 40            # memhog MiB/s: the ramp a guest at its minimum survives
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
            "--host-memory", "8G", "--reserve", "0", "--calm", str(CALM_MS), "-v",
            "--vm", "name=guest,qmp=%s,startup=%dM,minimum=%dM,maximum=%dM"
            % (g.qmp_daemon, BOOT, MINIMUM, BOOT)])
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
    # the ramp's start, the first sample in which demand + buffer exceeds
    # what the guest holds, and the first in which its MemTotal has grown
    t_need = t_seen = t_grow = base_total = None
    for t, s in hog:
        if s["phase"] != 1:
            continue
        if t_grow is None and s["held"] > IDLE:
            t_grow, base_total = t, s["MemTotal"]
        holds = s["MemTotal"] + reserved_kb
        demand = holds - s["MemAvailable"]
        if t_need is None and demand * (1 + BUFFER / 100) > holds + 32 * 1024:
            t_need = t
        if t_grow is not None and t_seen is None and s["MemTotal"] > base_total:
            t_seen = t
    reclaim_after_drop = next((t for t, a, _ in samples
                               if t > t_drop and a <= (MINIMUM + SLACK) * MIB), t_end) - t_drop
    print("RESULT idle balloon %d MiB (minimum %d), guest MemTotal %d -> %d MiB"
          % (low // MIB, MINIMUM, boot_total // 1024, idle_total // 1024))
    ramp = [s for t, s in hog if s["phase"] == 1 and s["held"] < PEAK]
    low_avail = min(s["MemAvailable"] for s in ramp) // 1024 if ramp else -1
    if t_seen:
        print("RESULT ramp of %d MiB/s from the minimum: growth visible in the guest %.1f s after "
              "the ramp began; lowest MemAvailable during the ramp %d MiB"
              % (RATE, t_seen - t_grow, low_avail))
    if t_seen and t_need and t_seen >= t_need:  # else growth came before the need
        print("RESULT deflate visible in guest %.1f s after demand+buffer exceeded held memory "
              "(stats interval %d s)" % (t_seen - t_need, STATS_S))
    print("RESULT reclaimed %.1f s after memhog dropped (calm period %.1f s)"
          % (reclaim_after_drop, CALM_MS / 1000))
    print("RESULT whole test %.1f s" % (time.monotonic() - t_start))
    if not t_seen:
        fail("the guest never saw its memory grow while memhog grew", [g], d)
    if t_need and t_seen - t_need > 4 * STATS_S + 2:
        fail("deflate too slow: %.1f s" % (t_seen - t_need), [g], d)
    print("PASS")


if __name__ == "__main__":
    main()
