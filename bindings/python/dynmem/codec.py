"""The Hyper-V Dynamic Memory wire codec (dynmem/proto.h): bytes to message
dataclasses and back.

``decode(data)`` turns one message (one VMBus packet payload) into an
instance of a Message subclass; ``decode_stream(data)`` reads the first
message of a byte stream and says how many bytes it used; ``encode(msg)``
turns a message back into bytes. Everything is copied into Python objects,
so a message never refers to the buffer it came from.
"""
import enum
from dataclasses import dataclass, field
from typing import ClassVar, List, NamedTuple, Optional

from ._ffi import ffi, lib
from ._util import boolean, byteslike, c_enum, u8, u16, u32, u64
from .errors import Error, check

MessageType = c_enum(
    'MessageType', 'enum dynmem_proto_type', 'DYNMEM_PROTO_',
    'Message types (enum dynmem_proto_type): the wire value of each.')

DecodeFlag = c_enum(
    'DecodeFlag', None, 'DYNMEM_PROTO_FLAG_',
    'Facts about decoded bytes (the DYNMEM_PROTO_FLAG_* macros), in Message.flags.',
    base=enum.IntFlag)

#: Protocol 0.3 (Windows 7).
VERSION_WIN7 = lib.DYNMEM_PROTO_VERSION_WIN7
#: Protocol 1.0 (Windows 8): adds the info message.
VERSION_WIN8 = lib.DYNMEM_PROTO_VERSION_WIN8
#: Protocol 2.0 (Windows 10): adds the hot-remove messages.
VERSION_WIN10 = lib.DYNMEM_PROTO_VERSION_WIN10
#: Largest message on the wire, header included.
MSG_SIZE_MAX = lib.DYNMEM_PROTO_MSG_SIZE_MAX
#: Most page ranges in a balloon response or unballoon request.
RANGES_MAX = lib.DYNMEM_PROTO_RANGES_MAX
#: Largest hot-add alignment exponent a guest can announce (2^15 MiB).
ALIGNMENT_MAX = lib.DYNMEM_PROTO_ALIGNMENT_MAX
#: Info record type carrying the VM's maximum dynamic page count.
INFO_MAX_PAGE_COUNT = lib.DYNMEM_PROTO_INFO_MAX_PAGE_COUNT


class Range(NamedTuple):
    """A run of 4 KiB guest pages: first page number and page count."""
    start_page: int
    page_count: int


def _range(name, value):
    if not isinstance(value, tuple) or len(value) != 2:
        raise TypeError(f'{name} must be a Range or a (start_page, page_count) tuple')
    return Range(u64(name + '.start_page', value[0]), u64(name + '.page_count', value[1]))


@dataclass(kw_only=True)
class Message:
    """Base of every message: the header fields.

    ``trans_id`` is the header's transaction id. ``flags`` (DecodeFlag) and
    ``length`` (bytes on the wire) are set by the decoder, ignored by the
    encoder, and left out of comparisons.
    """
    TYPE: ClassVar[int] = -1
    trans_id: int = 0
    flags: int = field(default=0, compare=False)
    length: int = field(default=0, compare=False)

    @property
    def type(self):
        """The MessageType of this message."""
        return MessageType(self.TYPE)

    # The C body member of the type, and its plain fields with their checks.
    _MEMBER: ClassVar[Optional[str]] = None
    _WIRE: ClassVar[tuple] = ()

    def _fill(self, b, keep):
        """Write the fields into b, the C body member _MEMBER."""
        for name, check_ in self._WIRE:
            setattr(b, name, check_(name, getattr(self, name)))

    @classmethod
    def _read(cls, b):
        """The fields of b, the C body member _MEMBER, as a dict."""
        return {name: getattr(b, name) for name, _ in cls._WIRE}


def _put_blob(name, value, keep):
    """(pointer, size) of a bytes-like field for the C body; keep holds the buffer."""
    data = byteslike(name, value)
    size = u32(f'len({name})', len(data))
    if not data:
        return ffi.NULL, 0
    buf = ffi.from_buffer(data)
    keep.append(buf)
    return buf, size


def _get_blob(ptr, size):
    """A copy of size bytes at ptr (a view into the decoded buffer)."""
    return ffi.buffer(ptr, size)[:] if size else b''


