"""The one exception class of the bindings, and the library's error codes."""
from ._ffi import ffi, lib
from ._util import c_enum, enum_or_int

ErrorCode = c_enum(
    'ErrorCode', 'enum dynmem_error', 'DYNMEM_ERR_',
    'The library\'s error codes (enum dynmem_error without its DYNMEM_ERR_ prefix); '
    'every value is negative and pinned forever.')


def error_name(code):
    """The library's name of an error code, e.g. 'DYNMEM_ERR_NO_MEMORY'."""
    return ffi.string(lib.dynmem_error_name(int(code))).decode()


def strerror(code):
    """The library's English description of an error code."""
    return ffi.string(lib.dynmem_strerror(int(code))).decode()


class Error(Exception):
    """An error returned by libdynmem.

    Attributes: ``code`` (an ErrorCode, or a plain int for a code newer than
    these bindings), ``name`` (dynmem_error_name(), e.g.
    'DYNMEM_ERR_ADMISSION'), ``message`` (dynmem_strerror()), ``function``
    (the C function that failed), ``detail`` (what exactly is wrong, when
    the library said it, e.g. 'minimum 512 MiB above startup 256 MiB';
    otherwise None) and any figures the function reported with it (e.g.
    ``missing_bytes``), also collected in ``details``.
    Invalid arguments caught in Python raise TypeError or ValueError instead.
    """

    def __init__(self, code, function=None, **details):
        self.code = enum_or_int(ErrorCode, int(code))
        self.name = error_name(code)
        self.message = strerror(code)
        self.function = function
        self.detail = None
        self.details = details
        for key, value in details.items():
            setattr(self, key, value)
        text = f'{self.name}: {self.detail or self.message}'
        if function:
            text += f' ({function})'
        super().__init__(text)

    def __reduce__(self):
        return (_rebuild_error, (int(self.code), self.function, self.details))


def _rebuild_error(code, function, details):
    return Error(code, function, **details)


def check(rc, function=None, **details):
    """Return rc if it is not negative, else raise Error(rc)."""
    if rc < 0:
        raise Error(rc, function, **details)
    return rc


__all__ = ['Error', 'ErrorCode', 'error_name', 'strerror']
