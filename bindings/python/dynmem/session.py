"""Protocol sessions (dynmem/session.h): the host end (VSP, one per VM) and
the guest end (VSC) of Hyper-V Dynamic Memory as state machines that do no
I/O.

A session never reads a socket or a clock: hand it every packet the peer
sent with ``recv(data, now_ms)``, send what ``next_send()`` returns, call
``tick(now_ms)`` no later than ``next_deadline()``, and read what happened
with ``next_event()`` (or ``events()``). Times are milliseconds of a
monotonic clock the caller chooses.
"""
import enum
import weakref
from dataclasses import dataclass
from typing import Optional

from ._ffi import ffi, lib
from ._handle import ParamAccess
from ._util import c_enum, enum_or_int, i64, integer, param, u32, u64, byteslike, new_sized, \
    struct_dict
from .balancer import ActionKind
from .errors import ErrorCode, check
from .memmap import MemoryMap
from .pages import PageSetView
from .pressure import Sample

HostState = c_enum('HostState', 'enum dynmem_session_host_state', 'DYNMEM_SESSION_HOST_',
                   'States of a host session (enum dynmem_session_host_state): WAIT_CHANNEL, '
                   'VERSION, CAPS, POST_INIT, IDLE, BALLOON, UNBALLOON, HOT_ADD, HOT_REMOVE.')
Reset = c_enum('Reset', 'enum dynmem_session_reset', 'DYNMEM_SESSION_RESET_',
               'Kinds of reset (enum dynmem_session_reset): VMBUS (the channel) and SYSTEM '
               '(a reboot).')
HostParam = c_enum('HostParam', 'enum dynmem_session_host_param', 'DYNMEM_SESSION_HOST_PARAM_',
                   'Settings of a host session (enum dynmem_session_host_param); also accepted '
                   'as lower-case names such as "reply_timeout_ms".')
GuestParam = c_enum('GuestParam', 'enum dynmem_session_guest_param', 'DYNMEM_SESSION_GUEST_PARAM_',
                    'Settings of a guest session (enum dynmem_session_guest_param); also '
                    'accepted as lower-case names such as "status_delay_ms".')
EventKind = c_enum('EventKind', 'enum dynmem_session_event_kind', 'DYNMEM_SESSION_EVENT_',
                   'Kinds of session event (enum dynmem_session_event_kind): FACT, STATUS, '
                   'REFUSED, VERSION, CAPS, READY, RESET, INFO, FAILED.')
SessionFlag = c_enum('SessionFlag', None, 'DYNMEM_SESSION_FLAG_',
                     'Bits of SessionEvent.flags (DYNMEM_SESSION_FLAG_*): FINAL, FAILED, '
                     'TIMED_OUT, PARTIAL, CLAMPED, PERMANENT, RESET.', base=enum.IntFlag)

_EVENT = 'struct dynmem_session_event'
_STATUS_FIELDS = ('num_avail', 'num_committed', 'page_file_size', 'zero_free',
                  'page_file_writes', 'io_diff')


@dataclass(frozen=True)
class SessionStatus:
    """Figures of a guest status report, in 4 KiB pages as on the wire
    (struct dynmem_session_status)."""
    num_avail: int = 0
    num_committed: int = 0
    page_file_size: int = 0
    zero_free: int = 0
    page_file_writes: int = 0
    io_diff: int = 0


