"""Loads the compiled cffi module and the C library behind it.

Every other module of the package takes ``ffi`` and ``lib`` from here, so
that a missing build or a missing libdynmem gives one clear ImportError.
"""
try:
    from ._dynmem import ffi, lib  # noqa: F401  (re-exported)
except ImportError as _e:  # pragma: no cover - exercised through a subprocess
    _text = str(_e)
    if 'libdynmem' in _text:
        raise ImportError(
            'dynmem: the C library libdynmem.so.1 could not be loaded (' + _text + '); '
            'install libdynmem, or point LD_LIBRARY_PATH at the directory that holds it'
        ) from _e
    raise ImportError(
        'dynmem: the compiled module dynmem._dynmem is missing or cannot be loaded (' + _text
        + '); build the bindings with meson (-Dpython=enabled) and import them from the '
        'build tree (PYTHONPATH=<build>/bindings/python) or after meson install'
    ) from _e

if not lib.dynmem_version_at_least(lib.DYNMEM_VERSION_MAJOR, lib.DYNMEM_VERSION_MINOR,
                                   lib.DYNMEM_VERSION_MICRO):
    raise ImportError(
        'dynmem: the loaded libdynmem %s is older than the %s these bindings were built against'
        % (ffi.string(lib.dynmem_version_string()).decode(),
           ffi.string(lib.DYNMEM_VERSION_STRING).decode()))
