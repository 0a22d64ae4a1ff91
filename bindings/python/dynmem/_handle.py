"""Private: C handles owned by Python objects, and their key/value settings."""
from ._ffi import ffi, lib
from ._util import i64, param
from .errors import check


def new_handle(prefix, c_type):
    """A new C handle from <prefix>_new(&out, NULL) (the C library's allocator),
    freed with <prefix>_free when the garbage collector drops the last reference."""
    out = ffi.new(c_type + ' **')
    check(getattr(lib, prefix + '_new')(out, ffi.NULL), prefix + '_new')
    return ffi.gc(out[0], getattr(lib, prefix + '_free'))


class ParamAccess:
    """Mixin for a handle with key/value settings (the C functions
    <prefix>_set_param, _get_param and _param_bounds, keyed by a C enum),
    whose refusals leave their detail for <prefix>_last_error().

    A subclass sets _PARAM (the Python enum of the keys), _PREFIX (e.g.
    'dynmem_pressure') and _CTYPE (the handle's C type), and may convert
    values with _param_in / _param_out. The constructor creates the handle
    and applies the settings given as keyword arguments.
    """
    _PARAM = None
    _PREFIX = ''
    _CTYPE = ''

    def __init__(self, **params):
        self._handle = new_handle(self._PREFIX, self._CTYPE)
        for name, value in params.items():
            self.set_param(name, value)

    def _param_in(self, key, value):
        return value

    def _param_out(self, key, value):
        return value

    def last_error(self):
        """The detail of the latest refusal by this handle
        (<prefix>_last_error()): one line naming the field, setting or
        message and the figures; '' if the latest call succeeded."""
        fn = getattr(lib, self._PREFIX + '_last_error')
        n = check(fn(self._handle, ffi.NULL, 0), self._PREFIX + '_last_error')
        buf = ffi.new('char[]', n + 1)
        fn(self._handle, buf, n + 1)
        return ffi.string(buf).decode()

    def _check(self, rc, function, **details):
        """check() for a call on this handle: a refusal's Error carries the
        handle's own detail (last_error()) as ``detail`` when it has one."""
        if rc < 0:
            details.setdefault('detail', self.last_error() or None)
        return check(rc, function, **details)

    @classmethod
    def param_bounds(cls, which):
        """(min, max) accepted for a setting, given as a key or its lower-case name."""
        key = param(cls._PARAM, which)
        lo = ffi.new('int64_t *')
        hi = ffi.new('int64_t *')
        name = cls._PREFIX + '_param_bounds'
        check(getattr(lib, name)(key, lo, hi), name)
        return lo[0], hi[0]

    def set_param(self, which, value):
        """Change a setting, given as a key or its lower-case name."""
        key = param(self._PARAM, which)
        value = i64(key.name.lower(), self._param_in(key, value))
        name = self._PREFIX + '_set_param'
        self._check(getattr(lib, name)(self._handle, key, value), name)

    def get_param(self, which):
        """Read a setting, given as a key or its lower-case name."""
        key = param(self._PARAM, which)
        out = ffi.new('int64_t *')
        name = self._PREFIX + '_get_param'
        check(getattr(lib, name)(self._handle, key, out), name)
        return self._param_out(key, out[0])

    def params(self):
        """Every setting as a dict, by lower-case name."""
        return {key.name.lower(): self.get_param(key) for key in self._PARAM}

