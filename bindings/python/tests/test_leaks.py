"""No leak: 100 000 creations of every class (and codec round trips) keep
the resident set bounded. The C handles are freed by ffi.gc as soon as the
last reference goes."""
import gc

import dynmem

N = 100_000


def rss_kib():
    """VmRSS of this process, KiB, from /proc/self/status."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS in /proc/self/status')


def churn(n):
    """Create and drop n objects of every class, with some state in each."""
    wire = dynmem.encode(dynmem.BalloonResponse(ranges=[(1, 2), (10, 3)]))
    for i in range(n):
        s = dynmem.PageSet()
        s.add(i, 3)
        s.add(i + 10, 1)
        m = dynmem.MemoryMap()
        m.add_boot(0, 1000)
        m.balloon_record(5, 5)
        view = m.ballooned
        h = dynmem.SessionHost(m, reply_timeout_ms=1000)
        h.open(i)
        g = dynmem.SessionGuest(memory=[(0, 1000)])
        g.connect(i)
        h.recv(g.next_send(), i)
        h.recv(b'\x01', i)               # a refusal queues an event
        ev = h.next_event()
        books = g.memory
        p = dynmem.PressureEstimator()
        p.add_sample(time_ms=i, committed_bytes=1 << 20)
        b = dynmem.Balancer(host_total_bytes=8 << 30)
        b.add_vm(startup_bytes=1 << 30, minimum_bytes=1 << 29, maximum_bytes=2 << 30)
        msg = dynmem.decode(wire)
        dynmem.encode(msg)
        try:
            dynmem.decode(b'\x00')
        except dynmem.Error:
            pass
        del s, m, view, h, g, ev, books, p, b, msg


def test_no_leak_over_100k_creations():
    churn(5_000)                      # warm up the allocators and caches
    gc.collect()
    before = rss_kib()
    churn(N)
    gc.collect()
    growth = rss_kib() - before
    # A leak of even one small C object per iteration would be >= 3 MiB here
    # (the balancer's handle alone is far larger).
    assert growth < 3 * 1024, f'RSS grew by {growth} KiB over {N} iterations'
