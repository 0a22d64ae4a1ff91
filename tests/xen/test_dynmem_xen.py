#!/usr/bin/python3
"""Integration test of dynmem-xen against the test-only xenstore server
(xs_fixture.py), through the real libxenstore (XENSTORED_PATH).

Usage: test_dynmem_xen.py PATH/TO/dynmem-xen
Every wait has a deadline; every process and thread is stopped at the end.
Exit status 0 when every check passed; each failure prints what was
expected, what was seen and the daemon's log tail."""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import xs_fixture as fx  # noqa: E402
from promfile import metric, vm_state  # noqa: E402

MIB_KIB = 1024
CONFIG = """
[host]
memory = {memory}
reserve = 0
tick-ms = 50
calm-ms = 200
stuck-ms = 400
giveup-ms = 60000
[defaults]
minimum = 256M
[domain beta]
weight = 9000
buffer = 50
[domain alpha]
weight = 1000
buffer = 50
"""


class Failure(Exception):
    pass


class Run:
    def __init__(self, exe, tmp):
        self.exe, self.tmp = exe, tmp
        self.sock = os.path.join(tmp, "xenstored.sock")
        self.logpath = os.path.join(tmp, "dynmem-xen.log")
        self.store, self.guests = fx.Store(), fx.Guests()
        self.store.write("/local/domain/0/name", b"Domain-0")
        self.store.write("/local/domain/0/memory/static-max", b"4194304")
        self.store.write("/local/domain/0/memory/target", b"4194304")
        self.server = fx.Server(self.store, self.sock)
        self.proc = None
        self.env = dict(os.environ, XENSTORED_PATH=self.sock)

    def config(self, memory):
        path = os.path.join(self.tmp, "xen.conf")
        with open(path, "w") as f:
            f.write(CONFIG.format(memory=memory))
        return path

    def start(self, *args):
        self.logf = open(self.logpath, "w")
        self.proc = subprocess.Popen([self.exe, *args], stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=self.env)

    def log(self):
        with open(self.logpath) as f:
            return f.read()

    def target(self, domid):
        return int(self.store.nodes.get("/local/domain/%d/memory/target" % domid, b"0") or 0)

    def wait(self, what, pred, timeout=30.0):
        # Generous: the machine is shared; a wait only lasts this long on a failure.
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return
            if self.proc and self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise Failure("timed out waiting for: %s" % what)

    def check(self, what, cond, seen=""):
        if not cond:
            raise Failure("%s (seen: %s)" % (what, seen))
        print("ok - %s" % what)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.guests.stop()
        self.server.stop()


