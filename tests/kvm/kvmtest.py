"""Pieces of the KVM example's real-guest tests: the guest kernel, the
initramfs, QEMU under TCG, a small QMP client and dynmem-kvm itself.
Python standard library only. Every wait has a deadline; QEMU and the daemon
are killed when the test ends, whatever happens."""
import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

MODULES = ["virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev",
           "virtio_pci", "virtio_balloon", "virtio_mem"]
MIB = 1 << 20


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def fetch_kernel(srcdir):
    out = subprocess.run([os.path.join(srcdir, "scripts", "fetch-guest-kernel")],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        sys.exit("fetch-guest-kernel failed: " + out.stderr)
    root = out.stdout.strip().splitlines()[-1]
    vmlinuz = sorted(p for p in os.listdir(os.path.join(root, "boot")) if p.startswith("vmlinuz-"))
    release = vmlinuz[0][len("vmlinuz-"):]
    return (os.path.join(root, "boot", vmlinuz[0]),
            os.path.join(root, "lib", "modules", release, "kernel", "drivers", "virtio"))


def prepare(name):
    """Command line (DYNMEM_KVM SRCDIR WORKDIR), work folder, kernel and
    initramfs: (exe, workdir, kernel, initrd, start time)."""
    exe, srcdir, workdir = sys.argv[1:4]
    workdir = os.path.join(workdir, name)
    os.makedirs(workdir, exist_ok=True)
    t_start = time.monotonic()
    kernel, moddir = fetch_kernel(srcdir)
    initrd = build_initramfs(workdir, srcdir, moddir)
    log("kernel %s, initramfs ready in %.1f s" % (kernel, time.monotonic() - t_start))
    return exe, workdir, kernel, initrd, t_start


def _cpio_entry(name, mode, data=b"", rdev=(0, 0)):
    name_b = name.encode() + b"\0"
    fields = [0, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
    hdr = b"070701" + b"".join(b"%08x" % f for f in fields)
    out = hdr + name_b
    out += b"\0" * (-len(out) % 4)
    out += data + b"\0" * (-len(data) % 4)
    return out


def build_initramfs(workdir, srcdir, moddir):
    """busybox + modules + memhog (gcc -static) as a gzipped newc cpio."""
    here = os.path.join(srcdir, "tests", "kvm")
    memhog = os.path.join(workdir, "memhog")
    subprocess.run(["gcc", "-O2", "-static", "-o", memhog, os.path.join(here, "memhog.c")],
                   check=True, timeout=120)
    busybox = shutil.which("busybox") or "/bin/busybox"
    parts = []
    for d in ["bin", "sbin", "dev", "proc", "sys", "modules", "usr", "usr/bin", "usr/sbin"]:
        parts.append(_cpio_entry(d, 0o040755))
    parts.append(_cpio_entry("dev/console", 0o020600, rdev=(5, 1)))
    parts.append(_cpio_entry("bin/busybox", 0o100755, open(busybox, "rb").read()))
    parts.append(_cpio_entry("init", 0o100755, open(os.path.join(here, "init.sh"), "rb").read()))
    parts.append(_cpio_entry("memhog", 0o100755, open(memhog, "rb").read()))
    for m in MODULES:
        parts.append(_cpio_entry("modules/%s.ko" % m, 0o100644,
                                 open(os.path.join(moddir, m + ".ko"), "rb").read()))
    parts.append(_cpio_entry("TRAILER!!!", 0))
    path = os.path.join(workdir, "initramfs.cpio.gz")
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(b"".join(parts))
    return path


class Console:
    """A guest's serial console: lines are timestamped as they arrive (from
    any byte stream), memhog's samples and OOM kills are read from them,
    and "next" lines written to it pace memhog's phases."""

    def __init__(self, name, workdir):
        self.name = name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.lines = []  # (host time, text)
        self.serial = open(os.path.join(self.dir, "serial.log"), "w")
        self.t0 = time.monotonic()

    def read_from(self, stream):
        """Reads lines from @stream in a thread until it ends."""
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for raw in stream:
            t = time.monotonic()
            text = raw.decode(errors="replace").rstrip("\r\n")
            self.lines.append((t, text))
            self.serial.write("%8.2f %s\n" % (t - self.t0, text))
            self.serial.flush()

    def write(self, data):
        raise NotImplementedError

    def alive(self):
        return True

    def next_phase(self):
        """Ends memhog's current "wait" phase (a line on the serial console)."""
        self.write(b"next\n")

    def wait_line(self, pattern, timeout):
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < end:
            for t, text in self.lines[seen:]:
                if rx.search(text):
                    return t, text
            seen = len(self.lines)
            if not self.alive():
                break
            time.sleep(0.1)
        sys.exit("%s: no serial line matching %r within %ds" % (self.name, pattern, timeout))

    def hog_samples(self):
        """[(host time, dict)] from MEMHOG lines."""
        out = []
        for t, text in list(self.lines):
            if text.startswith("MEMHOG up="):
                try:
                    kv = dict(f.split("=", 1) for f in text.split()[1:])
                    out.append((t, {k: float(v) for k, v in kv.items()}))
                except ValueError:
                    pass  # a line garbled by console input
        return out

    def oom_lines(self):
        return [text for _, text in self.lines
                if "Out of memory" in text or "oom-kill" in text or "MEMHOG_EXIT" in text]


class Guest(Console):
    """One QEMU under TCG, its serial console on stdio."""

    def __init__(self, name, workdir, kernel, initrd, mem_mib, append, vmem=None):
        super().__init__(name, workdir)
        self.qmp_daemon = os.path.join(self.dir, "qmp-daemon.sock")
        self.qmp_test = os.path.join(self.dir, "qmp-test.sock")
        self.pidfile = os.path.join(self.dir, "qemu.pid")
        for p in (self.qmp_daemon, self.qmp_test, self.pidfile):
            if os.path.exists(p):
                os.unlink(p)
        mem = "%dM" % mem_mib
        cmd = ["qemu-system-x86_64", "-machine", "q35,accel=tcg", "-smp", "1"]
        if vmem:
            cmd += ["-m", mem + ",maxmem=%dM,slots=2" % (mem_mib + vmem),
                    "-object", "memory-backend-ram,id=vmem0mem,size=%dM" % vmem,
                    "-device", "virtio-mem-pci,id=vmem0,memdev=vmem0mem,block-size=2M"]
        else:
            cmd += ["-m", mem]
        cmd += ["-kernel", kernel, "-initrd", initrd,
                "-append", "console=ttyS0 quiet " + append,
                "-nographic", "-no-reboot", "-nic", "none",
                "-device", "virtio-balloon-pci,id=balloon0",
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_daemon,
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_test,
                "-pidfile", self.pidfile]
        self.cmdline = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.t0 = time.monotonic()
        self.read_from(self.proc.stdout)

    def write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


class Qmp:
    def __init__(self, path, timeout=10):
        end = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.settimeout(10)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)
        self.f = self.s.makefile("rwb")
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg).encode() + b"\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError("%s: %s" % (name, r["error"]))

    def close(self):
        for o in (self.f, self.s):  # the socket closes only once its file is closed too
            try:
                o.close()
            except OSError:
                pass


