"""The pressure estimator (dynmem/pressure.h): demand, pressure, status,
target and trend of one VM from what its guest reports.

Feed ``Sample`` objects (or build them from a backend's figures with the
``Sample.from_*`` adapters) and ``query()`` a ``Report``. Times are
milliseconds of any monotonic clock the caller chooses.
"""
import enum
from dataclasses import dataclass
from typing import Optional

from ._ffi import ffi, lib
from ._handle import ParamAccess
from ._util import U64_MAX, c_enum, enum_or_int, integer, new_sized, u32, u64
from .errors import check

Status = c_enum('Status', 'enum dynmem_pressure_status', 'DYNMEM_STATUS_',
                'Memory status of a VM as Hyper-V shows it: OK, LOW (inside the buffer), '
                'WARNING (below demand).')
SampleFlag = c_enum('SampleFlag', 'enum dynmem_pressure_sample_flag', 'DYNMEM_SAMPLE_',
                    'Which optional fields of a sample hold data (DYNMEM_SAMPLE_*).',
                    base=enum.IntFlag)
ReportFlag = c_enum('ReportFlag', 'enum dynmem_pressure_report_flag', 'DYNMEM_REPORT_',
                    'Facts about a report: NO_DATA, STALE, DISTRESS (DYNMEM_REPORT_*).',
                    base=enum.IntFlag)
PressureParam = c_enum('PressureParam', 'enum dynmem_pressure_param', 'DYNMEM_PRESSURE_PARAM_',
                       'Settings of an estimator (enum dynmem_pressure_param); also accepted '
                       'as lower-case names such as "buffer_percent".')

# Optional sample fields and the flag that says each holds data.
_OPTIONAL = (('available_bytes', SampleFlag.HAS_AVAILABLE), ('total_bytes', SampleFlag.HAS_TOTAL),
             ('swap_in_bytes', SampleFlag.HAS_SWAP_IN),
             ('major_faults', SampleFlag.HAS_MAJOR_FAULTS),
             ('psi_some_avg10', SampleFlag.HAS_PSI))


@dataclass
class Sample:
    """One report from a guest, in bytes (struct dynmem_pressure_sample).

    ``committed_bytes`` is the demand signal; the optional figures are None
    when the guest does not report them. ``psi_some_avg10`` is in hundredths
    of a percent (0..10000).
    """
    time_ms: int
    committed_bytes: int
    available_bytes: Optional[int] = None
    total_bytes: Optional[int] = None
    swap_in_bytes: Optional[int] = None
    major_faults: Optional[int] = None
    psi_some_avg10: Optional[int] = None

    def _to_c(self):
        s = _new_sample()
        s.time_ms = u64('time_ms', self.time_ms)
        s.committed_bytes = u64('committed_bytes', self.committed_bytes)
        flags = 0
        for name, flag in _OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                check_ = u32 if name == 'psi_some_avg10' else u64
                setattr(s, name, check_(name, value))
                flags |= flag
        s.flags = flags
        return s

    @classmethod
    def _from_c(cls, s):
        opt = {name: (getattr(s, name) if s.flags & flag else None) for name, flag in _OPTIONAL}
        return cls(time_ms=s.time_ms, committed_bytes=s.committed_bytes, **opt)

    @classmethod
    def from_dm_status(cls, time_ms, num_committed_pages, num_avail_pages):
        """A sample from a Hyper-V Dynamic Memory status report (figures in
        4 KiB pages), e.g. ``Sample.from_dm_status(t, msg.num_committed, msg.num_avail)``."""
        s = _new_sample()
        check(lib.dynmem_pressure_sample_from_dm_status(
            s, u64('time_ms', time_ms), u64('num_committed_pages', num_committed_pages),
            u64('num_avail_pages', num_avail_pages)), 'dynmem_pressure_sample_from_dm_status')
        return cls._from_c(s)

    @classmethod
    def from_virtio_stats(cls, time_ms, stats=None, **fields):
        """A sample from virtio-balloon guest statistics: a VirtioStats, or its
        fields as keyword arguments (demand = total - available)."""
        if stats is None:
            stats = VirtioStats(**fields)
        elif fields:
            raise TypeError('give either a VirtioStats or keyword fields, not both')
        if not isinstance(stats, VirtioStats):
            raise TypeError(f'stats must be a VirtioStats, not {type(stats).__name__}')
        s = _new_sample()
        check(lib.dynmem_pressure_sample_from_virtio_stats(s, u64('time_ms', time_ms),
                                                           stats._to_c()),
              'dynmem_pressure_sample_from_virtio_stats')
        return cls._from_c(s)

    @classmethod
    def from_xen_meminfo(cls, time_ms, total_kib, free_kib):
        """A sample from a Xen guest agent's data/meminfo_total and
        data/meminfo_free (KiB); None for a key not written yet."""
        s = _new_sample()
        total = U64_MAX if total_kib is None else u64('total_kib', total_kib)
        free = U64_MAX if free_kib is None else u64('free_kib', free_kib)
        check(lib.dynmem_pressure_sample_from_xen_meminfo(s, u64('time_ms', time_ms), total, free),
              'dynmem_pressure_sample_from_xen_meminfo')
        return cls._from_c(s)


