#!/usr/bin/python3
"""Test fixture: a small xenstore server for dynmem-xen's integration test.

This is NOT a xenstored. No real xenstored runs without a Xen hypervisor, so
the test talks to this stand-in instead, through the real libxenstore
(XENSTORED_PATH points it at our unix socket). It implements the documented
wire protocol (xen/io/xs_wire.h; payloads as in Xen's docs/misc/xenstore.txt)
as far as a dom0 client like dynmem-xen needs it: READ, WRITE, MKDIR, RM,
DIRECTORY, WATCH (with its initial firing), UNWATCH, RESET_WATCHES,
TRANSACTION_START/END (a transaction's writes are kept aside and applied at
its commit; like a real xenstored under contention, a share of commits can
be made to fail with EAGAIN, discarding them), GET_DOMAIN_PATH and
IS_DOMAIN_INTRODUCED. Not implemented: permissions (paths can be made to
answer EACCES instead), quotas, isolation of a transaction's reads.
Everything else gets ENOSYS.

It also simulates guests: each follows its memory/target after a delay (or
never, when stuck) and, when it has an agent, publishes data/meminfo_total,
data/meminfo_free and data/balloon_current_kb (KiB) from a demand schedule.

Standard library only. Run alone for manual tries:
    /usr/bin/python3 xs_fixture.py --socket /tmp/xs.sock --seed seed.json
"""
import json
import os
import random
import socket
import struct
import sys
import threading
import time

# enum xsd_sockmsg_type (xs_wire.h)
XS_CONTROL, XS_DIRECTORY, XS_READ, XS_GET_PERMS, XS_WATCH, XS_UNWATCH = 0, 1, 2, 3, 4, 5
XS_TRANSACTION_START, XS_TRANSACTION_END, XS_INTRODUCE, XS_RELEASE = 6, 7, 8, 9
XS_GET_DOMAIN_PATH, XS_WRITE, XS_MKDIR, XS_RM, XS_SET_PERMS = 10, 11, 12, 13, 14
XS_WATCH_EVENT, XS_ERROR, XS_IS_DOMAIN_INTRODUCED, XS_RESUME, XS_SET_TARGET = 15, 16, 17, 18, 19
XS_RESET_WATCHES, XS_DIRECTORY_PART = 21, 22
HEADER = struct.Struct("<IIII")  # type, req_id, tx_id, len
PAYLOAD_MAX = 4096


class XsError(Exception):
    """An error answered as XS_ERROR with its errno name."""


class Store:
    """The tree: path -> value; parents exist as nodes with empty values."""

    def __init__(self):
        self.lock = threading.RLock()
        self.nodes = {"/": b""}
        self.denied = set()      # path prefixes that answer EACCES
        self.read_only = set()   # paths whose client writes answer EACCES
        self.conns = []          # live connections, for watch events
        self.writes = []         # (time, path, value) of client writes
        self.eagain_share = 0.0  # share of transaction commits that fail with EAGAIN
        self.commits = self.eagains = 0
        self.rng = random.Random(21)

    @staticmethod
    def norm(path):
        if not path.startswith("/"):
            path = "/local/domain/0/" + path
        return path.rstrip("/") or "/"

    def check(self, path):
        for p in self.denied:
            if path == p or path.startswith(p + "/"):
                raise XsError("EACCES")

    def read(self, path):
        with self.lock:
            self.check(path)
            if path not in self.nodes:
                raise XsError("ENOENT")
            return self.nodes[path]

    def write(self, path, value, as_guest=False):
        with self.lock:
            if not as_guest:  # a guest may always write its own keys
                self.check(path)
            parts = path.strip("/").split("/")
            for i in range(1, len(parts)):
                self.nodes.setdefault("/" + "/".join(parts[:i]), b"")
            self.nodes[path] = value
            self.fire(path)

    def mkdir(self, path):
        with self.lock:
            if path not in self.nodes:
                self.write(path, b"")

    def rm(self, path):
        with self.lock:
            self.check(path)
            if path not in self.nodes:
                raise XsError("ENOENT")
            for p in [p for p in self.nodes if p == path or p.startswith(path + "/")]:
                del self.nodes[p]
            self.fire(path)

    def directory(self, path):
        with self.lock:
            self.check(path)
            if path not in self.nodes:
                raise XsError("ENOENT")
            prefix = path.rstrip("/") + "/"
            return sorted({p[len(prefix):].split("/")[0] for p in self.nodes
                           if p.startswith(prefix) and p != prefix})

    def fire(self, path):
        for c in list(self.conns):
            c.fire(path)


