"""The host-wide memory balancer (dynmem/balancer.h): targets down, facts up.

A ``Balancer`` knows every VM's ``VMConfig``, turns guests' samples into
demand and, on each ``tick()``, returns ``Action`` objects (unballoon,
hot-add, balloon, hot-remove, page-in) with the reason behind each. A backend
carries an action out and reports what really happened with ``confirm()``.
"""
import dataclasses
import enum
from dataclasses import dataclass

from ._ffi import ffi, lib
from ._handle import ParamAccess
from ._util import c_enum, enum_or_int, i64, new_sized, param, struct_dict, u32, u64
from .errors import check
from .pressure import PressureParam, Status, _sample_arg

#: The unit every configured size is a multiple of: 2 MiB.
SIZE_UNIT = lib.DYNMEM_SIZE_UNIT

VMFlag = c_enum('VMFlag', 'enum dynmem_vm_flag', 'DYNMEM_VM_',
                'Bits of a VM configuration (enum dynmem_vm_flag).', base=enum.IntFlag)
VMState = c_enum('VMState', 'enum dynmem_vm_state_flag', 'DYNMEM_VMSTATE_',
                 'State bits in a VM\'s counters (enum dynmem_vm_state_flag).', base=enum.IntFlag)
Policy = c_enum('Policy', 'enum dynmem_policy', 'DYNMEM_POLICY_',
                'Balancing policies (enum dynmem_policy): DYNMEM, HYPERV, STATIC.')
BalancerParam = c_enum('BalancerParam', 'enum dynmem_balancer_param', 'DYNMEM_BALANCER_PARAM_',
                       'Host-wide balancer settings (enum dynmem_balancer_param); also '
                       'accepted as lower-case names such as "host_total_bytes".')
ActionKind = c_enum('ActionKind', 'enum dynmem_action_kind', 'DYNMEM_ACTION_',
                    'Kinds of action (enum dynmem_action_kind).')
Reason = c_enum('Reason', 'enum dynmem_reason', 'DYNMEM_REASON_',
                'Why an action was decided: the rule that fired (enum dynmem_reason).')

_FLAG_FIELDS = (('dynamic', VMFlag.DYNAMIC), ('can_balloon', VMFlag.CAN_BALLOON),
                ('can_hot_add', VMFlag.CAN_HOT_ADD), ('can_hot_remove', VMFlag.CAN_HOT_REMOVE))


@dataclass
class VMConfig:
    """A VM's memory configuration (struct dynmem_vm_config).

    The defaults are DYNMEM_VM_CONFIG_INIT's: buffer 20 %, weight 5000,
    dynamic with balloon and hot-add, hot-add alignment 2 MiB, calm period 0
    (the balancer's). Sizes are bytes, whole multiples of SIZE_UNIT (2 MiB).
    """
    startup_bytes: int = 0
    minimum_bytes: int = 0
    maximum_bytes: int = 0
    buffer_percent: int = 20
    weight: int = 5000
    hot_add_alignment_bytes: int = SIZE_UNIT
    calm_period_ms: int = 0
    dynamic: bool = True
    can_balloon: bool = True
    can_hot_add: bool = True
    can_hot_remove: bool = False

    @classmethod
    def static(cls, size_bytes, **kwargs):
        """A VM without dynamic memory: minimum = startup = maximum = size_bytes."""
        return cls(startup_bytes=size_bytes, minimum_bytes=size_bytes, maximum_bytes=size_bytes,
                   dynamic=False, **kwargs)

    @property
    def flags(self):
        """The VMFlag bits of this configuration."""
        flags = VMFlag(0)
        for name, flag in _FLAG_FIELDS:
            if getattr(self, name):
                flags |= flag
        return flags

    def _to_c(self):
        c = ffi.new('struct dynmem_vm_config *')
        check(lib.dynmem_vm_config_init(c, ffi.sizeof('struct dynmem_vm_config')),
              'dynmem_vm_config_init')
        for name, _ in _FLAG_FIELDS:
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f'{name} must be a bool')
        c.flags = self.flags
        for name in ('startup_bytes', 'minimum_bytes', 'maximum_bytes',
                     'hot_add_alignment_bytes', 'calm_period_ms'):
            setattr(c, name, u64(name, getattr(self, name)))
        c.buffer_percent = u32('buffer_percent', self.buffer_percent)
        c.weight = u32('weight', self.weight)
        return c

    def explain(self):
        """What is wrong with this configuration, naming the field and its
        values (dynmem_vm_config_explain()), e.g. 'minimum 512 MiB above
        startup 256 MiB'; '' if it is valid."""
        return _explained(lib.dynmem_vm_config_explain, self._to_c())[1]

    def check(self):
        """Raise Error (CONFIG_STARTUP, CONFIG_MINIMUM, ...) for the first bad
        field, its ``detail`` naming the field and values as explain() does;
        return None if valid."""
        c = self._to_c()
        if lib.dynmem_vm_config_check(c) < 0:
            rc, text = _explained(lib.dynmem_vm_config_explain, c)
            check(rc, 'dynmem_vm_config_check', detail=text)


