"""Pieces of dynmem-libvirt's real-libvirtd tests: a private libvirtd
(Debian's packages, run as root without systemd in a mount namespace of its
own, so a host's own libvirt is never touched), domains booting the KVM
suite's Debian guest kernel and initramfs under QEMU TCG, their serial
consoles, and an independent view of what each domain holds. The guest image,
the workload (memhog) and the console parsing are the KVM suite's
(tests/kvm/kvmtest.py). Every wait has a deadline; domains, QEMUs and
libvirtd are torn down when the test ends, whatever happens."""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "kvm"))
import kvmtest  # noqa: E402
from kvmtest import (MIB, Console, Daemon, expected_split, last_demand,  # noqa: E402,F401
                     log, split_reached, wait_for, within_deadband)

import libvirt  # noqa: E402  (Debian's python3-libvirt)

libvirt.registerErrorHandler(lambda ctx, err: None, None)

META_URI = "urn:libdynmem:libvirt:1"

QEMU_CONF = """# written by the test: root, no cgroups, no namespaces, no security driver
user = "root"
group = "root"
cgroup_controllers = [ ]
namespaces = [ ]
security_driver = "none"
stdio_handler = "file"
"""

# libvirtd's qemu driver always uses these folders as root; each is
# bind-mounted from the test's own folder inside libvirtd's mount namespace.
LIBVIRT_DIRS = {"etc": "/etc/libvirt", "run": "/run/libvirt", "lib": "/var/lib/libvirt",
                "cache": "/var/cache/libvirt", "log": "/var/log/libvirt"}


def prepare(name):
    """Command line (DYNMEM_LIBVIRT SRCDIR WORKDIR), the test's own work
    folder, kernel and initramfs: (exe, workdir, kernel, initrd, start time)."""
    exe, srcdir, workdir = sys.argv[1:4]
    for prog in ("/usr/sbin/libvirtd", "/usr/bin/qemu-system-x86_64", "/usr/bin/unshare"):
        if not os.access(prog, os.X_OK):
            sys.exit("%s is missing: run scripts/bootstrap" % prog)
    workdir = os.path.join(workdir, name)
    os.makedirs(workdir, exist_ok=True)
    t_start = time.monotonic()
    kernel, moddir = kvmtest.fetch_kernel(srcdir)
    initrd = kvmtest.build_initramfs(workdir, srcdir, moddir)
    log("kernel %s, initramfs ready in %.1f s" % (kernel, time.monotonic() - t_start))
    return exe, workdir, kernel, initrd, t_start


def memcheck(exe, workdir):
    """The daemon's command under valgrind memcheck: these tests run in the
    plain build only, so the daemon's event, reconnect and action paths get
    their memory checked here (an error or a definite leak makes it exit 99
    instead of 0 on SIGTERM)."""
    if not os.access("/usr/bin/valgrind", os.X_OK):
        sys.exit("valgrind is missing: run scripts/bootstrap")
    return ["/usr/bin/valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
            "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite",
            "--log-file=%s/valgrind.%%p.log" % workdir, exe]


def _with_user(path, lines):
    text = open(path).read()
    for line in lines:
        if not any(x.split(":")[0] == line.split(":")[0] for x in text.splitlines()):
            text += line + "\n"
    return text


# The private libvirtds not stopped yet, for the SIGTERM handler below.
_RUNNING = []


def _on_sigterm(signum, frame):
    """meson test ends a test that times out or is cancelled with SIGTERM to
    its process group, then SIGKILL half a second later. libvirtd starts its
    QEMUs in sessions of their own, out of reach of both, so a guest would
    outlive its test and take CPU from the tests after it: kill them first,
    then let the test's teardown (its `finally`) run as far as it gets."""
    for lv in list(_RUNNING):
        lv._kill_pids(lv.qemu_pids())
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _on_sigterm)