@dataclass
class ErrorMessage(Message):
    """DYNMEM_PROTO_ERROR: no body layout is defined, so the bytes are kept."""
    TYPE: ClassVar[int] = MessageType.ERROR
    _MEMBER: ClassVar[str] = 'error'
    payload: bytes = b''

    def _fill(self, b, keep):
        b.payload, b.payload_size = _put_blob('payload', self.payload, keep)

    @classmethod
    def _read(cls, b):
        return {'payload': _get_blob(b.payload, b.payload_size)}


@dataclass
class VersionRequest(Message):
    """DYNMEM_PROTO_VERSION_REQUEST: the guest proposes a protocol version."""
    TYPE: ClassVar[int] = MessageType.VERSION_REQUEST
    _WIRE: ClassVar[tuple] = (
        ('version', u32), ('is_last_attempt', boolean))
    _MEMBER: ClassVar[str] = 'version_request'
    version: int = VERSION_WIN10
    is_last_attempt: bool = False


@dataclass
class VersionResponse(Message):
    """DYNMEM_PROTO_VERSION_RESPONSE: the host accepts or rejects the version."""
    TYPE: ClassVar[int] = MessageType.VERSION_RESPONSE
    _WIRE: ClassVar[tuple] = (
        ('is_accepted', boolean),)
    _MEMBER: ClassVar[str] = 'version_response'
    is_accepted: bool = False


@dataclass
class CapabilitiesReport(Message):
    """DYNMEM_PROTO_CAPABILITIES_REPORT: what the guest can do.
    ``hot_add_alignment`` n means 2^n MiB."""
    TYPE: ClassVar[int] = MessageType.CAPABILITIES_REPORT
    _WIRE: ClassVar[tuple] = (
        ('balloon', boolean), ('hot_add', boolean), ('hot_remove', boolean),
        ('hot_add_alignment', u8), ('min_page_count', u64), ('max_page_number', u64))
    _MEMBER: ClassVar[str] = 'caps_report'
    balloon: bool = False
    hot_add: bool = False
    hot_remove: bool = False
    hot_add_alignment: int = 0
    min_page_count: int = 0
    max_page_number: int = 0


@dataclass
class CapabilitiesResponse(Message):
    """DYNMEM_PROTO_CAPABILITIES_RESPONSE: the host accepts the guest."""
    TYPE: ClassVar[int] = MessageType.CAPABILITIES_RESPONSE
    _WIRE: ClassVar[tuple] = (
        ('is_accepted', boolean), ('hot_remove', boolean),
        ('suppress_pressure_reports', boolean))
    _MEMBER: ClassVar[str] = 'caps_response'
    is_accepted: bool = False
    hot_remove: bool = False
    suppress_pressure_reports: bool = False


@dataclass
class StatusReport(Message):
    """DYNMEM_PROTO_STATUS_REPORT: the guest's memory figures, in 4 KiB pages."""
    TYPE: ClassVar[int] = MessageType.STATUS_REPORT
    _WIRE: ClassVar[tuple] = (
        ('num_avail', u64), ('num_committed', u64), ('page_file_size', u64),
        ('zero_free', u64), ('page_file_writes', u32), ('io_diff', u32))
    _MEMBER: ClassVar[str] = 'status_report'
    num_avail: int = 0
    num_committed: int = 0
    page_file_size: int = 0
    zero_free: int = 0
    page_file_writes: int = 0
    io_diff: int = 0


@dataclass
class BalloonRequest(Message):
    """DYNMEM_PROTO_BALLOON_REQUEST: the host asks the guest for pages."""
    TYPE: ClassVar[int] = MessageType.BALLOON_REQUEST
    _WIRE: ClassVar[tuple] = (
        ('num_pages', u32),)
    _MEMBER: ClassVar[str] = 'balloon_request'
    num_pages: int = 0


def _fill_ranges(c_ranges, ranges, keep):
    if isinstance(ranges, (str, bytes)) or not hasattr(ranges, '__iter__'):
        raise TypeError('ranges must be a list of Range or (start_page, page_count) tuples')
    items = [_range(f'ranges[{i}]', r) for i, r in enumerate(ranges)]
    c_ranges.count = u32('len(ranges)', len(items))
    if items:
        arr = ffi.new('struct dynmem_proto_range[]', [tuple(r) for r in items])
        keep.append(arr)
        c_ranges.unpacked = arr