@dataclass(frozen=True)
class SessionEvent:
    """One event of a session (struct dynmem_session_event).

    ``kind`` is an EventKind and ``kind_name`` the library's name of it
    (e.g. 'FACT'); ``flags`` a SessionFlag. FACT events carry
    ``action_kind``, ``action_id``, ``bytes`` and, when final,
    ``requested_bytes``; STATUS events ``status``; REFUSED and FAILED events
    ``error`` (an ErrorCode) and ``msg_type``; VERSION ``version``; CAPS
    ``caps``; RESET ``reset``; INFO ``bytes`` (the maximum size).
    """
    kind: int
    time_ms: int
    flags: int = 0
    action_kind: int = 0
    action_id: int = 0
    bytes: int = 0
    requested_bytes: int = 0
    error: int = 0
    msg_type: int = 0
    version: int = 0
    reset: int = 0
    caps: int = 0
    status: SessionStatus = SessionStatus()

    @classmethod
    def _from_c(cls, ev):
        return cls(kind=enum_or_int(EventKind, ev.kind), time_ms=ev.time_ms,
                   flags=SessionFlag(ev.flags), action_kind=enum_or_int(ActionKind, ev.action_kind),
                   action_id=ev.action_id, bytes=ev.bytes, requested_bytes=ev.requested_bytes,
                   error=enum_or_int(ErrorCode, ev.error) if ev.error else 0,
                   msg_type=ev.msg_type, version=ev.version,
                   reset=enum_or_int(Reset, ev.reset) if ev.reset else 0, caps=ev.caps,
                   status=SessionStatus(**{n: getattr(ev.status, n) for n in _STATUS_FIELDS}))

    def _to_c(self):
        ev = new_sized(_EVENT)
        for name in ('kind', 'flags', 'action_kind', 'msg_type', 'version', 'reset'):
            setattr(ev, name, u32(name, int(getattr(self, name))))
        for name in ('time_ms', 'action_id', 'bytes', 'requested_bytes', 'caps'):
            setattr(ev, name, u64(name, getattr(self, name)))
        ev.error = integer('error', int(self.error), -(1 << 31), 0)
        for name in _STATUS_FIELDS:
            setattr(ev.status, name, int(getattr(self.status, name)))
        return ev

    @property
    def kind_name(self):
        """The library's name of the kind, e.g. 'FACT'; 'unknown' for a kind
        newer than the library (dynmem_session_event_kind_name)."""
        return ffi.string(lib.dynmem_session_event_kind_name(u32('kind', int(self.kind)))).decode()

    @property
    def final(self):
        """True when the transaction or action is over (FINAL)."""
        return bool(self.flags & SessionFlag.FINAL)

    @property
    def failed(self):
        """True when it ended in failure (FAILED)."""
        return bool(self.flags & SessionFlag.FAILED)

    @property
    def timed_out(self):
        """True when it ended because the guest did not answer in time."""
        return bool(self.flags & SessionFlag.TIMED_OUT)

    def to_pressure_sample(self):
        """The pressure Sample of a STATUS event
        (dynmem_session_event_to_pressure_sample); Error INVALID_ARGUMENT for
        another kind."""
        s = ffi.new('struct dynmem_pressure_sample *')
        check(lib.dynmem_pressure_sample_init(s, ffi.sizeof('struct dynmem_pressure_sample')),
              'dynmem_pressure_sample_init')
        check(lib.dynmem_session_event_to_pressure_sample(s, self._to_c()),
              'dynmem_session_event_to_pressure_sample')
        return Sample._from_c(s)

    def __repr__(self):
        extra = {EventKind.FACT: f' {self.action_kind!s} id={self.action_id} bytes={self.bytes}',
                 EventKind.REFUSED: f' error={self.error!s} msg_type={self.msg_type:#x}',
                 EventKind.FAILED: f' error={self.error!s}',
                 EventKind.VERSION: f' version={self.version:#x}',
                 EventKind.CAPS: f' caps={self.caps:#x}',
                 EventKind.INFO: f' bytes={self.bytes}',
                 EventKind.STATUS: f' committed={self.status.num_committed}'
                                   f' avail={self.status.num_avail}'}.get(self.kind, '')
        return f'<SessionEvent {self.kind_name} t={self.time_ms}{extra} flags={self.flags!s}>'


def _reset_kind(kind):
    return param(Reset, kind)


