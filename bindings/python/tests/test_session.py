"""The session engines from Python: a host and a guest session talking through
bytes, as tests/common/sesspair.c wires them in C."""
import pytest

import dynmem
from dynmem import EventKind, HostState, SessionFlag

GIB_PAGES = 1 << 18
MIB_PAGES = 1 << 8


class Pair:
    """A VM's memory map, its host session and a guest session with 4 GiB of
    boot memory and a 32 GiB hot-add window at 32 GiB."""

    def __init__(self, **guest_params):
        self.map = dynmem.MemoryMap()
        self.map.add_boot(0, 4 * GIB_PAGES)
        self.map.set_hot_add_window(32 * GIB_PAGES, 32 * GIB_PAGES)
        self.host = dynmem.SessionHost(self.map)
        self.guest = dynmem.SessionGuest(memory=[(0, 4 * GIB_PAGES)], **guest_params)
        self.now = 0

    def pump(self, **kw):
        return dynmem.pump_sessions(self.host, self.guest, self.now, **kw)

    def run(self, ms):
        self.now = dynmem.run_sessions(self.host, self.guest, self.now, self.now + ms)

    def connect(self):
        self.host.open(self.now)
        self.guest.connect(self.now)
        self.pump()
        self.run(50_000)

    def facts(self):
        return [e for e in self.host.events() if e.kind == EventKind.FACT]

    def books_agree(self):
        return (self.map.ballooned.pages == self.guest.ballooned.pages
                and all(self.guest.ballooned.contains(*r) for r in self.map.ballooned))


def test_handshake():
    p = Pair()
    assert p.host.state == HostState.WAIT_CHANNEL
    p.connect()
    assert p.host.state == HostState.IDLE
    assert p.guest.version == dynmem.VERSION_WIN10
    kinds = [e.kind for e in p.host.events()]
    assert EventKind.VERSION in kinds and EventKind.CAPS in kinds and EventKind.READY in kinds
    c = p.host.counters()
    assert c['state'] == HostState.IDLE
    assert c['version'] == dynmem.VERSION_WIN10
    assert c['received'] >= 2 and c['sent'] >= 2 and c['refused'] == 0
    assert p.guest.memory.pages == 4 * GIB_PAGES
    assert not p.guest.ballooned
    ev = p.guest.events()
    assert ev and all(isinstance(e, dynmem.SessionEvent) for e in ev)
    assert ev[0].kind_name == 'VERSION'


def test_params():
    p = Pair()
    h = dynmem.SessionHost(p.map, reply_timeout_ms=5000, post_init_wait_ms=0)
    assert h.get_param('reply_timeout_ms') == 5000
    assert h.params()['post_init_wait_ms'] == 0
    assert dynmem.SessionHost.param_bounds('reply_timeout_ms') == (1, 3_600_000)
    with pytest.raises(dynmem.Error) as e:
        h.set_param('reply_timeout_ms', 0)
    assert e.value.name == 'DYNMEM_ERR_OUT_OF_RANGE'
    with pytest.raises(ValueError):
        h.set_param('no_such_setting', 1)
    with pytest.raises(TypeError):
        dynmem.SessionHost(object())
    g = dynmem.SessionGuest(status_interval_ms=0)
    with pytest.raises(ValueError):
        g.set_param('nope', 1)
    with pytest.raises(TypeError):
        g.add_memory(0, 1.5)


def test_balloon_and_unballoon_round_trip():
    p = Pair(floor_pages=0)
    p.connect()
    p.host.events()
    p.host.set_target(p.now, 3 << 30)
    p.pump()
    assert p.map.pages_of('ballooned') == GIB_PAGES
    assert p.guest.ballooned.pages == GIB_PAGES
    assert p.books_agree()
    facts = p.facts()
    assert sum(f.bytes for f in facts) == 1 << 30
    assert all(f.action_kind == dynmem.ActionKind.BALLOON and f.action_id == 0 for f in facts)
    assert facts[-1].final and not facts[-1].failed
    p.host.start_action(p.now, 'unballoon', 256 << 20, 43)
    p.pump()
    facts = p.facts()
    assert [f.action_id for f in facts] == [43] * len(facts)
    assert sum(f.bytes for f in facts) == 256 << 20
    assert p.map.pages_of('ballooned') == 768 * MIB_PAGES
    assert p.books_agree()


def test_hot_add_round_trip():
    p = Pair()
    p.connect()
    p.host.events()
    p.host.start_action(p.now, dynmem.ActionKind.HOT_ADD, 1 << 30, 7)
    p.pump()
    facts = p.facts()
    assert sum(f.bytes for f in facts) == 1 << 30
    assert facts[-1].final and facts[-1].action_id == 7
    assert p.map.pages_of('added') == GIB_PAGES
    assert p.guest.memory.pages == 5 * GIB_PAGES
    assert p.guest.memory.contains(32 * GIB_PAGES, GIB_PAGES)
    assert p.host.counters()['transactions'] >= 1