class Connection:
    def __init__(self, store, sock):
        self.store, self.sock = store, sock
        self.watches = []
        self.send_lock = threading.Lock()
        self.next_tx = 1
        self.txs = {}  # transaction id -> [(path, value)] written in it

    def send(self, mtype, req_id, tx_id, payload):
        with self.send_lock:
            try:
                self.sock.sendall(HEADER.pack(mtype, req_id, tx_id, len(payload)) + payload)
            except OSError:
                pass

    def fire(self, path):
        for wpath, token in list(self.watches):
            if path == wpath or path.startswith(wpath.rstrip("/") + "/"):
                self.send(XS_WATCH_EVENT, 0, 0, path.encode() + b"\0" + token + b"\0")

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def serve(self):
        try:
            while True:
                mtype, req_id, tx_id, length = HEADER.unpack(self.recv_exact(HEADER.size))
                if length > PAYLOAD_MAX:
                    return
                payload = self.recv_exact(length) if length else b""
                try:
                    rtype, reply = self.handle(mtype, payload, tx_id)
                except XsError as e:
                    rtype, reply = XS_ERROR, str(e).encode() + b"\0"
                self.send(rtype, req_id, tx_id, reply)
                if mtype == XS_WATCH and rtype == XS_WATCH:
                    wpath, token = self.watches[-1]
                    self.send(XS_WATCH_EVENT, 0, 0, wpath.encode() + b"\0" + token + b"\0")
        except (EOFError, OSError, struct.error):
            pass
        finally:
            with self.store.lock:
                if self in self.store.conns:
                    self.store.conns.remove(self)
            self.sock.close()

    def commit(self, tx_id, payload):
        """TRANSACTION_END: "T" commits (or fails with EAGAIN), "F" aborts."""
        s = self.store
        writes = self.txs.pop(tx_id, None)
        if writes is None:
            raise XsError("ENOENT")
        if not payload.startswith(b"T"):
            return
        with s.lock:
            s.commits += 1
            if s.rng.random() < s.eagain_share:
                s.eagains += 1
                raise XsError("EAGAIN")
            for path, value in writes:
                s.write(path, value)
                s.writes.append((time.monotonic(), path, value))

    def handle(self, mtype, payload, tx_id=0):
        s, ok = self.store, b"OK\0"
        args = payload.split(b"\0")
        path = Store.norm(args[0].decode()) if args and args[0] else "/"
        if mtype == XS_READ:
            return mtype, s.read(path)
        if mtype == XS_WRITE:
            path_raw, _, value = payload.partition(b"\0")
            path = Store.norm(path_raw.decode())
            if path in s.read_only:
                raise XsError("EACCES")
            s.check(path)
            if tx_id:
                if tx_id not in self.txs:
                    raise XsError("ENOENT")
                self.txs[tx_id].append((path, value))
                return mtype, ok
            s.write(path, value)
            s.writes.append((time.monotonic(), path, value))
            return mtype, ok
        if mtype == XS_MKDIR:
            s.mkdir(path)
            return mtype, ok
        if mtype == XS_RM:
            s.rm(path)
            return mtype, ok
        if mtype == XS_DIRECTORY:
            return mtype, b"".join(c.encode() + b"\0" for c in s.directory(path))
        if mtype == XS_WATCH:
            self.watches.append((path, args[1]))
            return mtype, ok
        if mtype == XS_UNWATCH:
            self.watches = [w for w in self.watches if w != (path, args[1])]
            return mtype, ok
        if mtype == XS_RESET_WATCHES:
            self.watches = []
            return mtype, ok
        if mtype == XS_TRANSACTION_START:
            self.next_tx += 1
            self.txs[self.next_tx] = []
            return mtype, str(self.next_tx).encode() + b"\0"
        if mtype == XS_TRANSACTION_END:
            self.commit(tx_id, payload)
            return mtype, ok
        if mtype == XS_GET_DOMAIN_PATH:
            return mtype, b"/local/domain/" + args[0] + b"\0"
        if mtype == XS_IS_DOMAIN_INTRODUCED:
            return mtype, b"T\0"
        if mtype in (XS_INTRODUCE, XS_RELEASE, XS_RESUME, XS_SET_TARGET, XS_SET_PERMS):
            return mtype, ok
        raise XsError("ENOSYS")