def _read_ranges(c_ranges):
    n = c_ranges.count
    if n == 0:
        return []
    arr = ffi.new('struct dynmem_proto_range[]', n)
    check(lib.dynmem_proto_ranges_copy(arr, n, ffi.addressof(c_ranges), 0),
          'dynmem_proto_ranges_copy')
    return [Range(r.start_page, r.page_count) for r in arr]


class _WithRanges:
    """Mixin for a body of plain _WIRE fields plus the range list ``ranges``."""

    def _fill(self, b, keep):
        Message._fill(self, b, keep)
        _fill_ranges(b.ranges, self.ranges, keep)

    @classmethod
    def _read(cls, b):
        fields = {name: getattr(b, name) for name, _ in cls._WIRE}
        fields['ranges'] = _read_ranges(b.ranges)
        return fields


@dataclass
class BalloonResponse(_WithRanges, Message):
    """DYNMEM_PROTO_BALLOON_RESPONSE: page ranges the guest gave up."""
    TYPE: ClassVar[int] = MessageType.BALLOON_RESPONSE
    _WIRE: ClassVar[tuple] = (('more_pages', boolean),)
    _MEMBER: ClassVar[str] = 'balloon_response'
    more_pages: bool = False
    ranges: List[Range] = field(default_factory=list)


@dataclass
class UnballoonRequest(_WithRanges, Message):
    """DYNMEM_PROTO_UNBALLOON_REQUEST: page ranges the host gives back."""
    TYPE: ClassVar[int] = MessageType.UNBALLOON_REQUEST
    _WIRE: ClassVar[tuple] = (('more_pages', boolean),)
    _MEMBER: ClassVar[str] = 'unballoon_request'
    more_pages: bool = False
    ranges: List[Range] = field(default_factory=list)


@dataclass
class UnballoonResponse(Message):
    """DYNMEM_PROTO_UNBALLOON_RESPONSE: the guest acknowledges; no body."""
    TYPE: ClassVar[int] = MessageType.UNBALLOON_RESPONSE


@dataclass
class HotAddRequest(Message):
    """DYNMEM_PROTO_HOT_ADD_REQUEST: the host adds ``range``; with a ``region``
    (not None) the 24-byte form is used."""
    TYPE: ClassVar[int] = MessageType.HOT_ADD_REQUEST
    _MEMBER: ClassVar[str] = 'hot_add_request'
    range: Range = Range(0, 0)
    region: Optional[Range] = None

    def _fill(self, b, keep):
        r = _range('range', self.range)
        b.range.start_page, b.range.page_count = r
        b.has_region = self.region is not None
        if self.region is not None:
            g = _range('region', self.region)
            b.region.start_page, b.region.page_count = g

    @classmethod
    def _read(cls, b):
        region = Range(b.region.start_page, b.region.page_count) if b.has_region else None
        return {'range': Range(b.range.start_page, b.range.page_count), 'region': region}


@dataclass
class HotAddResponse(Message):
    """DYNMEM_PROTO_HOT_ADD_RESPONSE: pages the guest made usable; result 1
    is success, 0 failure."""
    TYPE: ClassVar[int] = MessageType.HOT_ADD_RESPONSE
    _WIRE: ClassVar[tuple] = (
        ('page_count', u32), ('result', u32))
    _MEMBER: ClassVar[str] = 'hot_add_response'
    page_count: int = 0
    result: int = 0


@dataclass
class InfoMessage(Message):
    """DYNMEM_PROTO_INFO_MESSAGE (protocol 1.0+): its first record.

    For ``info_type`` INFO_MAX_PAGE_COUNT the record is ``max_page_count``;
    for any other type it is the raw ``data``. ``info_size`` is the field as
    received; the encoder computes it (and it is left out of comparisons).
    """
    TYPE: ClassVar[int] = MessageType.INFO_MESSAGE
    _MEMBER: ClassVar[str] = 'info_message'
    info_type: int = INFO_MAX_PAGE_COUNT
    max_page_count: int = 0
    data: bytes = b''
    info_size: int = field(default=0, compare=False)

    def _fill(self, b, keep):
        b.info_type = u32('info_type', self.info_type)
        if b.info_type == INFO_MAX_PAGE_COUNT:
            b.data_size = 8
            b.max_page_count = u64('max_page_count', self.max_page_count)
        else:
            b.data, b.data_size = _put_blob('data', self.data, keep)

    @classmethod
    def _read(cls, b):
        data = b'' if b.info_type == INFO_MAX_PAGE_COUNT else _get_blob(b.data, b.data_size)
        return {'info_type': b.info_type, 'max_page_count': b.max_page_count, 'data': data,
                'info_size': b.info_size}