def test_reply_timeout():
    p = Pair(status_interval_ms=0)
    p.connect()
    p.host.events()
    p.host.set_param('reply_timeout_ms', 5000)
    t0 = p.now
    p.host.set_target(p.now, 3 << 30)
    p.pump(drop_to_guest=True)           # the guest never hears of it
    assert p.host.state == HostState.BALLOON
    assert p.host.next_deadline() == t0 + 5000
    p.host.tick(t0 + 5000)
    assert p.host.state == HostState.IDLE
    final = [f for f in p.facts() if f.final]
    assert final and final[-1].timed_out and final[-1].failed
    assert final[-1].flags & SessionFlag.TIMED_OUT
    assert p.map.pages_of('ballooned') == 0
    assert p.host.counters()['timeouts'] == 1
    assert p.host.next_deadline() is None


def test_hostile_messages_are_refused():
    p = Pair()
    p.connect()
    p.host.events()
    before = p.host.counters()
    # Not a message at all.
    rc = p.host.recv(b'\x01', p.now)
    assert rc == dynmem.ErrorCode.PROTO_TRUNCATED
    # A balloon response nobody asked for, claiming pages outside the guest.
    wire = dynmem.encode(dynmem.BalloonResponse(ranges=[(100 * GIB_PAGES, 10)]))
    rc = p.host.recv(wire, p.now)
    assert isinstance(rc, dynmem.ErrorCode) and rc != 0
    refused = [e for e in p.host.events() if e.kind == EventKind.REFUSED]
    assert len(refused) == 2
    assert refused[0].error == dynmem.ErrorCode.PROTO_TRUNCATED
    assert refused[1].msg_type == dynmem.MessageType.BALLOON_RESPONSE
    c = p.host.counters()
    assert c['refused'] == before['refused'] + 2
    assert c['received'] == before['received'] + 2
    assert p.map.pages_of('ballooned') == 0
    # Still usable.
    p.host.set_target(p.now, 3 << 30)
    p.pump()
    assert p.map.pages_of('ballooned') == GIB_PAGES


def test_errors_raise():
    p = Pair()
    p.host.open(10)
    with pytest.raises(dynmem.Error) as e:
        p.host.tick(5)
    assert e.value.name == 'DYNMEM_ERR_SESSION_TIME_BACKWARDS'
    with pytest.raises(dynmem.Error):
        p.host.recv(b'\x00' * 8, 5)
    with pytest.raises(dynmem.Error) as e:
        p.host.start_action(20, 'page_in', 4096, 1)
    assert e.value.code == dynmem.ErrorCode.UNSUPPORTED
    with pytest.raises(dynmem.Error):
        p.guest.add_memory(0, 10)          # overlaps its boot memory
    with pytest.raises(ValueError):
        p.host.start_action(20, 'balloon', 0, 1)
    with pytest.raises(TypeError):
        p.host.recv('text', 20)
    with pytest.raises(ValueError):
        p.host.tick(-1)
    with pytest.raises(dynmem.Error):
        dynmem.SessionEvent(kind=EventKind.FACT, time_ms=0).to_pressure_sample()


def test_status_event_to_pressure_sample():
    p = Pair(status_delay_ms=0, committed_pages=GIB_PAGES)
    p.connect()
    status = [e for e in p.host.events() if e.kind == EventKind.STATUS]
    assert len(status) == 1
    ev = status[0]
    assert ev.status.num_committed == GIB_PAGES + 488 * MIB_PAGES
    s = ev.to_pressure_sample()
    assert isinstance(s, dynmem.Sample)
    assert s.time_ms == ev.time_ms
    assert s.committed_bytes == ev.status.num_committed * 4096
    assert s == dynmem.Sample.from_dm_status(ev.time_ms, ev.status.num_committed,
                                             ev.status.num_avail)