class Server:
    """Listens on a unix socket; stop() drops every connection (a restart is
    a new Server over the same Store)."""

    def __init__(self, store, path):
        self.store, self.path = store, path
        if os.path.exists(path):
            os.unlink(path)
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(path)
        self.lsock.listen(16)
        self.conns = []
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        while True:
            try:
                sock, _ = self.lsock.accept()
            except OSError:
                return
            c = Connection(self.store, sock)
            with self.store.lock:
                self.store.conns.append(c)
            self.conns.append(c)
            threading.Thread(target=c.serve, daemon=True).start()

    def stop(self):
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()
        for c in self.conns:
            try:
                c.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(timeout=2)
        if os.path.exists(self.path):
            os.unlink(self.path)


class Guest:
    """A simulated domain. demand is a list of (seconds since start, MiB);
    the last entry whose time has come applies (set_demand overrides)."""

    def __init__(self, store, domid, name, static_max_mib, target_mib, demand=((0, 256),),
                 delay=0.1, stuck=False, agent=True):
        self.store, self.domid, self.name = store, domid, name
        self.base = "/local/domain/%d" % domid
        self.actual_kib = target_mib * 1024
        self.schedule, self.delay, self.stuck, self.agent = list(demand), delay, stuck, agent
        self.t0 = time.monotonic()
        self.alive = True
        self.pending = None   # (time the target was seen, target KiB)
        store.write(self.base + "/name", name.encode())
        store.write(self.base + "/memory/static-max", str(static_max_mib * 1024).encode())
        store.write(self.base + "/memory/target", str(target_mib * 1024).encode())
        store.mkdir(self.base + "/data")

    def set_demand(self, mib):
        self.schedule = [(time.monotonic() - self.t0, mib)]

    def ramp(self, frm, to, step, every):
        """Demand from frm to to MiB in steps of step MiB, one every `every` s."""
        now, n = time.monotonic() - self.t0, max(1, abs(to - frm) // step)
        self.schedule = [(now + i * every, frm + (to - frm) * i // n) for i in range(n + 1)]

    def demand_kib(self):
        now = time.monotonic() - self.t0
        mib = self.schedule[0][1]
        for t, m in self.schedule:
            if t <= now:
                mib = m
        return mib * 1024

    def step(self):
        s = self.store
        try:
            target = int(s.nodes.get(self.base + "/memory/target", b"0") or 0)
        except ValueError:
            target = 0
        now = time.monotonic()
        if target and target != self.actual_kib and not self.stuck:
            if self.pending is None or self.pending[1] != target:
                self.pending = (now, target)
            elif now - self.pending[0] >= self.delay:
                self.actual_kib, self.pending = target, None
        if self.agent:
            total = self.actual_kib
            free = max(0, total - self.demand_kib())
            for key, value in (("meminfo_total", total), ("meminfo_free", free),
                               ("balloon_current_kb", self.actual_kib)):
                path = self.base + "/data/" + key
                if s.nodes.get(path) != str(value).encode():
                    s.write(path, str(value).encode(), as_guest=True)

    def destroy(self):
        self.alive = False
        self.store.rm(self.base)


class Guests:
    """Runs every guest's step every 20 ms in one thread."""

    def __init__(self):
        self.list, self.lock, self.running = [], threading.Lock(), True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def add(self, guest):
        with self.lock:
            self.list.append(guest)
        return guest

    def loop(self):
        while self.running:
            with self.lock:
                for g in self.list:
                    if g.alive:
                        with g.store.lock:
                            g.step()
            time.sleep(0.02)

    def stop(self):
        self.running = False
        self.thread.join(timeout=2)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--seed", help="JSON list of guests: {domid, name, static_max_mib, "
                    "target_mib, demand: [[s, MiB], ...], delay, stuck, agent}")
    a = ap.parse_args(argv)
    store, guests = Store(), Guests()
    store.write("/local/domain/0/name", b"Domain-0")
    for g in json.load(open(a.seed)) if a.seed else []:
        guests.add(Guest(store, **g))
    server = Server(store, a.socket)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
        guests.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
