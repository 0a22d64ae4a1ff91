"""The balancer from Python: scenario S1 with the outcome of the C test
(tests/api/test_balancer_scenarios.c, s1), configurations, actions,
counters and errors."""
import dataclasses

import pytest

import dynmem
from balsim import GIB, MIB, BalSim


def near(got, want, tol):
    """|got - want| <= tol."""
    return abs(got - want) <= tol


def calm_then_reclaim(s, i, demand, held, want):
    """Set VM i's demand below what it holds: it keeps ``held`` through 30 s of
    the calm period, and 90 s later holds ``want`` (+- one 2 MiB unit)."""
    s.vms[i]['demand'] = demand
    s.run(30)
    assert s.counters(i)['physical_bytes'] == held, 'kept during the calm period'
    s.run(90)
    c = s.counters(i)
    assert near(c['physical_bytes'], want, 2 * MIB), f'reclaimed to ~{want >> 20} MiB'
    return c


@pytest.mark.parametrize('policy', [dynmem.Policy.DYNMEM, 'hyperv'])
def test_s1_idle_hog_reclaim(policy):
    s = BalSim(16 * GIB, policy)
    i = s.add(2 * GIB, 512 * MIB, 4 * GIB)
    s.start(i)
    # Idle: demand 533 MiB, target 533 x 1.2 = 640 MiB, after the calm period.
    c = calm_then_reclaim(s, i, 533 * MIB, 2 * GIB, 640 * MIB)
    assert c['guest_visible_bytes'] == 2 * GIB, 'the guest still sees 2 GiB'
    assert near(c['balloon_bytes'], 1408 * MIB, 2 * MIB), 'balloon ~1.4 GiB'
    assert c['status'] == dynmem.Status.OK
    # The hog: grows to the 4 GiB maximum, Warning, pressure 108.
    s.vms[i]['demand'] = 4423 * MIB
    s.run(5)
    c = s.counters(i)
    assert c['physical_bytes'] == 4 * GIB
    assert c['guest_visible_bytes'] == 4 * GIB
    assert c['added_bytes'] == 2 * GIB, '2 GiB hot-added after the balloon was given back'
    assert c['status'] == dynmem.Status.WARNING
    assert c['current_pressure'] == 108
    # The hog stops: memory stays for a while, then goes to 600 x 1.2 = 720 MiB.
    c = calm_then_reclaim(s, i, 600 * MIB, 4 * GIB, 720 * MIB)
    assert c['guest_visible_bytes'] == 4 * GIB, 'visible maximum is a high-water mark'
    assert s.violations == 0
    assert s.ledger_mismatches == 0
    assert any('hot-add' in line for line in s.log), s.log