def within(value_kib, want_mib, slack_mib):
    return abs(value_kib // MIB_KIB - want_mib) <= slack_mib


def once_and_dry_run(exe, tmp):
    r = Run(exe, tmp)
    try:
        g = r.guests.add(fx.Guest(r.store, 1, "solo", 2048, 512, demand=[(0, 900)]))
        r.guests.add(fx.Guest(r.store, 2, "iota", 2048, 512, demand=[(0, 900)]))
        r.store.read_only.add("/local/domain/2/memory/target")
        conf = r.config("4G")
        r.wait("solo publishes meminfo", lambda: "/local/domain/1/data/meminfo_free" in r.store.nodes)
        before = len(r.store.writes)
        out = subprocess.run([exe, "--config", conf, "--once", "--dry-run"], env=r.env, timeout=10,
                             capture_output=True, text=True)
        r.check("--once --dry-run exits 0", out.returncode == 0, out.stdout + out.stderr)
        r.check("--dry-run decides and logs", "dry run, not written" in out.stdout, out.stdout)
        r.check("--dry-run writes nothing", len(r.store.writes) == before, r.store.writes[before:])
        out = subprocess.run([exe, "--config", conf, "--once"], env=r.env, timeout=10,
                             capture_output=True, text=True)
        r.check("--once exits 0", out.returncode == 0, out.stdout + out.stderr)
        r.check("--once grows a starved guest in one pass", r.target(1) > 512 * MIB_KIB,
                r.target(1))
        r.check("EACCES on a target write drops the action",
                r.target(2) == 512 * MIB_KIB and "dom 2 (iota): write memory/target: denied "
                "(EACCES); action dropped" in out.stdout, out.stdout)
        del g
        bad = os.path.join(tmp, "bad.conf")
        for text, message in (
                ("[host]\nmemory = 4G\n[domain x]\nweight = 20000\n", ":4: weight is 0..10000"),
                ("[host]\nmemory = 4Q\n", ":2: expected a size"),
                ("[defaults]\nbuffer = 20\n", ": [host] memory is required"),
                ("[host]\nmemory = 4G\nspeed = 9\n", ":3: unknown key"),
                ("minimum = 1G\n", ":1: key outside a section"),
                # settings it cannot honour, named by the library's check
                ("[host]\nmemory = 4G\nreserve = 4G\n",
                 ":1: [host]: reserve 4096 MiB at or above host memory 4096 MiB"),
                ("[host]\nmemory = 4G\nreserve = 5G\n",
                 ":1: [host]: reserve 5120 MiB at or above host memory 4096 MiB"),
                ("[host]\nmemory = 512M\n",
                 ":1: [host]: reserve 900 MiB (the default for this host) at or above host "
                 "memory 512 MiB"),
                ("[host]\nmemory = 4097M\n",
                 ":1: [host]: host memory 4097 MiB is not a whole number of 2 MiB units"),
                ("[host]\nmemory = 4G\n[domain x]\nminimum = 2G\nmaximum = 1G\n",
                 ":3: [domain x]: minimum 2048 MiB above startup 1024 MiB and maximum 1024 MiB "
                 "(startup not set: taken as the maximum)"),
                ("[host]\nmemory = 4G\n[defaults]\nminimum = 1000K\n",
                 ":3: [defaults]: minimum 1000 KiB is not a whole number of 2 MiB units"),
                ("[host]\nmemory = 4G\n[defaults]\nminimum = 2G\n[domain x]\nmaximum = 1G\n",
                 ":5: [domain x]: minimum 2048 MiB above startup 1024 MiB and maximum 1024 MiB"),
                ("[host]\nmemory = 4G\n[domain x]\nstartup = 2G\nmaximum = 1G\n",
                 ":3: [domain x]: maximum 1024 MiB below startup 2048 MiB"),
                ("[host]\nmemory = 4G\n[domain x]\nweight = 1\n[domain x]\nweight = 2\n",
                 ":5: [domain x]: vm 'x': name also used by VM 1")):
            with open(bad, "w") as f:
                f.write(text)
            out = subprocess.run([exe, "--config", bad, "--once"], env=r.env, timeout=10,
                                 capture_output=True, text=True)
            r.check("a bad configuration is refused: %s" % message.split(": ")[-1],
                    out.returncode == 2 and "bad.conf" + message in out.stderr, out.stderr)
    finally:
        r.stop()


REFUSALS = """
[host]
memory = 4G
reserve = 0
tick-ms = 50
[domain big]
minimum = 1G
[domain small]
maximum = 512M
"""


def runtime_refusals(exe, tmp):
    """Settings a running domain cannot honour are refused for that domain,
    naming the field, and it is left alone (never clamped into the books)."""
    r = Run(exe, tmp)
    try:
        r.guests.add(fx.Guest(r.store, 1, "big", 2048, 512, demand=[(0, 300)]))
        r.guests.add(fx.Guest(r.store, 2, "small", 2048, 1024, demand=[(0, 300)]))
        r.guests.add(fx.Guest(r.store, 3, "twin", 1024, 512, demand=[(0, 300)]))
        r.guests.add(fx.Guest(r.store, 4, "twin", 1024, 512, demand=[(0, 300)]))
        r.guests.add(fx.Guest(r.store, 5, "fine", 1024, 512, demand=[(0, 300)]))
        path = os.path.join(tmp, "refusals.conf")
        with open(path, "w") as f:
            f.write(REFUSALS)
        r.start("--config", path)
        r.wait("the valid domain managed", lambda: "dom 5 (fine): managed" in r.log())
        time.sleep(0.5)
        log = r.log()
        r.check("a minimum above what the domain holds is refused",
                "dom 1 (big): not managed: minimum 1024 MiB above startup 512 MiB" in log, log)
        r.check("a maximum below what the domain holds is refused",
                "dom 2 (small): not managed: maximum 512 MiB below startup 1024 MiB" in log, log)
        r.check("a second domain with one name is refused",
                "dom 4 (twin): not managed: vm 'twin': name also used by the VM at domid 3" in log
                or "dom 3 (twin): not managed: vm 'twin': name also used by the VM at domid 4"
                in log, log)
        r.check("refused domains are left as they are",
                r.target(1) == 512 * MIB_KIB and r.target(2) == 1024 * MIB_KIB,
                (r.target(1), r.target(2)))
    except Failure:
        print(r.log()[-4000:], file=sys.stderr)
        raise
    finally:
        r.stop()


FAULTS = """
[host]
memory = 4G
reserve = 0
tick-ms = 50
metrics-file = {prom}
"""


def contention_and_outage(exe, tmp):
    """Transactions that end in EAGAIN (every commit for a while, then half
    of them) are retried until the target is written, never dropped and never
    taken for a domain that is gone; a lost connection keeps every domain in
    the books ("disconnected" in the metrics file) until it is back."""
    r = Run(exe, tmp)
    prom = os.path.join(tmp, "dynmem.prom")
    try:
        grow = r.guests.add(fx.Guest(r.store, 1, "grow", 2048, 512, demand=[(0, 300)], delay=0.05))
        r.guests.add(fx.Guest(r.store, 2, "calm", 1024, 512, demand=[(0, 300)], delay=0.05))
        path = os.path.join(tmp, "faults.conf")
        with open(path, "w") as f:
            f.write(FAULTS.format(prom=prom))
        r.store.eagain_share = 1.0
        r.start("--config", path)
        r.wait("both managed", lambda: vm_state(prom, "grow") == "managed"
               and vm_state(prom, "calm") == "managed")
        grow.set_demand(900)  # wants about 1080 MiB: growth past what it was found with
        time.sleep(1.0)
        r.check("while every commit fails, nothing is written", r.target(1) == 512 * MIB_KIB,
                r.target(1))
        r.store.eagain_share = 0.5
        r.wait("grows once commits go through", lambda: r.target(1) >= (1080 - 34) * MIB_KIB)
        r.check("EAGAIN commits are retried (%d of %d commits failed)"
                % (r.store.eagains, r.store.commits),
                r.store.eagains > 10 and "action dropped" not in r.log(), r.log()[-1500:])
        # the connection goes away for 3 s
        r.server.stop()
        r.wait("disconnected in the metrics file", lambda: vm_state(prom, "grow") == "disconnected")
        r.check("a lost connection keeps the domains booked",
                metric(prom, "dynmem_vm_assigned_bytes", "grow") >= 1024 * MIB_KIB * 1024
                and metric(prom, "dynmem_host_assigned_bytes") >= 1536 * MIB_KIB * 1024,
                open(prom).read()[-800:])
        st = subprocess.run([exe, "--status", "--config", path], capture_output=True, text=True,
                            timeout=10)
        r.check("--status shows the table", st.returncode == 0
                and re.search(r"\ngrow +disconnected +\S+ +1\d\d\d MiB", st.stdout), st.stdout)
        time.sleep(3)
        r.server = fx.Server(r.store, r.sock)
        r.wait("reconnected", lambda: "reconnected to xenstore" in r.log())
        r.wait("managed again", lambda: vm_state(prom, "grow") == "managed")
        grow.set_demand(300)
        r.check("no domain was taken for gone", "gone" not in r.log(), r.log()[-1500:])
    except Failure:
        print(r.log()[-4000:], file=sys.stderr)
        raise
    finally:
        r.stop()


def main_scenario(exe, tmp):
    r = Run(exe, tmp)
    try:
        alpha = r.guests.add(fx.Guest(r.store, 1, "alpha", 2048, 1024, demand=[(0, 300)], delay=0.05))
        beta = r.guests.add(fx.Guest(r.store, 2, "beta", 2048, 1024, demand=[(0, 300)], delay=0.05))
        r.guests.add(fx.Guest(r.store, 3, "gamma", 1024, 1024, demand=[(0, 200)], stuck=True))
        r.guests.add(fx.Guest(r.store, 4, "delta", 1024, 512, agent=False))
        r.guests.add(fx.Guest(r.store, 5, "eta", 1024, 256, demand=[(0, 100)]))
        r.store.denied.add("/local/domain/5/data")  # EACCES on the agent's keys
        pool_mib = 4096
        r.start("--config", r.config("%dM" % pool_mib))

        # 1. Targets follow demand + buffer (300 MiB + 50 % = 450 MiB), within bounds.
        r.wait("alpha and beta ballooned to demand + buffer",
               lambda: within(r.target(1), 450, 34) and within(r.target(2), 450, 34), 8)
        r.check("targets follow demand + buffer within [minimum, maximum]",
                all(256 * MIB_KIB <= r.target(d) <= 2048 * MIB_KIB for d in (1, 2)),
                (r.target(1), r.target(2)))
        r.check("a guest without an agent is held at what it had",
                r.target(4) == 512 * MIB_KIB and "dom 4 (delta): no data/meminfo" in r.log(),
                r.target(4))
        r.check("EACCES on a guest's keys is logged and the guest held",
                r.target(5) == 256 * MIB_KIB and "dom 5 (eta): no data/meminfo_total and "
                "data/meminfo_free (denied (EACCES))" in r.log(), r.target(5))
        r.check("dom0 is left alone", r.target(0) == 4194304, r.target(0))

        # 2. A stuck guest is flagged, and its memory is not counted as freed.
        r.wait("gamma flagged stuck", lambda: "dom 3 (gamma): stuck" in r.log())
        r.check("the stuck guest's books keep its memory",
                "books keep 1024 MiB (not counted as freed)" in r.log(), r.log()[-2000:])

        # 3. Scarcity: both need 1000 MiB and want 1500 (50 % buffer); after
        # the stuck gamma (1024, still counted), delta (512) and eta (256)
        # 2304 MiB are left, so 696 MiB of buffer must go. Weighted
        # water-filling cuts alpha (weight 1000) to its need and beta (9000)
        # only by the rest. Demand rises in steps the guests can follow, so
        # that what they publish stays below what they hold.
        alpha.ramp(300, 1000, 50, 0.1)
        beta.ramp(300, 1000, 50, 0.1)
        left = pool_mib - 1024 - 512 - 256
        r.wait("alpha and beta settled under scarcity",
               lambda: (r.target(1) + r.target(2)) // MIB_KIB >= left - 64
               and r.target(2) // MIB_KIB > 1250, 10)
        time.sleep(0.3)
        a, b = r.target(1) // MIB_KIB, r.target(2) // MIB_KIB
        r.check("weight decides under scarcity: beta %d MiB, alpha %d MiB" % (b, a), b > a + 200)
        r.check("the stuck guest's memory was not handed out: %d + %d <= %d" % (a, b, left),
                a + b <= left)

        # 4. A destroyed domain returns its memory to the pool: 3328 MiB are
        # now left, enough for both wants.
        r.guests.list[2].destroy()
        r.wait("gamma's memory back to the pool", lambda: "dom 3 (gamma): gone; 1024 MiB back"
               in r.log())
        r.wait("alpha grows to its want with gamma's memory",
               lambda: within(r.target(1), 1500, 34), 8)
        r.check("a destroyed domain returns its memory (alpha %d -> %d MiB)"
                % (a, r.target(1) // MIB_KIB), True)
        r.check("a destroyed domain's directory is not re-created by a write",
                not any(p.startswith("/local/domain/3") for p in r.store.nodes), "")

        # 5. Reconnect after the server restarts.
        r.server.stop()
        time.sleep(0.4)
        r.server = fx.Server(r.store, r.sock)
        r.wait("reconnected", lambda: "reconnected to xenstore" in r.log())
        r.guests.add(fx.Guest(r.store, 6, "zeta", 1024, 256, demand=[(0, 100)]))
        r.wait("a domain created after the restart is managed",
               lambda: "dom 6 (zeta): managed" in r.log())
        alpha.set_demand(200)
        beta.set_demand(200)
        r.wait("targets follow demand again after the restart",
               lambda: within(r.target(1), 300, 34) and within(r.target(2), 300, 34), 10)
        r.check("reconnect after the server restarts", True)

        # 6. SIGTERM leaves targets as they are.
        before = {d: r.target(d) for d in (1, 2, 4, 5, 6)}
        nwrites = len(r.store.writes)
        r.proc.send_signal(signal.SIGTERM)
        rc = r.proc.wait(timeout=5)
        r.check("SIGTERM exits 0", rc == 0, rc)
        r.check("SIGTERM leaves targets as they are",
                before == {d: r.target(d) for d in before}
                and all(not w[1].endswith("memory/target") for w in r.store.writes[nwrites:]),
                r.store.writes[nwrites:])
        actions = [l for l in r.log().splitlines() if "[dynmem/" in l]
        r.check("one log line per action, with its reason (%d actions)" % len(actions),
                actions and all(re.match(r"dynmem-xen: dom \d+ \(\w+\): memory/target \d+ KiB: "
                                         r"vm \d+ [a-z-]+ \d+ MiB -> \d+ MiB \[dynmem/[a-z-]+: ", l)
                                for l in actions)
                and any("lazy-reclaim" in l for l in actions)
                and any("scarcity" in l for l in actions), actions[:3])
    except Failure:
        print(r.log()[-4000:], file=sys.stderr)
        raise
    finally:
        r.stop()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = os.path.abspath(sys.argv[1])
    start = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="dynmem-xen-") as tmp:
            once_and_dry_run(exe, tmp)
        with tempfile.TemporaryDirectory(prefix="dynmem-xen-") as tmp:
            runtime_refusals(exe, tmp)
        with tempfile.TemporaryDirectory(prefix="dynmem-xen-") as tmp:
            contention_and_outage(exe, tmp)
        with tempfile.TemporaryDirectory(prefix="dynmem-xen-") as tmp:
            main_scenario(exe, tmp)
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    print("all checks passed in %.1f s" % (time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