@dataclass
class HotRemoveRequest(Message):
    """DYNMEM_PROTO_HOT_REMOVE_REQUEST (protocol 2.0): the host asks the guest
    to remove pages; ``qos_flags`` are REMOVE_QOS_* bits."""
    TYPE: ClassVar[int] = MessageType.HOT_REMOVE_REQUEST
    _WIRE: ClassVar[tuple] = (
        ('virtual_node', u32), ('page_count', u32), ('qos_flags', u32))
    _MEMBER: ClassVar[str] = 'hot_remove_request'
    virtual_node: int = 0
    page_count: int = 0
    qos_flags: int = 0


@dataclass
class HotRemoveResponse(_WithRanges, Message):
    """DYNMEM_PROTO_HOT_REMOVE_RESPONSE (protocol 2.0): ranges the guest removed."""
    TYPE: ClassVar[int] = MessageType.HOT_REMOVE_RESPONSE
    _WIRE: ClassVar[tuple] = (('result', u32), ('more_pages', boolean))
    _MEMBER: ClassVar[str] = 'hot_remove_response'
    result: int = 0
    more_pages: bool = False
    ranges: List[Range] = field(default_factory=list)


#: Hot-remove quality-of-service flag: prefer large pages.
REMOVE_QOS_LARGE = lib.DYNMEM_PROTO_REMOVE_QOS_LARGE
#: Hot-remove quality-of-service flag: prefer node-local memory.
REMOVE_QOS_LOCAL = lib.DYNMEM_PROTO_REMOVE_QOS_LOCAL

# MessageType value -> Message subclass.
_CLASSES = {cls.TYPE: cls for cls in (
    ErrorMessage, VersionRequest, VersionResponse, CapabilitiesReport, CapabilitiesResponse,
    StatusReport, BalloonRequest, BalloonResponse, UnballoonRequest, UnballoonResponse,
    HotAddRequest, HotAddResponse, InfoMessage, HotRemoveRequest, HotRemoveResponse)}


def _new_msg():
    msg = ffi.new('struct dynmem_proto_msg *')
    check(lib.dynmem_proto_msg_init(msg, ffi.sizeof('struct dynmem_proto_msg')),
          'dynmem_proto_msg_init')
    return msg


def _to_python(msg):
    cls = _CLASSES[msg.type]
    fields = cls._read(getattr(msg.body, cls._MEMBER)) if cls._MEMBER else {}
    return cls(trans_id=msg.trans_id, flags=DecodeFlag(msg.flags), length=msg.length, **fields)


def _decode(data, version, length):
    data = byteslike('data', data)
    version = u32('version', version)
    msg = _new_msg()
    buf = ffi.from_buffer(data)
    rc = lib.dynmem_proto_decode(msg, buf, len(data), version, length)
    if rc == lib.DYNMEM_ERR_PROTO_TRUNCATED and length != ffi.NULL:
        raise Error(rc, 'dynmem_proto_decode', needed=length[0])
    check(rc, 'dynmem_proto_decode')
    return _to_python(msg)


def decode(data, version=0):
    """Decode exactly one message (e.g. one VMBus packet payload).

    ``data`` is bytes-like; ``version`` is the negotiated protocol version
    (VERSION_WIN7, VERSION_WIN8, VERSION_WIN10) or 0 for any. Returns an
    instance of the Message subclass of the type on the wire; raises Error
    (e.g. PROTO_TRUNCATED, PROTO_TRAILING_BYTES, PROTO_BAD_SIZE) for bytes
    that are not exactly one valid message.
    """
    return _decode(data, version, ffi.NULL)


def decode_stream(data, version=0):
    """Decode the first message of a byte stream.

    Returns ``(message, used)``: the message and the number of bytes it took.
    When more bytes are needed raises Error PROTO_TRUNCATED whose ``needed``
    attribute is the total number of bytes required.
    """
    length = ffi.new('size_t *')
    msg = _decode(data, version, length)
    return msg, length[0]