_MSG_LEN = 512


def _explained(fn, *args):
    """(rc, message) of a check that writes its message into a buffer."""
    buf = ffi.new('char[]', _MSG_LEN)
    rc = fn(*args, buf, _MSG_LEN)
    return rc, ffi.string(buf).decode()


def _host_c(total_bytes, reserve_bytes):
    h = new_sized('struct dynmem_host_config')
    h.total_bytes = u64('host_total_bytes', total_bytes)
    h.reserve_bytes = i64('host_reserve_bytes', reserve_bytes)
    return h


def check_host(total_bytes, reserve_bytes=-1):
    """Check a host's settings as dynmem_host_config_check(): host memory in
    whole 2 MiB units, a reserve (-1: the library's default) below it. Raise
    Error (CONFIG_HOST_MEMORY, CONFIG_RESERVE) with a ``detail`` naming the
    field and values; return None if valid."""
    rc, text = _explained(lib.dynmem_host_config_check, _host_c(total_bytes, reserve_bytes))
    check(rc, 'dynmem_host_config_check', detail=text)


@dataclass
class ConfigEntry:
    """One VM for check_config() (struct dynmem_config_vm): its name, its
    VMConfig (None: only the name and endpoint are checked), and how the
    front end reaches it (e.g. endpoint='/run/web.qmp', endpoint_field='qmp')."""
    name: str
    config: 'VMConfig' = None
    endpoint: str = None
    endpoint_field: str = None


def check_config(vms, host_total_bytes=None, host_reserve_bytes=-1):
    """Check a host and its VMs together, as dynmem_config_check(): the host
    (when host_total_bytes is given), each VM's configuration, every name and
    endpoint used once. ``vms`` is a sequence of ConfigEntry. Raise Error
    with ``detail`` (prefixed "vm 'NAME': " for a VM) and ``vm_index`` (the
    position of the VM at fault, None for the host); return None if valid."""
    vms = list(vms)
    if not all(isinstance(v, ConfigEntry) for v in vms):
        raise TypeError('check_config() takes a sequence of dynmem.ConfigEntry')
    keep = []  # C strings and structs must outlive the call
    entries = ffi.new('struct dynmem_config_vm[]', max(1, len(vms)))
    for i, v in enumerate(vms):
        e = entries[i]
        e.size = ffi.sizeof('struct dynmem_config_vm')
        for field in ('name', 'endpoint', 'endpoint_field'):
            value = getattr(v, field)
            if value is not None:
                if not isinstance(value, str):
                    raise TypeError(f'ConfigEntry.{field} must be a str')
                keep.append(ffi.new('char[]', value.encode()))
                setattr(e, field, keep[-1])
        if v.config is not None:
            keep.append(v.config._to_c())
            e.config = keep[-1]
    host = ffi.NULL if host_total_bytes is None else _host_c(host_total_bytes, host_reserve_bytes)
    at = ffi.new('size_t *')
    rc, text = _explained(lib.dynmem_config_check, host, entries, len(vms), at)
    if rc < 0:
        check(rc, 'dynmem_config_check', detail=text,
              vm_index=at[0] if at[0] < len(vms) else None)


def _config_arg(config, fields):
    if config is None:
        config = VMConfig(**fields)
    elif fields:
        config = dataclasses.replace(config, **fields)
    if not isinstance(config, VMConfig):
        raise TypeError(f'config must be a dynmem.VMConfig, not {type(config).__name__}')
    return config._to_c()


