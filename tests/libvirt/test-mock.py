#!/usr/bin/python3
"""dynmem-libvirt against libvirt's test:/// driver (a mock with no guest
behind it, so it runs in every build, sanitizers included): which running
domains are managed and why not (errors naming the domain and the field),
the books when the running domains hold more than the host, `admit DOMAIN`
(yes, no with the missing amount, refused settings), the counters file and
--status, host settings the library refuses, and bad command lines.
usage: test-mock.py DYNMEM_LIBVIRT WORKDIR"""
import os
import subprocess
import sys

NODE = """<node>
  <cpu><mhz>2000</mhz><model>x86_64</model><active>2</active><nodes>1</nodes>
       <sockets>1</sockets><cores>2</cores><threads>1</threads></cpu>
  <memory>4194304</memory>
  %s
</node>"""

DOMAIN = """<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>%s</name>%s
    <memory unit='MiB'>%d</memory>
    <currentMemory unit='MiB'>%d</currentMemory>
    <os><type>hvm</type></os>
    <devices><memballoon model='virtio'/></devices>%s
  </domain>"""


def domain(name, mib, meta=None, running=True):
    md = ("<metadata><dynmem:memory xmlns:dynmem='urn:libdynmem:libvirt:1'>%s"
          "</dynmem:memory></metadata>" % meta) if meta is not None else ""
    return DOMAIN % (name, md, mib, mib, "" if running else "<test:runstate>5</test:runstate>")


DOMAINS = [
    domain("web", 1024, "<dynmem:minimum unit='MiB'>256</dynmem:minimum>"),
    domain("bad", 512, "<dynmem:minimum unit='MiB'>2048</dynmem:minimum>"),
    domain("plain", 512),
    domain("idle", 2048, running=False),
    domain("big", 3072, "<dynmem:maximum unit='MiB'>3072</dynmem:maximum>", running=False),
    domain("broken", 1024, "<dynmem:weight>lots</dynmem:weight>", running=False),
]

failures = []


def check(cond, what, out=None):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
        if out is not None:
            print(out)