def _new_sample():
    s = ffi.new('struct dynmem_pressure_sample *')
    check(lib.dynmem_pressure_sample_init(s, ffi.sizeof('struct dynmem_pressure_sample')),
          'dynmem_pressure_sample_init')
    return s


_VIRTIO_FIELDS = ('total_memory', 'available_memory', 'free_memory', 'disk_caches', 'swap_in',
                  'major_faults')


@dataclass
class VirtioStats:
    """virtio-balloon guest statistics in bytes, as QEMU's guest-stats names
    them (struct dynmem_virtio_stats); None for a figure not reported."""
    total_memory: Optional[int] = None
    available_memory: Optional[int] = None
    free_memory: Optional[int] = None
    disk_caches: Optional[int] = None
    swap_in: Optional[int] = None
    major_faults: Optional[int] = None

    def _to_c(self):
        v = new_sized('struct dynmem_virtio_stats')
        for name in _VIRTIO_FIELDS:
            value = getattr(self, name)
            setattr(v, name, U64_MAX if value is None else u64(name, value))
        return v


def _sample_arg(sample, fields):
    if sample is None:
        sample = Sample(**fields)
    elif fields:
        raise TypeError('give either a Sample or keyword fields, not both')
    if not isinstance(sample, Sample):
        raise TypeError(f'sample must be a dynmem.Sample, not {type(sample).__name__}')
    return sample._to_c()


@dataclass(frozen=True)
class Report:
    """Everything an estimator derives at one instant (struct
    dynmem_pressure_report). Pressures are percent; ``trend_bytes_per_s`` is
    the least-squares slope of demand over the window."""
    flags: int
    demand_bytes: int
    target_bytes: int
    pressure: int
    average_pressure: int
    minimum_pressure: int
    maximum_pressure: int
    status: int
    trend_bytes_per_s: int
    age_ms: int

    @property
    def no_data(self):
        """True when no sample has been fed yet."""
        return bool(self.flags & ReportFlag.NO_DATA)

    @property
    def stale(self):
        """True when the last sample is older than the stale time."""
        return bool(self.flags & ReportFlag.STALE)

    @property
    def distress(self):
        """True when the guest showed signs of paging (swap-in, faults, PSI)."""
        return bool(self.flags & ReportFlag.DISTRESS)


class PressureEstimator(ParamAccess):
    """A per-VM pressure estimator (dynmem_pressure).

    Settings can be given as keyword arguments: ``buffer_percent``,
    ``window_ms``, ``stale_ms``, ``minimum_bytes``, ``maximum_bytes``.
    Read and change them with get_param(), set_param() and params(), keyed by
    a PressureParam or its lower-case name. The C handle is freed when the
    object is garbage-collected.
    """
    _PARAM = PressureParam
    _PREFIX = 'dynmem_pressure'
    _CTYPE = 'dynmem_pressure'

    def __init__(self, **params):
        # The maximum first, so that a minimum above the old maximum fits.
        super().__init__(**dict(sorted(params.items(), key=lambda kv: kv[0] != 'maximum_bytes')))

    def add_sample(self, sample=None, **fields):
        """Feed one Sample (or its fields as keyword arguments); samples come
        in time order."""
        self._check(lib.dynmem_pressure_add_sample(self._handle, _sample_arg(sample, fields)),
                    'dynmem_pressure_add_sample')

    def query(self, now_ms, assigned_bytes):
        """The Report at ``now_ms`` for a VM that holds ``assigned_bytes`` now
        (also recorded in the window history)."""
        r = new_sized('struct dynmem_pressure_report')
        self._check(lib.dynmem_pressure_query(self._handle, u64('now_ms', now_ms),
                                              integer('assigned_bytes', assigned_bytes, 1,
                                                      (1 << 64) - 1),
                                              r), 'dynmem_pressure_query')
        return Report(flags=ReportFlag(r.flags), demand_bytes=r.demand_bytes,
                      target_bytes=r.target_bytes, pressure=r.pressure,
                      average_pressure=r.average_pressure, minimum_pressure=r.minimum_pressure,
                      maximum_pressure=r.maximum_pressure,
                      status=enum_or_int(Status, r.status),
                      trend_bytes_per_s=r.trend_bytes_per_s, age_ms=r.age_ms)

    def reset(self):
        """Forget every sample (settings are kept), e.g. after a guest reboot."""
        lib.dynmem_pressure_reset(self._handle)


def pressure_target(demand_bytes, buffer_percent=20, minimum_bytes=2 << 20,
                    maximum_bytes=1 << 52):
    """The target for a demand: demand x (1 + buffer/100) rounded up to 2 MiB
    and clamped to [minimum_bytes, maximum_bytes]."""
    out = ffi.new('uint64_t *')
    check(lib.dynmem_pressure_target(u64('demand_bytes', demand_bytes),
                                     u32('buffer_percent', buffer_percent),
                                     u64('minimum_bytes', minimum_bytes),
                                     u64('maximum_bytes', maximum_bytes), out),
          'dynmem_pressure_target')
    return out[0]


__all__ = ['Status', 'SampleFlag', 'ReportFlag', 'PressureParam', 'Sample', 'VirtioStats',
           'Report', 'PressureEstimator', 'pressure_target']