@dataclass(frozen=True)
class Action:
    """One decision for one VM (struct dynmem_action), with the numbers behind it.

    Carry it out, then report progress with Balancer.confirm(action, ...).
    ``str(action)`` and ``describe()`` give the library's one-line text.
    """
    kind: int
    vm_id: int
    action_id: int
    bytes: int
    target_bytes: int
    reason: int
    policy: int
    demand_bytes: int
    assigned_bytes: int
    entitled_bytes: int
    host_free_bytes: int
    weight: int
    pressure: int

    @classmethod
    def _from_c(cls, a):
        return cls(kind=enum_or_int(ActionKind, a.kind), vm_id=a.vm_id, action_id=a.action_id,
                   bytes=a.bytes, target_bytes=a.target_bytes,
                   reason=enum_or_int(Reason, a.reason), policy=enum_or_int(Policy, a.policy),
                   demand_bytes=a.demand_bytes, assigned_bytes=a.assigned_bytes,
                   entitled_bytes=a.entitled_bytes, host_free_bytes=a.host_free_bytes,
                   weight=a.weight, pressure=a.pressure)

    def _to_c(self):
        a = new_sized('struct dynmem_action')
        for f in dataclasses.fields(self):
            setattr(a, f.name, int(getattr(self, f.name)))
        return a

    @property
    def kind_name(self):
        """The library's name of the kind, e.g. 'hot-add'."""
        return ffi.string(lib.dynmem_action_kind_name(int(self.kind))).decode()

    @property
    def reason_name(self):
        """The library's name of the reason, e.g. 'lazy-reclaim'."""
        return ffi.string(lib.dynmem_reason_name(int(self.reason))).decode()

    @property
    def policy_name(self):
        """The library's name of the deciding policy, e.g. 'hyperv'."""
        return ffi.string(lib.dynmem_policy_name(int(self.policy))).decode()

    def describe(self):
        """The action in one line of English with its numbers (dynmem_action_describe)."""
        a = self._to_c()
        size = 256
        while True:
            buf = ffi.new('char[]', size)
            n = check(lib.dynmem_action_describe(a, buf, size), 'dynmem_action_describe')
            if n < size:
                return ffi.string(buf).decode()
            size = n + 1

    def __str__(self):
        return self.describe()