class Faulty:
    """A unix-socket server a test can cut ("cut": connections closed, new
    ones refused), stall ("stall": nothing answered, nothing closed, new
    connections accepted and left silent) and restore ("open"). A subclass
    serves each accepted connection in serve(conn), on its own thread."""

    def __init__(self, path):
        self.path, self.mode = path, "open"
        self.lock = threading.Lock()
        self.socks = []
        self._listen()

    def _listen(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.lsock = socket.socket(socket.AF_UNIX)
        self.lsock.bind(self.path)
        self.lsock.listen(4)
        threading.Thread(target=self._accept, args=(self.lsock,), daemon=True).start()

    def _accept(self, lsock):
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            self.track(c)
            if self.mode == "open":
                threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def track(self, sock):
        with self.lock:
            self.socks.append(sock)

    def held_up(self):
        """Waits while stalled; False once the connection is to end."""
        while self.mode == "stall":
            time.sleep(0.05)
        return self.mode == "open"

    def _unlisten(self):
        try:  # wakes the thread blocked in accept(); close() alone would not
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()

    def _drop_all(self):
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self):
        """Close every connection; refuse new ones (the socket file stays)."""
        self.mode = "cut"
        self._unlisten()
        self._drop_all()

    def stall(self):
        """Answer nothing, close nothing."""
        self.mode = "stall"

    def restore(self):
        if self.mode == "cut":
            self._listen()
        elif self.mode == "stall":
            self._drop_all()  # what was held up is stale by now
        self.mode = "open"

    def close(self):
        self.mode = "cut"
        self._unlisten()
        self._drop_all()


