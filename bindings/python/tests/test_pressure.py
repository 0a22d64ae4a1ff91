"""PressureEstimator, samples and their adapters."""
import pytest

import dynmem

MIB = 1 << 20


def test_estimator_report():
    p = dynmem.PressureEstimator(buffer_percent=20, window_ms=10000)
    r = p.query(0, 1024 * MIB)
    assert r.no_data and r.demand_bytes == 0
    p.add_sample(time_ms=1000, committed_bytes=1000 * MIB)
    r = p.query(1000, 1000 * MIB)
    assert r.pressure == 100 and r.status == dynmem.Status.LOW
    assert r.target_bytes == 1200 * MIB
    p.add_sample(dynmem.Sample(time_ms=2000, committed_bytes=2000 * MIB))
    r = p.query(2000, 1000 * MIB)
    assert r.status == dynmem.Status.WARNING and r.pressure == 200
    assert r.trend_bytes_per_s == 1000 * MIB
    assert r.maximum_pressure == 200 and r.minimum_pressure == 100
    assert not r.stale and not r.no_data and not r.distress
    r = p.query(9000, 4000 * MIB)
    assert r.stale and r.status == dynmem.Status.OK and r.age_ms == 7000
    p.add_sample(time_ms=9000, committed_bytes=MIB, psi_some_avg10=50)
    assert p.query(9000, MIB).distress
    p.reset()
    assert p.query(10000, MIB).no_data
    assert p.get_param('buffer_percent') == 20


def test_params():
    p = dynmem.PressureEstimator(minimum_bytes=8 << 30, maximum_bytes=16 << 30)
    assert p.params()['minimum_bytes'] == 8 << 30
    assert dynmem.PressureEstimator.param_bounds('buffer_percent') == (5, 2000)
    p.set_param(dynmem.PressureParam.STALE_MS, 10)
    assert p.get_param('stale_ms') == 10
    with pytest.raises(dynmem.Error) as e:
        p.set_param('minimum_bytes', 3)
    assert e.value.code == dynmem.ErrorCode.PRESSURE_UNALIGNED
    with pytest.raises(dynmem.Error) as e:
        p.set_param('buffer_percent', 1)
    assert e.value.code == dynmem.ErrorCode.OUT_OF_RANGE
    with pytest.raises(ValueError):
        p.set_param('nope', 1)
    with pytest.raises(TypeError):
        p.set_param(3.5, 1)


def test_errors():
    p = dynmem.PressureEstimator()
    p.add_sample(time_ms=5000, committed_bytes=MIB)
    with pytest.raises(dynmem.Error) as e:
        p.add_sample(time_ms=4000, committed_bytes=MIB)
    assert e.value.code == dynmem.ErrorCode.PRESSURE_TIME_BACKWARDS
    with pytest.raises(dynmem.Error) as e:
        p.add_sample(time_ms=6000, committed_bytes=MIB, available_bytes=2 * MIB,
                     total_bytes=MIB)
    assert e.value.code == dynmem.ErrorCode.PRESSURE_INCONSISTENT
    with pytest.raises(ValueError):
        p.query(6000, 0)
    with pytest.raises(TypeError):
        p.add_sample(dynmem.Sample(time_ms=None, committed_bytes=1))
    with pytest.raises(TypeError):
        p.add_sample({'time_ms': 1})


def test_adapters():
    s = dynmem.Sample.from_dm_status(10, 100, 50)
    assert s == dynmem.Sample(time_ms=10, committed_bytes=100 * 4096, available_bytes=50 * 4096)
    v = dynmem.Sample.from_virtio_stats(20, total_memory=4 << 30, available_memory=3 << 30,
                                        swap_in=7)
    assert v.committed_bytes == 1 << 30 and v.total_bytes == 4 << 30 and v.swap_in_bytes == 7
    v2 = dynmem.Sample.from_virtio_stats(20, dynmem.VirtioStats(total_memory=4 << 30,
                                                                free_memory=1 << 30,
                                                                disk_caches=1 << 30))
    assert v2.committed_bytes == 2 << 30
    with pytest.raises(dynmem.Error) as e:
        dynmem.Sample.from_virtio_stats(20, total_memory=4 << 30)
    assert e.value.code == dynmem.ErrorCode.PRESSURE_NO_DATA
    x = dynmem.Sample.from_xen_meminfo(30, 4 << 20, 1 << 20)
    assert x.committed_bytes == 3 << 30
    with pytest.raises(dynmem.Error) as e:
        dynmem.Sample.from_xen_meminfo(30, 4 << 20, None)
    assert e.value.code == dynmem.ErrorCode.PRESSURE_NO_DATA
    with pytest.raises(dynmem.Error) as e:
        dynmem.Sample.from_xen_meminfo(30, 1, 2)
    assert e.value.code == dynmem.ErrorCode.PRESSURE_INCONSISTENT
    with pytest.raises(TypeError):
        dynmem.Sample.from_virtio_stats(1, dynmem.VirtioStats(), total_memory=1)


def test_target():
    assert dynmem.pressure_target(1000 * MIB) == 1200 * MIB
    assert dynmem.pressure_target(1000 * MIB, 20, 2 * MIB, 1024 * MIB) == 1024 * MIB
    with pytest.raises(dynmem.Error) as e:
        dynmem.pressure_target(1, 20, 4 * MIB, 2 * MIB)
    assert e.value.code == dynmem.ErrorCode.PRESSURE_MIN_ABOVE_MAX


def test_refusals_carry_the_estimator_detail():
    """Error.detail of a refused estimator call is dynmem_pressure_last_error()."""
    p = dynmem.PressureEstimator()
    assert p.last_error() == ''
    with pytest.raises(dynmem.Error) as e:
        p.add_sample(time_ms=5000, committed_bytes=600 * MIB, available_bytes=2048 * MIB,
                     total_bytes=1024 * MIB)
    assert e.value.code == dynmem.ErrorCode.PRESSURE_INCONSISTENT
    assert e.value.detail == ('sample at 5000 ms: more memory available than in total '
                              '(committed 600 MiB, available 2048 MiB, total 1024 MiB)')
    assert e.value.detail in str(e.value)
    p.add_sample(time_ms=5000, committed_bytes=600 * MIB)
    assert p.last_error() == ''
    with pytest.raises(dynmem.Error) as e:
        p.query(4000, 1024 * MIB)
    assert e.value.detail == 'query at 4000 ms is older than the latest sample or query, at 5000 ms'
    with pytest.raises(dynmem.Error) as e:
        p.set_param('window_ms', 0)
    assert e.value.detail == 'DYNMEM_PRESSURE_PARAM_WINDOW_MS 0 outside 1..86400000'
    p.reset()
    assert p.last_error() == ''