class Balancer(ParamAccess):
    """A host-wide memory balancer (dynmem_balancer).

    ``Balancer(host_total_bytes=16 << 30, policy='hyperv', deadband_bytes=...)``:
    any BalancerParam can be given as a keyword argument, and read or changed
    later with get_param(), set_param() and params() (the policy as a Policy
    or its name, 'dynmem', 'hyperv' or 'static'). The C handle is freed when
    the object is garbage-collected.
    """
    _PARAM = BalancerParam
    _PREFIX = 'dynmem_balancer'
    _CTYPE = 'dynmem_balancer'

    def __init__(self, **params):
        if 'host_total_bytes' in params:
            check_host(params['host_total_bytes'], params.get('host_reserve_bytes', -1))
        super().__init__(**params)

    def _param_in(self, key, value):
        return param(Policy, value) if key == BalancerParam.POLICY else value

    def _param_out(self, key, value):
        return enum_or_int(Policy, value) if key == BalancerParam.POLICY else value

    # VMs

    def add_vm(self, config=None, **fields):
        """Register a VM (off until start_vm()); return its id. Give a VMConfig,
        its fields as keyword arguments, or both (the keywords override)."""
        vm_id = ffi.new('uint64_t *')
        c = _config_arg(config, fields)
        self._check(lib.dynmem_balancer_vm_add(self._handle, c, vm_id), 'dynmem_balancer_vm_add')
        return vm_id[0]

    def remove_vm(self, vm_id):
        """Forget a VM that is off."""
        self._check(lib.dynmem_balancer_vm_remove(self._handle, u64('vm_id', vm_id)),
              'dynmem_balancer_vm_remove')

    def start_vm(self, vm_id, now_ms):
        """Start a VM (admission control). Raises Error ADMISSION, with
        ``missing_bytes``, when its startup memory is not free."""
        missing = ffi.new('uint64_t *')
        rc = lib.dynmem_balancer_vm_start(self._handle, u64('vm_id', vm_id), u64('now_ms', now_ms),
                                          missing)
        self._check(rc, 'dynmem_balancer_vm_start', missing_bytes=missing[0])

    def restart_vm(self, vm_id, now_ms):
        """Restart a running VM (guest reboot) with smart paging; return the
        smart-paged gap in bytes (0 if none)."""
        paged = ffi.new('uint64_t *')
        self._check(lib.dynmem_balancer_vm_restart(self._handle, u64('vm_id', vm_id),
                                             u64('now_ms', now_ms), paged),
              'dynmem_balancer_vm_restart')
        return paged[0]

    def stop_vm(self, vm_id):
        """Stop a VM: everything it holds returns to the pool at once."""
        self._check(lib.dynmem_balancer_vm_stop(self._handle, u64('vm_id', vm_id)), 'dynmem_balancer_vm_stop')

    def configure_vm(self, vm_id, config=None, **fields):
        """Change a VM's configuration (a VMConfig and/or keyword fields)."""
        self._check(lib.dynmem_balancer_vm_configure(self._handle, u64('vm_id', vm_id),
                                               _config_arg(config, fields)),
              'dynmem_balancer_vm_configure')

    def resize_vm(self, vm_id, now_ms, new_bytes):
        """Resize a running static VM; return the size that will be reached
        (less than new_bytes when only part of the change is possible)."""
        granted = ffi.new('uint64_t *')
        rc = lib.dynmem_balancer_vm_resize(self._handle, u64('vm_id', vm_id), u64('now_ms', now_ms),
                                           u64('new_bytes', new_bytes), granted)
        if rc != lib.DYNMEM_ERR_PARTIAL:
            self._check(rc, 'dynmem_balancer_vm_resize')
        return granted[0]

    def sample(self, vm_id, sample=None, **fields):
        """Feed a guest report (a Sample, or its fields as keyword arguments)
        to the VM's pressure estimator."""
        self._check(lib.dynmem_balancer_vm_sample(self._handle, u64('vm_id', vm_id),
                                            _sample_arg(sample, fields)),
              'dynmem_balancer_vm_sample')

    def set_vm_pressure_param(self, vm_id, which, value):
        """Set a VM's estimator setting (window_ms or stale_ms)."""
        p = param(PressureParam, which)
        self._check(lib.dynmem_balancer_vm_set_pressure_param(self._handle, u64('vm_id', vm_id), p,
                                                        i64(p.name.lower(), value)),
              'dynmem_balancer_vm_set_pressure_param')

    # Decisions and facts

    def tick(self, now_ms):
        """Decide at ``now_ms``; return the queued actions as a list of Action
        (shrinks first, then growth by weight)."""
        self._check(lib.dynmem_balancer_tick(self._handle, u64('now_ms', now_ms), ffi.NULL),
              'dynmem_balancer_tick')
        actions = []
        a = new_sized('struct dynmem_action')
        while self._check(lib.dynmem_balancer_next_action(self._handle, a),
                    'dynmem_balancer_next_action') == 1:
            actions.append(Action._from_c(a))
        return actions

    def confirm(self, action, now_ms, done_bytes, *, final=True, failed=False):
        """Report what the backend really did for ``action`` (an Action): it moved
        ``done_bytes`` in this piece; ``final`` ends the action, ``failed``
        (with final) marks it failed."""
        if not isinstance(action, Action):
            raise TypeError(f'action must be a dynmem.Action, not {type(action).__name__}')
        flags = 0
        if final:
            flags |= lib.DYNMEM_CONFIRM_FINAL
        if failed:
            if not final:
                raise ValueError('failed=True needs final=True')
            flags |= lib.DYNMEM_CONFIRM_FAILED
        self._check(lib.dynmem_balancer_confirm(self._handle, action.vm_id, action.action_id,
                                          u64('now_ms', now_ms), u64('done_bytes', done_bytes),
                                          flags), 'dynmem_balancer_confirm')

    def vm_counters(self, vm_id):
        """A VM's counters as a dict (struct dynmem_vm_counters' fields, plus
        ``state``: the set of VMState names that are set)."""
        c = new_sized('struct dynmem_vm_counters')
        self._check(lib.dynmem_balancer_vm_counters(self._handle, u64('vm_id', vm_id), c),
              'dynmem_balancer_vm_counters')
        d = struct_dict(c, 'struct dynmem_vm_counters')
        d['flags'] = VMState(c.flags)
        d['state'] = frozenset(s.name.lower() for s in VMState if c.flags & s)
        d['status'] = enum_or_int(Status, c.status)
        return d

    def host_counters(self):
        """The host counters as a dict (struct dynmem_host_counters' fields)."""
        c = new_sized('struct dynmem_host_counters')
        self._check(lib.dynmem_balancer_host_counters(self._handle, c), 'dynmem_balancer_host_counters')
        return struct_dict(c, 'struct dynmem_host_counters')

    def check(self):
        """Verify the balancer's books; raise Error INVARIANT if they are inconsistent."""
        self._check(lib.dynmem_balancer_check(self._handle), 'dynmem_balancer_check')


__all__ = ['SIZE_UNIT', 'VMFlag', 'VMState', 'Policy', 'BalancerParam', 'ActionKind', 'Reason',
           'VMConfig', 'Action', 'Balancer', 'ConfigEntry', 'check_config', 'check_host']