def test_balancer_end_to_end():
    """Actions down, facts up: a balancer drives the VM through the host
    session; every fact maps to Balancer.confirm and the books end equal."""
    p = Pair(status_delay_ms=0, floor_pages=0, committed_pages=GIB_PAGES // 2)
    b = dynmem.Balancer(host_total_bytes=16 << 30)
    vm = b.add_vm(startup_bytes=4 << 30, minimum_bytes=1 << 30, maximum_bytes=8 << 30,
                  hot_add_alignment_bytes=128 << 20)
    b.start_vm(vm, now_ms=0)
    p.connect()
    pending = {}
    confirmed = 0
    for sec in range(300):
        if sec == 150:
            p.guest.set_param('committed_pages', 5 * GIB_PAGES)
        p.run(1000)
        for ev in p.host.events():
            if ev.kind == EventKind.STATUS:
                b.sample(vm, ev.to_pressure_sample())
            elif ev.kind == EventKind.FACT and ev.action_id:
                b.confirm(pending[ev.action_id], ev.time_ms, ev.bytes,
                          final=ev.final, failed=ev.failed)
                confirmed += 1
                if ev.final:
                    del pending[ev.action_id]
        for action in b.tick(p.now):
            pending[action.action_id] = action
            p.host.start_action(p.now, action)
        p.pump()
        b.check()
        assert p.books_agree()
    assert confirmed > 1
    c = b.vm_counters(vm)
    assert c['in_flight_bytes'] == 0
    assert c['physical_bytes'] == p.map.bytes_of('current')
    assert c['remove_operations'] > 0 and c['add_operations'] > 0
    assert p.map.pages_of('current') > 5 * GIB_PAGES


def test_resets():
    p = Pair(floor_pages=0)
    p.connect()
    p.host.set_target(p.now, 3 << 30)
    p.pump()
    p.host.events()
    p.host.reset(p.now, 'vmbus')
    p.guest.reset(p.now, dynmem.Reset.VMBUS)
    assert p.host.state == HostState.WAIT_CHANNEL
    assert [e.reset for e in p.host.events() if e.kind == EventKind.RESET] == [dynmem.Reset.VMBUS]
    assert p.map.pages_of('ballooned') == 0 and p.guest.ballooned.pages == 0
    p.host.close(p.now)
    with pytest.raises(ValueError):
        p.host.reset(p.now, 'nope')


def test_model_hooks():
    """Guest model hooks in Python: a silent balloon driver makes the host
    time out; a hot-add hook that adds half reports a partial hot-add."""
    p = Pair(status_interval_ms=0)
    p.connect()
    p.host.events()
    p.host.set_param('reply_timeout_ms', 5000)
    asked = []

    def silent(now_ms, wanted_pages):
        asked.append(wanted_pages)
        return dynmem.SessionGuest.SILENT

    p.guest.set_balloon_hook(silent)
    p.host.set_target(p.now, 3 << 30)
    p.pump()
    assert asked and p.host.state == HostState.BALLOON
    p.host.tick(p.now + 5000)
    assert any(f.timed_out for f in p.facts())
    p.guest.set_balloon_hook(None)

    def half(now_ms, start, count):
        return count // 2, 1

    p.guest.set_hot_add_hook(half)
    p.now += 5000
    p.host.start_action(p.now, 'hot_add', 1 << 30, 9)
    p.pump()
    facts = [f for f in p.facts() if f.action_id == 9]
    assert facts and 0 < sum(f.bytes for f in facts) < 1 << 30
    assert p.guest.memory.pages > 4 * GIB_PAGES


def test_hook_exception_is_raised_again():
    p = Pair()
    p.connect()

    def broken(now_ms, wanted_pages):
        raise RuntimeError('model bug')

    p.guest.set_balloon_hook(broken)
    p.host.set_target(p.now, 3 << 30)
    with pytest.raises(RuntimeError, match='model bug'):
        p.pump()
    with pytest.raises(TypeError):
        p.guest.set_hot_add_hook(42)


def test_guest_settings_read_back():
    g = dynmem.SessionGuest(status_delay_ms=1000)
    assert g.get_param('status_delay_ms') == 1000
    assert g.get_param(dynmem.GuestParam.FLOOR_PAGES) == -1
    assert dynmem.SessionGuest.param_bounds('hot_add_alignment') == (0, 15)
    assert g.params()['negotiation_timeout_ms'] == 5000
    with pytest.raises(dynmem.Error) as e:
        g.set_param('hot_add_alignment', 16)
    assert e.value.code == dynmem.ErrorCode.OUT_OF_RANGE


def test_refusals_carry_the_session_detail():
    """A refused guest message leaves the host's last_error() naming the
    message, what was wrong and the figures; an Error raised by a session
    call carries its handle's detail."""
    p = Pair()
    p.connect()
    p.host.events()
    assert p.host.last_error() == ''
    p.host.set_target(p.now, (4 * GIB_PAGES - 256) << 12)
    assert p.host.state == HostState.BALLOON
    p.host.sends()
    bad = dynmem.encode(dynmem.BalloonResponse(more_pages=True,
                                               ranges=[(8 * GIB_PAGES, 16)]))
    assert p.host.recv(bad, p.now) == dynmem.ErrorCode.PAGES_OUTSIDE
    assert p.host.last_error() == ('BALLOON_RESPONSE: pages 0x200000..0x20000f (16 pages): '
                                   'pages are not guest memory')
    with pytest.raises(dynmem.Error) as e:
        p.host.tick(p.now - 1)
    assert e.value.detail == f"time {p.now - 1} ms is before the session's latest, {p.now} ms"
    with pytest.raises(dynmem.Error) as e:
        p.host.set_param('reply_timeout_ms', 0)
    assert e.value.detail == 'DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS 0 outside 1..3600000'
    p.host.set_param('reply_timeout_ms', 5)
    assert p.host.last_error() == ''

    g = dynmem.SessionGuest(memory=[(0, GIB_PAGES)])
    with pytest.raises(dynmem.Error) as e:
        g.add_memory(1000, 10)
    assert e.value.detail == 'memory pages 0x3e8..0x3f1 (10 pages) overlap memory already added'
    assert g.last_error() == e.value.detail
    assert g.recv(dynmem.encode(dynmem.BalloonRequest(num_pages=1)), 0) == \
        dynmem.ErrorCode.SESSION_CLOSED
    assert 'while the channel is closed' in g.last_error()