class _Session:
    """Common part of the host and guest sessions: bytes in and out, time, events."""
    _FUNCTIONS = ()  # the C functions of the side, e.g. 'dynmem_session_host_recv'

    def _fn(self, name):
        full = next(f for f in self._FUNCTIONS if f.endswith('_' + name))
        return getattr(lib, full), full

    def recv(self, data, now_ms):
        """Hand over one packet the peer sent (exactly one message). Return 0
        if it was taken, or the ErrorCode naming why it was refused (the
        session stays usable; the refusal is counted and queued as a REFUSED
        event, and last_error() says what was wrong with the figures). Raise Error for a call that changes nothing (time going
        backwards)."""
        data = byteslike('data', data)
        now = u64('now_ms', now_ms)
        fn, name = self._fn('recv')
        rc = fn(self._handle, now, data, len(data))
        self._raise_hook_error()
        if rc in (lib.DYNMEM_ERR_INVALID_ARGUMENT, lib.DYNMEM_ERR_SESSION_TIME_BACKWARDS):
            self._check(rc, name)
        return enum_or_int(ErrorCode, rc) if rc else 0

    def _raise_hook_error(self):
        pass

    def next_send(self):
        """The next packet to send to the peer as bytes, or None if there is none."""
        buf = ffi.new('unsigned char[]', lib.DYNMEM_PROTO_MSG_SIZE_MAX)
        out_len = ffi.new('size_t *')
        fn, name = self._fn('next_send')
        rc = fn(self._handle, buf, len(buf), out_len)
        self._raise_hook_error()
        if self._check(rc, name) == 0:
            return None
        return bytes(ffi.buffer(buf, out_len[0]))

    def sends(self):
        """Every packet queued for the peer, as a list of bytes."""
        out = []
        while (p := self.next_send()) is not None:
            out.append(p)
        return out

    def tick(self, now_ms):
        """Let time pass: fire the timers that are due."""
        fn, name = self._fn('tick')
        rc = fn(self._handle, u64('now_ms', now_ms))
        self._raise_hook_error()
        self._check(rc, name)

    def next_deadline(self):
        """When the session next needs tick(), in ms, or None if no timer is armed."""
        out = ffi.new('uint64_t *')
        fn, name = self._fn('next_deadline')
        return out[0] if check(fn(self._handle, out), name) == 1 else None

    def next_event(self):
        """The next SessionEvent, or None if the queue is empty."""
        ev = new_sized(_EVENT)
        fn, name = self._fn('next_event')
        if self._check(fn(self._handle, ev), name) == 0:
            return None
        return SessionEvent._from_c(ev)

    def events(self):
        """Every queued event, as a list of SessionEvent."""
        out = []
        while (ev := self.next_event()) is not None:
            out.append(ev)
        return out

    def reset(self, now_ms, kind):
        """A reset of kind ``kind`` (a Reset or its name, 'vmbus' or 'system')."""
        fn, name = self._fn('reset')
        self._check(fn(self._handle, u64('now_ms', now_ms), _reset_kind(kind)), name)


class SessionHost(ParamAccess, _Session):
    """The host (VSP) session of one VM (dynmem_session_host), freed by the
    garbage collector.

    ``memory_map`` is the VM's MemoryMap with its boot memory (and hot-add
    window) described; the session keeps it alive and records every fact in
    it, so read it but do not change it while the session exists. Settings
    can be given as keyword arguments (``reply_timeout_ms``,
    ``post_init_wait_ms``, ``version_max``, ...; see HostParam).
    """
    _PARAM = HostParam
    _PREFIX = 'dynmem_session_host'
    _CTYPE = 'dynmem_session_host'
    _FUNCTIONS = ('dynmem_session_host_recv', 'dynmem_session_host_next_send',
                  'dynmem_session_host_tick', 'dynmem_session_host_next_deadline',
                  'dynmem_session_host_next_event', 'dynmem_session_host_reset')

    def __init__(self, memory_map, **params):
        if not isinstance(memory_map, MemoryMap):
            raise TypeError(f'memory_map must be a dynmem.MemoryMap, not '
                            f'{type(memory_map).__name__}')
        out = ffi.new('dynmem_session_host **')
        check(lib.dynmem_session_host_new(out, memory_map._m, ffi.NULL),
              'dynmem_session_host_new')
        self._handle = ffi.gc(out[0], lib.dynmem_session_host_free)
        self.memory_map = memory_map  # the map must outlive the session
        for name, value in params.items():
            self.set_param(name, value)

    def open(self, now_ms):
        """The guest opened the channel: negotiation starts."""
        self._check(lib.dynmem_session_host_open(self._handle, u64('now_ms', now_ms)),
              'dynmem_session_host_open')

    def close(self, now_ms):
        """The channel closed: a transaction in flight ends (FINAL, FAILED, RESET)."""
        self._check(lib.dynmem_session_host_close(self._handle, u64('now_ms', now_ms)),
              'dynmem_session_host_close')

    def set_target(self, now_ms, target_bytes):
        """Aim for a guest size in bytes (the map's CURRENT figure); facts carry action_id 0."""
        self._check(lib.dynmem_session_host_set_target(self._handle, u64('now_ms', now_ms),
                                                 u64('target_bytes', target_bytes)),
              'dynmem_session_host_set_target')

    def clear_target(self):
        """Stop aiming for a target (a transaction in flight still ends normally)."""
        self._check(lib.dynmem_session_host_clear_target(self._handle),
              'dynmem_session_host_clear_target')

    def start_action(self, now_ms, kind, nbytes=None, action_id=None):
        """Carry out one action: a balancer Action (``start_action(now, action)``),
        or a kind (ActionKind or its name, e.g. 'balloon'), bytes and an id.
        Its facts carry the id; the last one is FINAL."""
        from .balancer import Action
        if isinstance(kind, Action):
            if nbytes is not None or action_id is not None:
                raise TypeError('give either an Action or kind, bytes and action_id')
            kind, nbytes, action_id = kind.kind, kind.bytes, kind.action_id
        elif nbytes is None:
            raise TypeError('start_action needs the bytes to move')
        kind = param(ActionKind, kind.replace('-', '_') if isinstance(kind, str) else kind)
        self._check(lib.dynmem_session_host_start_action(
            self._handle, u64('now_ms', now_ms), kind, integer('bytes', nbytes, 1, (1 << 64) - 1),
            u64('action_id', 0 if action_id is None else action_id)),
            'dynmem_session_host_start_action')

    def counters(self):
        """The counters as a dict (struct dynmem_session_host_counters' fields;
        ``state`` as a HostState)."""
        c = new_sized('struct dynmem_session_host_counters')
        check(lib.dynmem_session_host_counters(self._handle, c), 'dynmem_session_host_counters')
        d = struct_dict(c, 'struct dynmem_session_host_counters')
        d['state'] = enum_or_int(HostState, c.state)
        return d

    @property
    def state(self):
        """The current HostState."""
        return enum_or_int(HostState, check(lib.dynmem_session_host_state(self._handle),
                                            'dynmem_session_host_state'))