class Proxy(Faulty):
    """Relays dynmem-kvm's QMP connections to a QEMU's QMP socket, with the
    faults of Faulty."""

    def __init__(self, path, target):
        self.target = target
        super().__init__(path)

    def serve(self, c):
        up = socket.socket(socket.AF_UNIX)
        try:
            up.connect(self.target)
        except OSError:
            c.close()
            return
        self.track(up)
        threading.Thread(target=self._pump, args=(up, c), daemon=True).start()
        self._pump(c, up)

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data or not self.held_up():
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def wait_for(cond, timeout, step=0.5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


class Sampler:
    """Polls query-balloon (and virtio-mem's size) twice a second."""

    def __init__(self, guest, vmem=False):
        self.q = Qmp(guest.qmp_test)
        self.vmem = vmem
        self.samples = []  # (host time, actual bytes, vmem size bytes)
        self.stop = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        while not self.stop:
            try:
                a = self.q.cmd("query-balloon")["actual"]
                v = self.q.cmd("qom-get", path="/machine/peripheral/vmem0",
                               property="size") if self.vmem else 0
            except (OSError, ValueError, RuntimeError):
                return
            self.samples.append((time.monotonic(), a, v))
            time.sleep(0.5)

    def close(self):
        self.stop = True
        self.th.join(timeout=5)
        self.q.close()


class Daemon:
    def __init__(self, exe, workdir, args, name="dynmem-kvm"):
        self.name = name
        self.path = os.path.join(workdir, name + ".log")
        self.out = open(self.path, "w")
        self.proc = subprocess.Popen([exe] + args, stdout=self.out, stderr=subprocess.STDOUT)

    def text(self):
        return open(self.path).read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def fail(msg, guests=(), daemon=None):
    print("FAIL:", msg, flush=True)
    for g in guests:
        print("---- %s serial (last 30 lines)" % g.name)
        for _, text in g.lines[-30:]:
            print(text)
    if daemon:
        print("---- %s log (last 40 lines)" % daemon.name)
        print("\n".join(daemon.text().splitlines()[-40:]))
    sys.exit(1)


# The balancer leaves differences below its deadband (MiB) alone.
DEADBAND = 32


def last_demand(text, name):
    """The demand (MiB) of a guest's latest statistics sample in a daemon's
    --verbose log, or None."""
    found = re.findall(r"%s: stats: .* demand (\d+) MiB" % re.escape(name), text)
    return int(found[-1]) if found else None


def expected_split(demands, weights, buffer, minimum, maximum, host):
    """What docs/policies.md's dynmem rule entitles each of two guests to
    (MiB): want = demand x (1 + buffer %), capped at the maximum; when the
    wants exceed the host, the buffers are cut so that cut x weight is the
    same for both, and a cut never takes a guest below its demand."""
    def up2(x):
        return -(-x // 2) * 2
    want = {n: min(maximum, up2(d * (100 + buffer) // 100)) for n, d in demands.items()}
    room = {n: want[n] - max(minimum, demands[n]) for n in want}
    cut = max(0, sum(want.values()) - host)
    total_w = sum(weights.values())
    # Each cut is proportional to the other's weight; a cut larger than
    # that guest's buffer leaves the rest to the other.
    c = {n: cut * (total_w - weights[n]) / total_w for n in want}
    a, b = list(want)
    for n, m in ((a, b), (b, a)):
        if c[n] > room[n]:
            c[m] += c[n] - room[n]
            c[n] = room[n]
    return {n: want[n] - c[n] for n in want}


def within_deadband(held_bytes, expect_mib):
    """A holding within the deadband (and a 2 MiB rounding) of the rule's."""
    return abs(held_bytes / MIB - expect_mib) <= DEADBAND + 2


def split_reached(text, held, weights, buffer, minimum, maximum, host):
    """Every guest holds what the weights entitle it to (within the
    deadband), given its latest demand in a daemon's --verbose log; @held
    maps each guest to the bytes it holds now, or None before a reading."""
    demands = {n: last_demand(text, n) for n in weights}
    if None in demands.values() or None in held.values():
        return False
    expect = expected_split(demands, weights, buffer, minimum, maximum, host)
    return all(within_deadband(held[n], expect[n]) for n in weights)
