"""Private helpers: argument checks done in Python before any call into C,
C enums turned into Python enums, and C structs turned into dicts."""
import enum
import operator

from ._ffi import ffi, lib

U8_MAX = (1 << 8) - 1
U16_MAX = (1 << 16) - 1
U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1
I64_MIN = -(1 << 63)
I64_MAX = (1 << 63) - 1


def integer(name, value, lo, hi):
    """value as an int in [lo, hi]: TypeError for a non-integer (bool and
    float included), ValueError outside the range."""
    if isinstance(value, bool):
        raise TypeError(f'{name} must be an integer, not bool')
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f'{name} must be an integer, not {type(value).__name__}') from None
    if v < lo or v > hi:
        raise ValueError(f'{name} must be in {lo}..{hi}, got {v}')
    return v


def u8(name, value):
    """Check an unsigned 8-bit argument."""
    return integer(name, value, 0, U8_MAX)


def u16(name, value):
    """Check an unsigned 16-bit argument."""
    return integer(name, value, 0, U16_MAX)


def u32(name, value):
    """Check an unsigned 32-bit argument."""
    return integer(name, value, 0, U32_MAX)


def u64(name, value):
    """Check an unsigned 64-bit argument."""
    return integer(name, value, 0, U64_MAX)


def i64(name, value):
    """Check a signed 64-bit argument."""
    return integer(name, value, I64_MIN, I64_MAX)


def boolean(name, value):
    """Check a flag argument: a bool (or the ints 0 and 1)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise TypeError(f'{name} must be a bool, not {type(value).__name__}')


def byteslike(name, value):
    """Check a bytes-like argument; return it as bytes."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f'{name} must be bytes-like, not {type(value).__name__}')


def c_enum(cls_name, c_type, prefix, doc, base=enum.IntEnum, module='dynmem'):
    """A Python enum with the members of C enum c_type, prefix removed; with
    c_type None, of the integer macros whose names start with prefix.

    Built from the compiled declarations, so a value added to the header
    appears here at the next build."""
    if c_type is None:
        elements = {n: getattr(lib, n) for n in dir(lib) if n.startswith(prefix)}
    else:
        # name -> value: an enum may keep old names as aliases of a value
        # (deprecated spellings), which the prefix leaves out.
        elements = ffi.typeof(c_type).relements
    members = {n[len(prefix):]: v for n, v in sorted(elements.items(), key=lambda kv: kv[1])
               if n.startswith(prefix)}
    cls = base(cls_name, members, module=module)
    cls.__doc__ = doc
    return cls


def enum_or_int(cls, value):
    """cls(value) when the value is a known member, else the plain int."""
    try:
        return cls(value)
    except ValueError:
        return value


def param(cls, value):
    """A parameter given as an enum member, its name (any case) or its value."""
    if isinstance(value, str):
        try:
            return cls[value.upper()]
        except KeyError:
            raise ValueError(f'unknown {cls.__name__}: {value!r}; one of '
                             + ', '.join(m.name.lower() for m in cls)) from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f'{cls.__name__} must be a name or an integer, not {type(value).__name__}')
    try:
        return cls(value)
    except ValueError:
        raise ValueError(f'unknown {cls.__name__}: {value}') from None


def struct_fields(c_type):
    """Names of the public fields of a C struct (size prefix and reserved left out)."""
    return [n for n, _ in ffi.typeof(c_type).fields
            if n != 'size' and not n.startswith('reserved')]


def struct_dict(cdata, c_type):
    """A dict of the public fields of a C struct."""
    return {n: getattr(cdata, n) for n in struct_fields(c_type)}


def new_sized(c_type):
    """A zeroed C struct with its size prefix set."""
    p = ffi.new(c_type + ' *')
    p.size = ffi.sizeof(c_type)
    return p