class SessionGuest(ParamAccess, _Session):
    """A guest (VSC) session (dynmem_session_guest) with the default,
    Linux-like model, freed by the garbage collector.

    Settings can be given as keyword arguments (``status_delay_ms``,
    ``committed_pages``, ``floor_pages``, ...; see GuestParam), and read or
    changed later with get_param(), set_param(), param_bounds() and
    params(). ``memory`` gives boot memory as (start, count) page ranges.
    """
    _PARAM = GuestParam
    _PREFIX = 'dynmem_session_guest'
    _CTYPE = 'dynmem_session_guest'
    _FUNCTIONS = ('dynmem_session_guest_recv', 'dynmem_session_guest_next_send',
                  'dynmem_session_guest_tick', 'dynmem_session_guest_next_deadline',
                  'dynmem_session_guest_next_event', 'dynmem_session_guest_reset')

    def __init__(self, memory=(), **params):
        out = ffi.new('dynmem_session_guest **')
        check(lib.dynmem_session_guest_new(out, ffi.NULL), 'dynmem_session_guest_new')
        self._handle = ffi.gc(out[0], lib.dynmem_session_guest_free)
        # user_data of the model hooks: a weak reference, so no cycle keeps
        # the session alive.
        self._self = ffi.new_handle(weakref.ref(self))
        self._balloon_hook = self._hot_add_hook = self._hook_error = None
        for name, value in params.items():
            self.set_param(name, value)
        for r in memory:
            self.add_memory(*r)

    def add_memory(self, start, count):
        """Give the guest memory it booted with (pages)."""
        self._check(lib.dynmem_session_guest_add_memory(self._handle, u64('start', start),
                                                  integer('count', count, 1, (1 << 64) - 1)),
              'dynmem_session_guest_add_memory')

    def set_balloon_hook(self, fn):
        """Model hook choosing what to balloon out (None restores the default).

        ``fn(now_ms, wanted_pages)`` returns a (start, count) page range to
        give (any range: the engine only books pages it really has free),
        None when nothing more can be given now, or SessionGuest.SILENT to
        send no response at all. An exception in the hook makes the guest
        stay silent and is raised again from the call that ran the
        hook (recv(), next_send() or tick())."""
        self._set_hook('_balloon_hook', fn, lib.dynmem_session_guest_set_balloon_fn,
                       lib._dynmem_py_balloon_hook, 'dynmem_session_guest_set_balloon_fn')

    def set_hot_add_hook(self, fn):
        """Model hook answering a hot-add (None restores the default: add everything).

        ``fn(now_ms, start, count)`` returns (added_pages, result) with the
        wire result 1 for success (with 0 pages: permanent failure) or 0
        for a transient failure, or SessionGuest.SILENT to stay silent.
        Exceptions are handled as for set_balloon_hook()."""
        self._set_hook('_hot_add_hook', fn, lib.dynmem_session_guest_set_hot_add_fn,
                       lib._dynmem_py_hot_add_hook, 'dynmem_session_guest_set_hot_add_fn')

    def _set_hook(self, attr, fn, setter, callback, name):
        if fn is not None and not callable(fn):
            raise TypeError(f'the hook must be callable or None, not {type(fn).__name__}')
        self._check(setter(self._handle, ffi.NULL if fn is None else callback,
                     ffi.NULL if fn is None else self._self), name)
        setattr(self, attr, fn)

    def _raise_hook_error(self):
        err, self._hook_error = self._hook_error, None
        if err is not None:
            raise err

    def connect(self, now_ms):
        """Open the channel: the first version request is queued."""
        self._check(lib.dynmem_session_guest_connect(self._handle, u64('now_ms', now_ms)),
              'dynmem_session_guest_connect')

    @property
    def memory(self):
        """The pages the guest has, as a read-only PageSetView (kept alive with the session)."""
        return PageSetView(lib.dynmem_session_guest_memory(self._handle), self)

    @property
    def ballooned(self):
        """The pages the guest has ballooned out, as a read-only PageSetView."""
        return PageSetView(lib.dynmem_session_guest_ballooned(self._handle), self)

    @property
    def version(self):
        """The protocol version agreed, 0 before (or after negotiation failed)."""
        return lib.dynmem_session_guest_version(self._handle)