class Libvirtd:
    """A private libvirtd: its own config, sockets, state and logs under
    @root; the capabilities cache in @cache is kept between runs. Each test
    has its own @root and @cache (the QEMU tests run side by side: two
    libvirtds must not probe into one cache)."""

    def __init__(self, root, cache):
        self.root = root
        self.sockdir = os.path.join(root, "sock")
        self.dirs = {k: os.path.join(root, k) for k in LIBVIRT_DIRS}
        self.dirs["cache"] = cache
        # a fresh start: no libvirtd, QEMU, definition or state left from a
        # run that died before tearing down
        self._kill_pids(self.qemu_pids() + self._pidfile(), ("qemu", "libvirtd"))
        shutil.rmtree(root, ignore_errors=True)
        for d in list(self.dirs.values()) + [self.sockdir]:
            os.makedirs(d, exist_ok=True)
        open(os.path.join(self.dirs["etc"], "qemu.conf"), "w").write(QEMU_CONF)
        self.conf = os.path.join(root, "libvirtd.conf")
        open(self.conf, "w").write(
            'unix_sock_dir = "%s"\nunix_sock_rw_perms = "0700"\nauth_unix_rw = "none"\n'
            'auth_unix_ro = "none"\nlisten_tls = 0\nlisten_tcp = 0\n' % self.sockdir)
        # libvirtd looks up the user libvirt-qemu (the package scripts of
        # libvirt-daemon-system create it); it exists only in the namespace
        open(os.path.join(root, "passwd"), "w").write(_with_user("/etc/passwd", [
            "libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin"]))
        open(os.path.join(root, "group"), "w").write(_with_user("/etc/group", [
            "libvirt-qemu:x:64055:", "kvm:x:64056:"]))
        self.uri = "qemu:///system?socket=%s/libvirt-sock" % self.sockdir
        self.proc = None
        self.conn = None
        _RUNNING.append(self)
        self.start()

    def start(self, timeout=90):
        mounts = ["mount --bind %s %s" % (self.dirs[k], LIBVIRT_DIRS[k]) for k in LIBVIRT_DIRS]
        mounts += ["mount --bind %s/passwd /etc/passwd" % self.root,
                   "mount --bind %s/group /etc/group" % self.root]
        script = "set -e; mkdir -p %s; %s; exec libvirtd -f %s -p %s/libvirtd.pid" % (
            " ".join(LIBVIRT_DIRS.values()), "; ".join(mounts), self.conf, self.root)
        for p in glob.glob(os.path.join(self.sockdir, "*")):
            os.unlink(p)
        self.log = open(os.path.join(self.root, "libvirtd.log"), "a")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(["unshare", "-m", "--propagation", "private",
                                      "sh", "-c", script], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        end = time.monotonic() + timeout
        while True:
            try:
                self.conn = libvirt.open(self.uri)
                self.conn.getVersion()
                break
            except libvirt.libvirtError:
                if self.proc.poll() is not None or time.monotonic() > end:
                    sys.exit("libvirtd did not start; see %s/libvirtd.log" % self.root)
                time.sleep(0.2)
        log("libvirtd answered after %.1f s" % (time.monotonic() - t0))

    def kill(self):
        """libvirtd dies; its QEMUs go on running."""
        if self.conn:
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass
            self.conn = None
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def qemu_pids(self):
        pids = []
        for p in glob.glob(os.path.join(self.dirs["run"], "qemu", "*.pid")):
            try:
                pids.append(int(open(p).read().strip()))
            except (OSError, ValueError):
                pass
        return pids

    def stop(self):
        """Every domain destroyed, libvirtd stopped; leftover QEMUs killed."""
        try:
            if self.conn and self.proc.poll() is None:
                for d in self.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
                    try:
                        d.destroy()
                    except libvirt.libvirtError:
                        pass
        except libvirt.libvirtError:
            pass
        pids = self.qemu_pids()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._kill_pids(pids)
        if self in _RUNNING:
            _RUNNING.remove(self)

    def _pidfile(self):
        try:
            return [int(open(os.path.join(self.root, "libvirtd.pid")).read().strip())]
        except (OSError, ValueError):
            return []

    @staticmethod
    def _kill_pids(pids, names=("qemu",)):
        """Kills those of @pids whose command line names one of @names."""
        for pid in pids:
            try:
                cmd = open("/proc/%d/cmdline" % pid).read()
                if any(n in cmd for n in names):
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def domain_xml(name, kernel, initrd, console, boot_mib, append, vmem_mib=0, meta=None,
               current_mib=None):
    """A TCG q35 domain with a virtio balloon (statistics off until the
    daemon sets a period), optionally a virtio-mem device (2 MiB blocks,
    nothing plugged), its serial console on a unix socket."""
    cur = current_mib or boot_mib
    numa = maxmem = vmem = ""
    if vmem_mib:
        maxmem = "<maxMemory slots='2' unit='MiB'>%d</maxMemory>" % (boot_mib + vmem_mib)
        numa = ("<cpu><numa><cell id='0' cpus='0' memory='%d' unit='MiB'/></numa></cpu>"
                % boot_mib)
        vmem = ("<memory model='virtio-mem'><target><size unit='MiB'>%d</size><node>0</node>"
                "<block unit='MiB'>2</block><requested unit='MiB'>0</requested></target></memory>"
                % vmem_mib)
    metadata = ""
    if meta is not None:
        metadata = "<metadata><dynmem:memory xmlns:dynmem='%s'>%s</dynmem:memory></metadata>" % (
            META_URI, "".join("<dynmem:%s%s>%s</dynmem:%s>" % (
                k, " unit='MiB'" if k in ("minimum", "maximum") else "", v, k)
                for k, v in meta.items()))
    return f"""<domain type='qemu'>
  <name>{name}</name>{metadata}
  {maxmem}
  <memory unit='MiB'>{boot_mib + vmem_mib}</memory>
  <currentMemory unit='MiB'>{cur}</currentMemory>
  <vcpu>1</vcpu>{numa}
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>console=ttyS0 quiet {append}</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='unix'><source mode='bind' path='{console}'/><target port='0'/></serial>
    <memballoon model='virtio'/>
    {vmem}
  </devices>
</domain>"""


class Domain(Console):
    """A domain defined in the private libvirtd; its console is read once it
    starts."""

    def __init__(self, lv, name, workdir, kernel, initrd, boot_mib, append, vmem_mib=0,
                 meta=None, current_mib=None):
        super().__init__(name, workdir)
        self.lv = lv
        self.console = os.path.join(self.dir, "console.sock")
        self.xml = domain_xml(name, kernel, initrd, self.console, boot_mib, append, vmem_mib,
                              meta, current_mib)
        try:
            self.dom = lv.conn.defineXML(self.xml)
        except BaseException:
            lv.stop()  # domains are defined before a test's own clean-up is in place
            raise
        self.sock = None

    def start(self):
        if os.path.exists(self.console):
            os.unlink(self.console)
        self.dom.create()
        self.t0 = time.monotonic()
        end = time.monotonic() + 30
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(self.console)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)
        self.read_from(self.sock.makefile("rb"))

    def write(self, data):
        self.sock.sendall(data)

    def alive(self):
        try:
            return self.dom.isActive() == 1
        except libvirt.libvirtError:
            return True  # libvirtd restarting: the guest runs on


