"""A minimal host around a dynmem.Balancer, as tests/common/balsim.c: each
VM has a demand the test sets; a step feeds every running VM a report at
the current time, ticks, and plays a cooperative backend for every action
(does everything asked, at once). The test's own ledger of each VM's
physical memory is checked against the balancer's books every step."""
import dynmem

MIB = 1 << 20
GIB = 1 << 30


class BalSim:
    """A host of ``total`` bytes running a balancer with ``policy``."""

    def __init__(self, total, policy):
        self.b = dynmem.Balancer(host_total_bytes=total, policy=policy)
        self.now = 1000
        self.vms = []          # [vm_id, demand, ledger, running]
        self.violations = 0
        self.ledger_mismatches = 0
        self.log = []

    def add(self, startup, minimum, maximum, weight=5000):
        """Register a VM; return its index."""
        vm_id = self.b.add_vm(startup_bytes=startup, minimum_bytes=minimum,
                              maximum_bytes=maximum, weight=weight)
        self.vms.append({'id': vm_id, 'demand': 0, 'ledger': 0, 'running': False})
        return len(self.vms) - 1

    def start(self, i):
        """Start VM i."""
        v = self.vms[i]
        self.b.start_vm(v['id'], self.now)
        v['running'] = True
        v['ledger'] = self.counters(i)['physical_bytes']

    def counters(self, i):
        """VM i's counters."""
        return self.b.vm_counters(self.vms[i]['id'])

    def _check(self):
        try:
            self.b.check()
        except dynmem.Error:
            self.violations += 1

    def step(self):
        """One second: reports, tick, backend."""
        self.now += 1000
        for v in self.vms:
            if v['running']:
                self.b.sample(v['id'], time_ms=self.now, committed_bytes=v['demand'])
        actions = self.b.tick(self.now)
        self._check()
        by_id = {v['id']: v for v in self.vms}
        for a in actions:
            self.log.append(f't={self.now} {a}')
            self.b.confirm(a, self.now, a.bytes)
            v = by_id[a.vm_id]
            if a.kind in (dynmem.ActionKind.UNBALLOON, dynmem.ActionKind.HOT_ADD,
                          dynmem.ActionKind.PAGE_IN):
                v['ledger'] += a.bytes
            else:
                v['ledger'] -= a.bytes
            self._check()
        for i, v in enumerate(self.vms):
            if v['running'] and self.counters(i)['physical_bytes'] != v['ledger']:
                self.ledger_mismatches += 1

    def run(self, seconds):
        """seconds steps."""
        for _ in range(seconds):
            self.step()