def test_action_fields_and_describe():
    b = dynmem.Balancer(host_total_bytes=16 * GIB)
    vm = b.add_vm(dynmem.VMConfig(startup_bytes=2 * GIB, minimum_bytes=512 * MIB,
                                  maximum_bytes=4 * GIB))
    b.start_vm(vm, 1000)
    b.sample(vm, dynmem.Sample(time_ms=2000, committed_bytes=3 * GIB))
    actions = b.tick(2000)
    assert len(actions) == 1
    a = actions[0]
    assert isinstance(a, dynmem.Action)
    assert a.vm_id == vm
    assert a.kind == dynmem.ActionKind.HOT_ADD
    assert a.reason in (dynmem.Reason.GROW, dynmem.Reason.GROW_PARTIAL)
    assert a.kind_name == 'hot-add'
    assert a.reason_name.startswith('grow')
    assert a.policy_name == 'dynmem'
    assert a.bytes > 0 and a.bytes % dynmem.SIZE_UNIT == 0
    text = a.describe()
    assert text == str(a)
    assert 'hot-add' in text and len(text) > 20
    assert b.vm_counters(vm)['state'] >= {'running', 'busy'}
    b.confirm(a, 2500, a.bytes // 2, final=False)
    b.confirm(a, 3000, a.bytes - a.bytes // 2)
    c = b.vm_counters(vm)
    assert c['physical_bytes'] == 2 * GIB + a.bytes
    assert 'busy' not in c['state']
    assert c['add_operations'] >= 1
    with pytest.raises(dynmem.Error) as e:
        b.confirm(a, 3000, 4096)
    assert e.value.code == dynmem.ErrorCode.NOT_FOUND
    b.check()


def test_counters_are_dicts():
    b = dynmem.Balancer(host_total_bytes=8 * GIB)
    vm = b.add_vm(startup_bytes=1 * GIB, minimum_bytes=512 * MIB, maximum_bytes=2 * GIB)
    b.start_vm(vm, 0)
    c = b.vm_counters(vm)
    for key in ('physical_bytes', 'guest_visible_bytes', 'balloon_bytes', 'demand_bytes',
                'target_bytes', 'current_pressure', 'status', 'flags', 'state',
                'add_operations', 'remove_operations'):
        assert key in c
    assert 'size' not in c and not any(k.startswith('reserved') for k in c)
    assert c['state'] == {'running', 'no_data'}
    h = b.host_counters()
    assert h['running_vms'] == 1
    assert h['total_bytes'] == 8 * GIB
    assert h['assigned_bytes'] == 1 * GIB
    assert h['available_bytes'] == 8 * GIB - h['reserve_bytes'] - 1 * GIB


def test_params():
    b = dynmem.Balancer(host_total_bytes=32 * GIB, policy='hyperv', calm_period_ms=1000)
    assert b.get_param('policy') == dynmem.Policy.HYPERV
    assert b.get_param(dynmem.BalancerParam.CALM_PERIOD_MS) == 1000
    p = b.params()
    assert p['host_total_bytes'] == 32 * GIB
    assert p['host_reserve_bytes'] > 0
    lo, hi = dynmem.Balancer.param_bounds('deadband_bytes')
    assert lo <= 32 * MIB <= hi
    with pytest.raises(ValueError):
        b.set_param('no_such_setting', 1)
    with pytest.raises(ValueError):
        b.set_param('policy', 'nonsense')
    with pytest.raises(dynmem.Error) as e:
        b.set_param('deadband_bytes', 3)
    assert e.value.code == dynmem.ErrorCode.OUT_OF_RANGE


def test_config_errors():
    ok = dynmem.VMConfig(startup_bytes=GIB, minimum_bytes=GIB // 2, maximum_bytes=2 * GIB)
    ok.check()
    assert ok.flags == dynmem.VMFlag.DYNAMIC | dynmem.VMFlag.CAN_BALLOON | dynmem.VMFlag.CAN_HOT_ADD
    cases = [
        (dict(startup_bytes=GIB + 1), 'CONFIG_STARTUP'),
        (dict(minimum_bytes=2 * GIB), 'CONFIG_MINIMUM'),
        (dict(maximum_bytes=GIB // 2), 'CONFIG_MAXIMUM'),
        (dict(buffer_percent=1), 'CONFIG_BUFFER'),
        (dict(weight=10001), 'CONFIG_WEIGHT'),
        (dict(hot_add_alignment_bytes=3 * MIB), 'CONFIG_ALIGNMENT'),
        (dict(calm_period_ms=86400001), 'CONFIG_CALM_PERIOD'),
        (dict(dynamic=False), 'CONFIG_FLAGS'),
    ]
    b = dynmem.Balancer(host_total_bytes=8 * GIB)
    for change, name in cases:
        bad = dataclasses.replace(ok, **change)
        with pytest.raises(dynmem.Error) as e:
            bad.check()
        assert e.value.name == 'DYNMEM_ERR_' + name
        with pytest.raises(dynmem.Error):
            b.add_vm(bad)
    dynmem.VMConfig.static(2 * GIB).check()
    with pytest.raises(TypeError):
        dynmem.VMConfig(startup_bytes='1G')._to_c()
    with pytest.raises(TypeError):
        b.add_vm(ok, no_such_field=1)
    with pytest.raises(ValueError):
        b.add_vm(ok, weight=-1)


def test_admission_resize_restart_stop():
    b = dynmem.Balancer(host_total_bytes=4 * GIB)
    big = b.add_vm(dynmem.VMConfig.static(8 * GIB))
    with pytest.raises(dynmem.Error) as e:
        b.start_vm(big, 0)
    assert e.value.code == dynmem.ErrorCode.ADMISSION
    assert e.value.missing_bytes > 0
    assert e.value.details == {'missing_bytes': e.value.missing_bytes, 'detail': e.value.detail}
    b.remove_vm(big)
    vm = b.add_vm(dynmem.VMConfig.static(1 * GIB))
    b.start_vm(vm, 0)
    with pytest.raises(dynmem.Error) as e:
        b.remove_vm(vm)
    assert e.value.code == dynmem.ErrorCode.BAD_STATE
    granted = b.resize_vm(vm, 1000, 2 * GIB)
    assert granted == 2 * GIB
    actions = b.tick(2000)
    assert [a.reason for a in actions] == [dynmem.Reason.RESIZE]
    for a in actions:
        b.confirm(a, 2000, a.bytes)
    assert b.vm_counters(vm)['physical_bytes'] == 2 * GIB
    assert b.restart_vm(vm, 3000) == 0
    b.stop_vm(vm)
    b.configure_vm(vm, dynmem.VMConfig.static(1 * GIB), weight=100)
    b.set_vm_pressure_param(vm, 'window_ms', 30000)
    with pytest.raises(dynmem.Error):
        b.stop_vm(vm)
    b.remove_vm(vm)
    with pytest.raises(dynmem.Error) as e:
        b.vm_counters(vm)
    assert e.value.code == dynmem.ErrorCode.NOT_FOUND


def test_bad_arguments_never_reach_c():
    b = dynmem.Balancer(host_total_bytes=8 * GIB)
    with pytest.raises(TypeError):
        b.tick(1.5)
    with pytest.raises(ValueError):
        b.tick(-1)
    with pytest.raises(ValueError):
        b.tick(1 << 64)
    with pytest.raises(TypeError):
        b.tick(True)
    with pytest.raises(TypeError):
        b.confirm((1, 2), 0, 0)
    with pytest.raises(TypeError):
        b.sample(1, 'sample')
    with pytest.raises(TypeError):
        b.sample(1, dynmem.Sample(0, 0), time_ms=3)
    with pytest.raises(TypeError):
        dynmem.Balancer(host_total_bytes='lots')


def test_partial_resize_and_failed_action():
    b = dynmem.Balancer(host_total_bytes=4 * GIB)
    vm = b.add_vm(dynmem.VMConfig.static(1 * GIB))
    b.start_vm(vm, 0)
    granted = b.resize_vm(vm, 1000, 8 * GIB)      # DYNMEM_ERR_PARTIAL is not an error here
    assert 1 * GIB < granted < 4 * GIB
    (a,) = b.tick(2000)
    assert a.kind == dynmem.ActionKind.HOT_ADD and a.target_bytes == granted
    with pytest.raises(ValueError):
        b.confirm(a, 2000, 0, final=False, failed=True)
    b.confirm(a, 2000, 0, failed=True)
    c = b.vm_counters(vm)
    assert 'hot_add_failed' in c['state'] and c['flags'] & dynmem.VMState.HOT_ADD_FAILED
    assert c['physical_bytes'] == 1 * GIB
    b.check()


def test_config_messages_name_the_field():
    """VMConfig.check() and add_vm() say what is wrong, as every front end
    (dynmem_vm_config_explain())."""
    bad = dynmem.VMConfig(startup_bytes=256 * MIB, minimum_bytes=512 * MIB, maximum_bytes=GIB)
    assert bad.explain() == 'minimum 512 MiB above startup 256 MiB'
    with pytest.raises(dynmem.Error) as e:
        bad.check()
    assert e.value.code == dynmem.ErrorCode.CONFIG_MINIMUM
    assert e.value.detail == 'minimum 512 MiB above startup 256 MiB'
    assert 'minimum 512 MiB above startup 256 MiB' in str(e.value)
    b = dynmem.Balancer(host_total_bytes=8 * GIB)
    with pytest.raises(dynmem.Error) as e:
        b.add_vm(bad)
    assert e.value.detail == 'new vm: minimum 512 MiB above startup 256 MiB'
    ok = dataclasses.replace(bad, startup_bytes=GIB)
    assert ok.explain() == ''
    ok.check()


def test_host_settings_checked():
    """A reserve (the default's too) at or above host memory is refused."""
    with pytest.raises(dynmem.Error) as e:
        dynmem.Balancer(host_total_bytes=4 * GIB, host_reserve_bytes=4 * GIB)
    assert e.value.code == dynmem.ErrorCode.CONFIG_RESERVE
    assert e.value.detail == 'reserve 4096 MiB at or above host memory 4096 MiB'
    with pytest.raises(dynmem.Error) as e:
        dynmem.Balancer(host_total_bytes=512 * MIB)
    assert e.value.detail == ('reserve 900 MiB (the default for this host) at or above host '
                              'memory 512 MiB')
    with pytest.raises(dynmem.Error) as e:
        dynmem.check_host(1001 * MIB, 0)
    assert e.value.code == dynmem.ErrorCode.CONFIG_HOST_MEMORY
    assert dynmem.check_host(8 * GIB) is None
    assert dynmem.Balancer(host_total_bytes=4 * GIB, host_reserve_bytes=GIB)


def test_check_config_set():
    """Host and named VMs together: names and endpoints used once."""
    ok = dynmem.VMConfig(startup_bytes=GIB, minimum_bytes=GIB // 2, maximum_bytes=2 * GIB)
    vms = [dynmem.ConfigEntry('web', ok, endpoint='/run/web.qmp', endpoint_field='qmp'),
           dynmem.ConfigEntry('db', ok, endpoint='/run/db.qmp', endpoint_field='qmp')]
    assert dynmem.check_config(vms, host_total_bytes=8 * GIB) is None
    dup = vms + [dynmem.ConfigEntry('batch', None, endpoint='/run/db.qmp', endpoint_field='qmp')]
    with pytest.raises(dynmem.Error) as e:
        dynmem.check_config(dup, host_total_bytes=8 * GIB)
    assert e.value.code == dynmem.ErrorCode.CONFIG_DUPLICATE
    assert e.value.detail == "vm 'batch': qmp /run/db.qmp also used by vm 'db'"
    assert e.value.vm_index == 2
    with pytest.raises(dynmem.Error) as e:
        dynmem.check_config(vms, host_total_bytes=GIB, host_reserve_bytes=GIB)
    assert e.value.vm_index is None
    assert e.value.detail == 'reserve 1024 MiB at or above host memory 1024 MiB'
    with pytest.raises(TypeError):
        dynmem.check_config([('web', ok)])


def test_balancer_errors_carry_the_library_detail():
    """Error.detail of a refused balancer call is dynmem_balancer_last_error()."""
    b = dynmem.Balancer(host_total_bytes=4 * GIB, host_reserve_bytes=GIB)
    big = b.add_vm(dynmem.VMConfig(startup_bytes=2 * GIB, minimum_bytes=512 * MIB,
                                   maximum_bytes=4 * GIB))
    other = b.add_vm(dynmem.VMConfig(startup_bytes=2 * GIB, minimum_bytes=512 * MIB,
                                     maximum_bytes=4 * GIB))
    b.start_vm(big, 0)
    assert b.last_error() == ''
    with pytest.raises(dynmem.Error) as e:
        b.start_vm(other, 0)
    assert e.value.detail == (f'vm {other}: startup 2048 MiB does not fit: 1024 MiB free after '
                              'the 1024 MiB reserve, 1024 MiB missing')
    assert e.value.detail in str(e.value)
    with pytest.raises(dynmem.Error) as e:
        b.set_param('calm_period_ms', 90_000_000)
    assert e.value.detail == 'DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS 90000000 outside 0..86400000'
    bad = dynmem.VMConfig(startup_bytes=256 * MIB, minimum_bytes=512 * MIB, maximum_bytes=GIB)
    with pytest.raises(dynmem.Error) as e:
        b.configure_vm(big, bad)
    assert e.value.detail == f'vm {big}: minimum 512 MiB above startup 256 MiB'
    with pytest.raises(dynmem.Error) as e:
        b.stop_vm(12)
    assert e.value.detail == 'vm 12: no such VM (never added, or removed)'