def held(dom):
    """(balloon, virtio-mem plugged) in bytes, read through libvirt."""
    actual = dom.memoryStats().get("actual", 0) * 1024
    root = ET.fromstring(dom.XMLDesc(0))
    vmem = sum(int(c.text) * 1024 for c in root.findall(
        "./devices/memory[@model='virtio-mem']/target/current"))
    return actual, vmem


class Sampler:
    """Polls what each domain holds twice a second, on a connection of its
    own: [(host time, {name: (balloon, virtio-mem)})]."""

    def __init__(self, lv, names):
        import threading
        self.lv = lv
        self.names = names
        self.samples = []
        self.stop_flag = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        conn = None
        while not self.stop_flag:
            try:
                if conn is None:
                    conn = libvirt.open(self.lv.uri)
                row = {}
                for n in self.names:
                    d = conn.lookupByName(n)
                    if d.isActive():
                        row[n] = held(d)
                self.samples.append((time.monotonic(), row))
            except libvirt.libvirtError:
                conn = None  # libvirtd restarting
            time.sleep(0.5)

    def last(self, name):
        for _, row in reversed(self.samples):
            if name in row:
                return sum(row[name])
        return None

    def close(self):
        self.stop_flag = True
        self.th.join(timeout=5)


def fail(msg, domains=(), daemon=None):
    kvmtest.fail(msg, domains, daemon)
