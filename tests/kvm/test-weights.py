#!/usr/bin/python3
"""Two real guests and too little host memory: the second is admitted only
once the first has been reclaimed, and when both want more than the host has,
weight decides who gets it.
usage: test-weights.py DYNMEM_KVM SRCDIR WORKDIR"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kvmtest import (MIB, Daemon, Guest, Sampler, expected_split, fail,  # noqa: E402
                     last_demand, prepare, log, split_reached, wait_for, within_deadband)

BOOT, MINIMUM, HOST = 512, 192, 896  # MiB; 2 x BOOT does not fit in HOST
RATE = 8
WEIGHTS = {"heavy": 9000, "light": 1000}
BUFFER = 50  # percent
# idle, then the hogs grow (the test paces): heavy wants its maximum, light
# wants more than what is left (but can live with it, so no OOM kill)
PEAKS = {"heavy": 320, "light": 240}


def holdings(samplers, guests):
    """What each guest holds now (bytes), None before its first reading."""
    return {g.name: s.samples[-1][1] if s.samples else None for s, g in zip(samplers, guests)}


def main():
    exe, workdir, kernel, initrd, t_start = prepare("kvm-weights")
    guests = [Guest(n, workdir, kernel, initrd, BOOT,
                    "memhog=16:wait,%d:wait memhog_rate=%d" % (PEAKS[n], RATE))
              for n in ("heavy", "light")]
    samplers, d = [], None
    try:
        samplers = [Sampler(g) for g in guests]
        specs = []
        for g in guests:
            specs += ["--vm", "name=%s,qmp=%s,startup=%dM,minimum=%dM,maximum=%dM,buffer=%d,weight=%d"
                      % (g.name, g.qmp_daemon, BOOT, MINIMUM, BOOT, BUFFER, WEIGHTS[g.name])]
        d = Daemon(exe, workdir, ["--host-memory", "%dM" % HOST, "--reserve", "0",
                                  "--stats-interval", "1", "--tick", "500", "--calm", "4000",
                                  "--settle", "5000", "--verbose"] + specs)
        for g in guests:
            g.wait_line(r"^READY", 150)
        # The light guest is admitted once the heavy one has been reclaimed;
        # then both idle guests come down to their minimum.
        if not wait_for(lambda: "light: managed" in d.text() and all(
                s.samples and s.samples[-1][1] <= (MINIMUM + 40) * MIB for s in samplers), 200):
            fail("idle guests not both managed and reclaimed", guests, d)
        for g in guests:
            g.next_phase()
        # Both hogs want PEAK: more than the host has. Weight decides. A hog
        # reaches its peak only as fast as the daemon gives it memory, which
        # on a loaded machine is slow: generous ceilings.
        for g, ceiling in zip(guests, (270, 120)):
            g.wait_line(r"^MEMHOG .*phase=1 held=%d " % PEAKS[g.name], ceiling)
        # The daemon reaches the rule's split only after its next statistics
        # samples and a few ticks: a fixed pause was too short on a loaded
        # machine. Wait for the split itself (a generous ceiling; the checks
        # below are unchanged), then hold still a while before reading.
        t_peak = time.monotonic()
        reached = wait_for(lambda: split_reached(d.text(), holdings(samplers, guests), WEIGHTS,
                                                 BUFFER, MINIMUM, BOOT, HOST), 180, 1)
        log("rule's split %s after %.1f s" % ("reached" if reached else "not reached",
                                             time.monotonic() - t_peak))
        time.sleep(5)
        final = [s.samples[-1][1] for s in samplers]
        lows = [min(a for _, a, _ in s.samples) for s in samplers]
        text = d.text()
    finally:
        for s in samplers:
            s.close()
        rc = d.stop() if d else None
        for g in guests:
            g.kill()
    log("final balloon sizes: heavy %d MiB, light %d MiB" % (final[0] // MIB, final[1] // MIB))
    print("RESULT weights 9000/1000 on %d MiB: heavy %d MiB, light %d MiB"
          % (HOST, final[0] // MIB, final[1] // MIB))
    print("RESULT whole test %.1f s" % (time.monotonic() - t_start))
    if "light: not managed" not in text and "heavy: not managed" not in text:
        fail("expected one guest to wait for admission (2 x %d MiB > %d MiB)" % (BOOT, HOST),
             guests, d)
    if "light: managed" not in text or "heavy: managed" not in text:
        fail("both guests should end up managed", guests, d)
    if guests[0].oom_lines():
        fail("the heavy guest's workload was OOM-killed", guests, d)
    if min(lows) < MINIMUM * MIB:
        fail("a guest went below its minimum: %s" % [x // MIB for x in lows], guests, d)
    if sum(final) > HOST * MIB:
        fail("guests hold more than the host has: %d MiB" % (sum(final) // MIB), guests, d)
    # Weight decides: each guest ends within the deadband (and a 2 MiB
    # rounding) of what the rule entitles it to, given its latest demand.
    demands = {g.name: last_demand(text, g.name) for g in guests}
    if None in demands.values():
        fail("no statistics logged for a guest: %s" % demands, guests, d)
    expect = expected_split(demands, WEIGHTS, BUFFER, MINIMUM, BOOT, HOST)
    print("RESULT demands heavy %d MiB, light %d MiB; rule's split heavy %.0f MiB, light %.0f MiB"
          % (demands["heavy"], demands["light"], expect["heavy"], expect["light"]))
    for g, held in zip(guests, final):
        if not within_deadband(held, expect[g.name]):
            fail("weight did not decide: %s holds %d MiB, the rule gives it %.0f MiB"
                 % (g.name, held // MIB, expect[g.name]), guests, d)
    if not final[0] > final[1]:
        fail("weight did not decide: heavy %d MiB, light %d MiB"
             % (final[0] // MIB, final[1] // MIB), guests, d)
    if rc != 0:
        fail("dynmem-kvm did not exit cleanly on SIGTERM (%s)" % rc, guests, d)
    print("PASS")


if __name__ == "__main__":
    main()
