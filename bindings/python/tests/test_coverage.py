"""The bindings reach the whole C API of the headers they wrap.

Every DYNMEM_API function of a wrapped header must be callable through the
compiled module (the cdef is generated, so this holds by construction) and
used by the package, or be listed below as deliberately left to C. A header
not yet wrapped (e.g. a future module) is reported by
test_every_header_is_wrapped_or_pending, so its functions cannot be
forgotten."""
import os
import pathlib
import re

import dynmem
from dynmem._ffi import lib

# Headers the package wraps, and headers known to be waiting for a module.
WRAPPED = {'common.h', 'proto.h', 'pages.h', 'memmap.h', 'pressure.h', 'balancer.h',
           'session.h'}
PENDING = set()
NO_FUNCTIONS = {'dynmem.h'}

# Deliberately not wrapped, with the Python way to the same thing.
LEFT_TO_C = {
    'dynmem_proto_ranges_get': 'decoded range lists are copied out whole (ranges_copy)',
    'dynmem_proto_msg_ranges': 'messages with ranges have a .ranges attribute',
    'dynmem_proto_type_name': 'MessageType (built from enum dynmem_proto_type) names types',
    'dynmem_proto_encoded_size_max': 'dynmem.MSG_SIZE_MAX; encode() sizes its own buffer',
}


def api_functions(header):
    """Names of the DYNMEM_API functions a header declares."""
    text = header.read_text(encoding='utf-8')
    return set(re.findall(r'DYNMEM_API[^;{]*?\b(dynmem_\w+)\s*\(', text))


def source_root():
    """The source tree (DYNMEM_SOURCE_ROOT, set by meson test)."""
    root = os.environ.get('DYNMEM_SOURCE_ROOT')
    assert root, 'run the suite with meson test (DYNMEM_SOURCE_ROOT is not set)'
    return pathlib.Path(root)


def package_text():
    """The package's Python source, with handle and settings prefixes expanded to the
    functions they call (<prefix>_new/_free, and for ParamAccess also
    _set_param/_get_param/_param_bounds/_last_error)."""
    pkg = pathlib.Path(dynmem.__file__).parent
    text = '\n'.join(p.read_text(encoding='utf-8') for p in sorted(pkg.glob('*.py')))
    for prefix in re.findall(r"new_handle\('(\w+)'", text):
        text += f'\n{prefix}_new {prefix}_free'
    for prefix in re.findall(r"_PREFIX = '(\w+)'", text):
        # ParamAccess creates its handle with new_handle(_PREFIX, ...) too.
        text += f'\n{prefix}_new {prefix}_free {prefix}_set_param {prefix}_get_param'
        text += f' {prefix}_param_bounds {prefix}_last_error'
    return text


def test_every_header_is_wrapped_or_pending():
    headers = {p.name for p in (source_root() / 'include' / 'dynmem').glob('*.h')}
    unknown = headers - WRAPPED - PENDING - NO_FUNCTIONS
    assert not unknown, f'public headers without Python bindings: {sorted(unknown)}'


def test_every_function_is_reachable_and_used():
    text = package_text()
    missing, unused, checked = [], [], 0
    for name in sorted(WRAPPED):
        for fn in sorted(api_functions(source_root() / 'include' / 'dynmem' / name)):
            checked += 1
            if not hasattr(lib, fn):
                missing.append(fn)
            elif fn not in LEFT_TO_C and not re.search(r'\b' + fn + r'\b', text):
                unused.append(f'{name}: {fn}')
    assert not missing, f'not in the compiled module: {missing}'
    assert not unused, f'C functions the package does not use: {unused}'
    assert checked >= 70, f'only {checked} functions found: is the header parsing broken?'