def _to_c(message, version):
    if not isinstance(message, Message) or type(message) is Message:
        raise TypeError(f'expected a dynmem message (e.g. dynmem.BalloonRequest), '
                        f'not {type(message).__name__}')
    version = u32('version', version)
    msg = _new_msg()
    msg.type = u16('type', message.TYPE)
    msg.trans_id = u32('trans_id', message.trans_id)
    keep = []
    if message._MEMBER:
        message._fill(getattr(msg.body, message._MEMBER), keep)
    return msg, keep, version


def encode(message, version=0):
    """Encode a message into bytes.

    ``version`` is the negotiated protocol version or 0 for any; a type the
    version does not have raises Error PROTO_VERSION. Fields that do not fit
    their C type raise TypeError/ValueError before the library is called;
    values the wire cannot carry raise Error (e.g. PROTO_BAD_RANGE,
    PROTO_TOO_MANY_RANGES).
    """
    msg, keep, version = _to_c(message, version)
    size = check(lib.dynmem_proto_encoded_size(msg, version), 'dynmem_proto_encoded_size')
    out = ffi.new('unsigned char[]', size)
    n = check(lib.dynmem_proto_encode(out, size, msg, version), 'dynmem_proto_encode')
    del keep
    return ffi.buffer(out, n)[:]


def encoded_size(message, version=0):
    """The number of bytes encode() would return for this message."""
    msg, keep, version = _to_c(message, version)
    n = check(lib.dynmem_proto_encoded_size(msg, version), 'dynmem_proto_encoded_size')
    del keep
    return n


def pack_range(start_page, page_count):
    """The 64-bit wire form of a page range (start in bits 0..39, count in 40..63)."""
    out = ffi.new('uint64_t *')
    check(lib.dynmem_proto_range_pack(out, u64('start_page', start_page),
                                      u64('page_count', page_count)), 'dynmem_proto_range_pack')
    return out[0]


def unpack_range(packed):
    """The Range held by a 64-bit wire value."""
    r = ffi.new('struct dynmem_proto_range *')
    lib.dynmem_proto_range_unpack(r, u64('packed', packed))
    return Range(r.start_page, r.page_count)


def alignment_bytes(exponent):
    """Bytes of a hot-add alignment exponent as a guest announces it
    (``CapabilitiesReport.hot_add_alignment``, a CAPS event's caps bits):
    2^exponent MiB, for ``VMConfig.hot_add_alignment_bytes``. Error
    OUT_OF_RANGE above ALIGNMENT_MAX."""
    out = ffi.new('uint64_t *')
    check(lib.dynmem_proto_alignment_bytes(u32('exponent', exponent), out),
          'dynmem_proto_alignment_bytes')
    return out[0]


def alignment_exponent(nbytes):
    """The exponent a guest announces for a hot-add alignment of ``nbytes``
    (2^n MiB, n in 0..ALIGNMENT_MAX; error OUT_OF_RANGE otherwise)."""
    out = ffi.new('unsigned *')
    check(lib.dynmem_proto_alignment_exponent(u64('nbytes', nbytes), out),
          'dynmem_proto_alignment_exponent')
    return out[0]


def protocol_version(major, minor):
    """A protocol version number: major in the high 16 bits, minor low."""
    return (u16('major', major) << 16) | u16('minor', minor)


__all__ = [
    'MessageType', 'DecodeFlag', 'Range', 'Message', 'ErrorMessage', 'VersionRequest',
    'VersionResponse', 'CapabilitiesReport', 'CapabilitiesResponse', 'StatusReport',
    'BalloonRequest', 'BalloonResponse', 'UnballoonRequest', 'UnballoonResponse',
    'HotAddRequest', 'HotAddResponse', 'InfoMessage', 'HotRemoveRequest',
    'HotRemoveResponse', 'decode', 'decode_stream', 'encode', 'encoded_size', 'pack_range',
    'unpack_range', 'alignment_bytes', 'alignment_exponent', 'protocol_version', 'VERSION_WIN7', 'VERSION_WIN8', 'VERSION_WIN10',
    'MSG_SIZE_MAX', 'RANGES_MAX', 'ALIGNMENT_MAX', 'INFO_MAX_PAGE_COUNT', 'REMOVE_QOS_LARGE',
    'REMOVE_QOS_LOCAL',
]