def run(exe, uri, *args):
    p = subprocess.run([exe, "-c", uri] + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def main():
    exe, workdir = sys.argv[1:3]
    os.makedirs(workdir, exist_ok=True)
    node = os.path.abspath(os.path.join(workdir, "libvirt-mock-node.xml"))
    open(node, "w").write(NODE % "\n  ".join(DOMAINS))
    uri = "test://" + node

    # --once: managed or not, and why, naming the domain and the field
    rc, out = run(exe, uri, "--once", "--dry-run", "--reserve", "0")
    print(out)
    check(rc == 1, "--once exits 1 when a domain's settings are refused (got %d)" % rc)
    check("web: managed at what it holds, 1024 MiB" in out, "web managed at 1024 MiB", out)
    check("minimum 256 MiB, maximum 1024 MiB" in out, "web's settings", out)
    check("bad: running, 512 MiB, not managed: metadata minimum: 2048 MiB is above the "
          "domain's startup memory, 512 MiB" in out, "bad's refusal names the field", out)
    check("plain: running, 512 MiB, not managed: no dynmem metadata" in out, "plain not managed")
    check("web: status: held 1024 MiB" in out, "web's status line", out)
    check("plain: status: booked outside the balancer at 512 MiB" in out, "plain booked outside")
    check("no keepalive on this connection" in out, "a driver without keepalive is said")

    # the counters: a Prometheus file replaced each round, and --status
    prom = os.path.join(workdir, "libvirt-mock.prom")
    if os.path.exists(prom):
        os.unlink(prom)
    rc, out = run(exe, uri, "--once", "--dry-run", "--reserve", "0", "--metrics-file", prom)
    text = open(prom).read() if os.path.exists(prom) else ""
    check('dynmem_daemon_info{daemon="dynmem-libvirt"' in text, "the counters file is written", text)
    for vm, state in (("web", "managed"), ("plain", "unmanaged"), ("bad", "refused")):
        check('dynmem_vm_state{vm="%s",state="%s"} 1' % (vm, state) in text,
              "%s's state is %s in the counters" % (vm, state), text)
    check('dynmem_vm_assigned_bytes{vm="web"} 1073741824' in text, "web's assigned bytes", text)
    check('dynmem_vm_assigned_bytes{vm="plain"}' not in text, "plain is not in the balancer")
    # the host share: 4096 MiB less the 1024 MiB the two unmanaged domains hold
    check("dynmem_host_memory_bytes 3221225472" in text, "the host memory the balancer shares", text)
    st = subprocess.run([exe, "--status", "--metrics-file", prom], capture_output=True, text=True,
                        timeout=30)
    print(st.stdout)
    check(st.returncode == 0 and "dynmem-libvirt" in st.stdout
          and any(line.split()[:2] == ["web", "managed"] for line in st.stdout.splitlines()),
          "--status prints the table", st.stdout + st.stderr)
    st = subprocess.run([exe, "--status", "--metrics-file", prom + ".none"], capture_output=True,
                        text=True, timeout=30)
    check(st.returncode == 1, "--status without the daemon's file exits 1", st.stderr)

    # host settings the library refuses: the daemon and admit exit 2, naming them
    rc, out = run(exe, uri, "--once", "--reserve", "4G")
    check(rc == 2 and "reserve 4096 MiB at or above host memory 4096 MiB" in out,
          "a reserve at or above the host is refused", out)
    rc, out = run(exe, uri, "--host-memory", "1001M", "admit", "idle")
    check(rc == 2 and "not a whole number of 2 MiB units" in out,
          "a host memory not in 2 MiB units is refused", out)

    # more held than the host has: the books say so and nothing grows
    rc, out = run(exe, uri, "--once", "--dry-run", "--reserve", "0", "--host-memory", "1536M")
    print(out)
    check("hold 512 MiB more than the host's 1536 MiB" in out, "overcommitted books said", out)

    # admit: free = 4096 - reserve - 2048 held by the three running domains
    rc, out = run(exe, uri, "--reserve", "0", "admit", "idle")
    print(out)
    check(rc == 0 and "idle: can start: needs 2048 MiB, 2048 MiB free" in out, "idle fits", out)
    rc, out = run(exe, uri, "--reserve", "512M", "admit", "idle")
    print(out)
    check(rc == 1 and "idle: cannot start now: needs 2048 MiB, 1536 MiB free" in out
          and "512 MiB missing" in out, "idle refused, 512 MiB missing", out)
    rc, out = run(exe, uri, "--reserve", "0", "admit", "big")
    print(out)
    check(rc == 1 and "1024 MiB missing" in out, "big refused, 1024 MiB missing", out)
    rc, out = run(exe, uri, "--reserve", "0", "--host-memory", "1G", "admit", "idle")
    print(out)
    check(rc == 1 and "3072 MiB missing" in out,
          "an overcommitted host adds what it is short to the missing amount", out)
    rc, out = run(exe, uri, "admit", "web")
    check(rc == 0 and "web: already running, 1024 MiB" in out, "a running domain", out)
    rc, out = run(exe, uri, "admit", "broken")
    print(out)
    check(rc == 2 and "broken: metadata weight: 'lots': not a whole number" in out,
          "broken settings named", out)
    rc, out = run(exe, uri, "admit", "nosuch")
    check(rc == 2 and "nosuch" in out, "unknown domain", out)

    # bad command lines
    for args in (["--tick", "0"], ["--host-memory", "lots"], ["--keepalive", "5"],
                 ["--policy", "greedy"], ["--bogus", "1"], ["admit"], ["frobnicate"],
                 ["--status"]):
        rc, out = run(exe, uri, *args)
        check(rc == 2, "%s exits 2 (got %d)" % (args, rc), out)
    rc, out = run(exe, "test:///nonexistent.xml", "--once")
    check(rc == 2 and "cannot connect" in out, "an unreachable URI in --once exits 2", out)

    if failures:
        sys.exit("%d check(s) failed" % len(failures))
    print("PASS")


if __name__ == "__main__":
    main()