class _Silent:
    """The value a guest model hook returns to send no response at all."""

    def __repr__(self):
        return 'SessionGuest.SILENT'


SessionGuest.SILENT = _Silent()


def _hook_call(user_data, attr, *args):
    guest = ffi.from_handle(user_data)()
    try:
        return guest, getattr(guest, attr)(*args)
    except BaseException as e:  # raised again after the C call: C cannot unwind a Python exception
        guest._hook_error = e
        return guest, SessionGuest.SILENT


@ffi.def_extern()
def _dynmem_py_balloon_hook(user_data, now_ms, wanted_pages, out_range):
    """C entry of SessionGuest.set_balloon_hook()."""
    guest, r = _hook_call(user_data, '_balloon_hook', now_ms, wanted_pages)
    if r is SessionGuest.SILENT:
        return -1
    if r is None:
        return 0
    try:
        start, count = r
        out_range.start_page = u64('start', start)
        out_range.page_count = u64('count', count)
    except (TypeError, ValueError) as e:
        guest._hook_error = e
        return -1
    return 1


@ffi.def_extern()
def _dynmem_py_hot_add_hook(user_data, now_ms, start, count, inout_added, out_result):
    """C entry of SessionGuest.set_hot_add_hook()."""
    guest, r = _hook_call(user_data, '_hot_add_hook', now_ms, start, count)
    if r is SessionGuest.SILENT:
        return -1
    try:
        added, result = r
        inout_added[0] = u64('added', added)
        out_result[0] = u32('result', result)
    except (TypeError, ValueError) as e:
        guest._hook_error = e
        return -1
    return 0


def pump_sessions(host, guest, now_ms, drop_to_guest=False):
    """Move every queued packet between ``host`` and ``guest`` until neither
    has more to send (a test and simulation helper, like tests/common/sesspair.c).
    With ``drop_to_guest`` the host's packets are lost on the way. Return the
    refusals as a list of (side, ErrorCode)."""
    refused = []
    moved = True
    while moved:
        moved = False
        for p in host.sends():
            moved = True
            if not drop_to_guest:
                rc = guest.recv(p, now_ms)
                if rc:
                    refused.append(('guest', rc))
        for p in guest.sends():
            moved = True
            rc = host.recv(p, now_ms)
            if rc:
                refused.append(('host', rc))
    return refused


def run_sessions(host, guest, now_ms, until_ms):
    """Let time pass from ``now_ms`` to ``until_ms``: tick both sessions at
    every deadline and pump between them. Return ``until_ms``."""
    pump_sessions(host, guest, now_ms)
    t = now_ms
    while True:
        nxt = until_ms
        for s in (host, guest):
            d = s.next_deadline()
            if d is not None and d < nxt:
                nxt = d
        t = max(t, nxt)
        host.tick(t)
        guest.tick(t)
        pump_sessions(host, guest, t)
        if t >= until_ms:
            return t


__all__ = ['HostState', 'Reset', 'HostParam', 'GuestParam', 'EventKind', 'SessionFlag',
           'SessionStatus', 'SessionEvent', 'SessionHost', 'SessionGuest', 'pump_sessions',
           'run_sessions']
