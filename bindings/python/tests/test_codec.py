"""The codec from Python: the published vectors of tests/api/test_proto_vectors.c
(decode to the described message, encode back to the same bytes), round
trips, streams and errors."""
import pytest

import dynmem
from dynmem import Range

H = bytes.fromhex

# (name, wire bytes, the message they describe) - the same vectors as the C test.
VECTORS = [
    ('v01_version_request_win10', '01 00 10 00 07 00 00 00 00 00 02 00 00 00 00 00',
     dynmem.VersionRequest(trans_id=7, version=dynmem.VERSION_WIN10)),
    ('v02_version_request_win7_last', '01 00 10 00 09 00 00 00 03 00 00 00 01 00 00 00',
     dynmem.VersionRequest(trans_id=9, version=dynmem.VERSION_WIN7, is_last_attempt=True)),
    ('v03_version_response_accepted', '02 00 10 00 07 00 00 00 01 00 00 00 00 00 00 00',
     dynmem.VersionResponse(trans_id=7, is_accepted=True)),
    ('v04_capabilities_report',
     '03 00 20 00 08 00 00 00 1f 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00'
     ' ff ff ff ff ff ff ff ff',
     dynmem.CapabilitiesReport(trans_id=8, balloon=True, hot_add=True, hot_add_alignment=7,
                               max_page_number=(1 << 64) - 1)),
    ('v05_capabilities_response_qemu', '04 00 10 00 08 00 00 00 03 00 00 00 00 00 00 00',
     dynmem.CapabilitiesResponse(trans_id=8, is_accepted=True, hot_remove=True)),
    ('v06_status_report',
     '05 00 30 00 64 00 00 00 00 00 04 00 00 00 00 00 00 00 08 00 00 00 00 00'
     ' 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
     dynmem.StatusReport(trans_id=100, num_avail=262144, num_committed=524288)),
    ('v07_balloon_request', '06 00 10 00 03 00 00 00 00 f0 08 00 00 00 00 00',
     dynmem.BalloonRequest(trans_id=3, num_pages=585728)),
    ('v08_balloon_response_two_ranges',
     '07 00 20 00 0b 00 00 00 00 00 00 00 05 00 00 00 45 23 01 00 00 00 02 00'
     ' 00 00 20 00 00 01 00 00',
     dynmem.BalloonResponse(trans_id=11, more_pages=True,
                            ranges=[Range(0x12345, 512), Range(0x200000, 1)])),
    ('v08b_balloon_response_empty', '07 00 10 00 0c 00 00 00 00 00 00 00 00 00 00 00',
     dynmem.BalloonResponse(trans_id=12)),
    ('v09_unballoon_request',
     '08 00 18 00 04 00 00 00 01 00 00 00 01 00 00 00 00 00 14 00 00 00 00 08',
     dynmem.UnballoonRequest(trans_id=4, more_pages=True, ranges=[Range(0x140000, 524288)])),
    ('v10_unballoon_response', '09 00 08 00 0c 00 00 00', dynmem.UnballoonResponse(trans_id=12)),
    ('v11_hot_add_with_region',
     '0a 00 18 00 05 00 00 00 00 00 10 00 00 00 80 00 00 00 10 00 00 00 80 00',
     dynmem.HotAddRequest(trans_id=5, range=Range(0x100000, 32768),
                          region=Range(0x100000, 32768))),
    ('v11b_hot_add_range_only', '0a 00 10 00 05 00 00 00 00 00 10 00 00 00 80 00',
     dynmem.HotAddRequest(trans_id=5, range=Range(0x100000, 32768))),
    ('v11c_hot_add_qemu_chunk',
     '0a 00 18 00 00 00 00 00 00 00 80 00 00 00 00 08 00 00 80 00 00 00 00 08',
     dynmem.HotAddRequest(trans_id=0, range=Range(0x800000, 524288),
                          region=Range(0x800000, 524288))),
    ('v12_hot_add_response', '0b 00 10 00 0d 00 00 00 00 80 00 00 01 00 00 00',
     dynmem.HotAddResponse(trans_id=13, page_count=32768, result=1)),
    ('v13_info_max_page_count',
     '0c 00 20 00 00 00 00 00 00 00 00 00 10 00 00 00 00 00 00 00 08 00 00 00'
     ' 00 00 08 00 00 00 00 00',
     dynmem.InfoMessage(trans_id=0, info_type=dynmem.INFO_MAX_PAGE_COUNT,
                        max_page_count=524288)),
    ('v14_hot_remove_request',
     '0d 00 18 00 06 00 00 00 00 00 00 00 00 04 00 00 01 00 00 00 00 00 00 00',
     dynmem.HotRemoveRequest(trans_id=6, page_count=1024, qos_flags=dynmem.REMOVE_QOS_LARGE)),
]


@pytest.mark.parametrize('name,hexwire,want', VECTORS, ids=[v[0] for v in VECTORS])
def test_vector(name, hexwire, want):
    wire = H(hexwire)
    got = dynmem.decode(wire)
    assert type(got) is type(want), name
    assert got == want
    assert got.length == len(wire)
    assert got.flags == 0, 'a vector has no reserved bits set'
    assert got.type == want.TYPE
    assert dynmem.encoded_size(want) == len(wire)
    assert dynmem.encode(want) == wire
    assert dynmem.encode(got) == wire, 're-encoding the decoded message'


def test_every_type_has_a_vector_or_round_trip():
    covered = {type(v[2]) for v in VECTORS}
    extra = [dynmem.ErrorMessage(trans_id=1, payload=b'\x01\x02\x03'),
             dynmem.HotRemoveResponse(trans_id=2, result=1, more_pages=True,
                                      ranges=[(5, 6), (100, 1)]),
             dynmem.InfoMessage(trans_id=3, info_type=7, data=b'abcd')]
    for m in extra:
        assert dynmem.decode(dynmem.encode(m)) == m
        covered.add(type(m))
    assert {t.value for t in dynmem.MessageType} == {c.TYPE for c in covered}


def test_range_packing():
    assert dynmem.unpack_range(0x0002000000012345) == Range(0x12345, 512)
    assert dynmem.pack_range(0x12345, 512) == 0x0002000000012345
    with pytest.raises(dynmem.Error) as e:
        dynmem.pack_range(1 << 40, 1)
    assert e.value.code == dynmem.ErrorCode.PROTO_BAD_RANGE
    assert dynmem.protocol_version(2, 0) == dynmem.VERSION_WIN10


def test_stream():
    a = dynmem.encode(dynmem.BalloonRequest(num_pages=5, trans_id=1))
    b = dynmem.encode(dynmem.UnballoonResponse(trans_id=2))
    stream = a + b
    m, used = dynmem.decode_stream(stream)
    assert m == dynmem.BalloonRequest(num_pages=5, trans_id=1) and used == len(a)
    m, used = dynmem.decode_stream(memoryview(stream)[used:])
    assert m == dynmem.UnballoonResponse(trans_id=2) and used == len(b)
    with pytest.raises(dynmem.Error) as e:
        dynmem.decode_stream(a[:3])
    assert e.value.code == dynmem.ErrorCode.PROTO_TRUNCATED and e.value.needed == 8
    with pytest.raises(dynmem.Error) as e:
        dynmem.decode_stream(a[:10])
    assert e.value.needed == len(a)
    with pytest.raises(dynmem.Error) as e:
        dynmem.decode(stream)
    assert e.value.name == 'DYNMEM_ERR_PROTO_TRAILING_BYTES'


def test_decode_errors():
    cases = [
        (b'', 'PROTO_TRUNCATED'),
        (H('01 00 04 00 00 00 00 00'), 'PROTO_HEADER_SIZE'),
        (H('63 00 08 00 00 00 00 00'), 'PROTO_UNKNOWN_TYPE'),
        (H('06 00 0c 00 00 00 00 00 00 00 00 00'), 'PROTO_BAD_SIZE'),
    ]
    for wire, name in cases:
        with pytest.raises(dynmem.Error) as e:
            dynmem.decode(wire)
        assert e.value.code == dynmem.ErrorCode[name], name
        assert e.value.name == 'DYNMEM_ERR_' + name
        assert e.value.message == dynmem.strerror(e.value.code)
        assert e.value.function == 'dynmem_proto_decode'
        assert str(e.value).startswith('DYNMEM_ERR_' + name + ': ')
    hot_remove = dynmem.encode(dynmem.HotRemoveRequest(page_count=1))
    with pytest.raises(dynmem.Error) as e:
        dynmem.decode(hot_remove, dynmem.VERSION_WIN8)
    assert e.value.code == dynmem.ErrorCode.PROTO_VERSION
    with pytest.raises(dynmem.Error) as e:
        dynmem.encode(dynmem.HotRemoveRequest(page_count=1), dynmem.VERSION_WIN7)
    assert e.value.code == dynmem.ErrorCode.PROTO_VERSION


def test_reserved_bits_flag():
    wire = bytearray(dynmem.encode(dynmem.VersionResponse(is_accepted=True)))
    wire[9] = 0x80
    m = dynmem.decode(bytes(wire))
    assert m.flags & dynmem.DecodeFlag.RESERVED_BITS
    assert m == dynmem.VersionResponse(is_accepted=True), 'flags are not compared'


def test_encode_errors():
    with pytest.raises(dynmem.Error) as e:
        dynmem.encode(dynmem.BalloonResponse(ranges=[(0, 1)] * 511))
    assert e.value.code == dynmem.ErrorCode.PROTO_TOO_MANY_RANGES
    with pytest.raises(dynmem.Error) as e:
        dynmem.encode(dynmem.BalloonResponse(ranges=[(0, 1 << 24)]))
    assert e.value.code == dynmem.ErrorCode.PROTO_BAD_RANGE
    with pytest.raises(dynmem.Error) as e:
        dynmem.encode(dynmem.CapabilitiesReport(hot_add_alignment=16))
    assert e.value.code == dynmem.ErrorCode.PROTO_BAD_FIELD
    # Refused in Python, before the library: wrong types and values that do
    # not fit their C field.
    with pytest.raises(TypeError):
        dynmem.encode(b'\x00' * 8)
    with pytest.raises(TypeError):
        dynmem.encode(dynmem.Message())
    with pytest.raises(ValueError):
        dynmem.encode(dynmem.BalloonRequest(num_pages=1 << 32))
    with pytest.raises(ValueError):
        dynmem.encode(dynmem.BalloonRequest(trans_id=-1))
    with pytest.raises(TypeError):
        dynmem.encode(dynmem.BalloonRequest(num_pages='5'))
    with pytest.raises(TypeError):
        dynmem.encode(dynmem.VersionResponse(is_accepted='yes'))
    with pytest.raises(TypeError):
        dynmem.encode(dynmem.BalloonResponse(ranges=[1, 2]))
    with pytest.raises(TypeError):
        dynmem.encode(dynmem.ErrorMessage(payload='text'))
    with pytest.raises(ValueError):
        dynmem.encode(dynmem.CapabilitiesReport(hot_add_alignment=256))
    with pytest.raises(TypeError):
        dynmem.decode('01 00')
    with pytest.raises(ValueError):
        dynmem.decode(b'', version=-1)


def test_status_report_feeds_a_sample():
    m = dynmem.decode(H(VECTORS[5][1]))
    s = dynmem.Sample.from_dm_status(5000, m.num_committed, m.num_avail)
    assert s.committed_bytes == 524288 * 4096
    assert s.available_bytes == 262144 * 4096


def test_alignment_conversion_at_its_limits():
    assert dynmem.alignment_bytes(0) == 1 << 20
    assert dynmem.alignment_bytes(7) == 128 << 20
    assert dynmem.alignment_bytes(dynmem.ALIGNMENT_MAX) == 32 << 30
    for e in range(dynmem.ALIGNMENT_MAX + 1):
        assert dynmem.alignment_exponent(dynmem.alignment_bytes(e)) == e
    for bad in (16, 255):
        with pytest.raises(dynmem.Error) as e:
            dynmem.alignment_bytes(bad)
        assert e.value.code == dynmem.ErrorCode.OUT_OF_RANGE
    for bad in (0, 3 << 20, 64 << 30):
        with pytest.raises(dynmem.Error) as e:
            dynmem.alignment_exponent(bad)
        assert e.value.code == dynmem.ErrorCode.OUT_OF_RANGE
    with pytest.raises(ValueError):
        dynmem.alignment_bytes(-1)
    # What a decoded report announces is what a VM's configuration takes.
    msg = dynmem.decode(dynmem.encode(dynmem.CapabilitiesReport(hot_add=True, hot_add_alignment=7)))
    assert dynmem.VMConfig(startup_bytes=1 << 30,
                           hot_add_alignment_bytes=dynmem.alignment_bytes(msg.hot_add_alignment)
                           ).hot_add_alignment_bytes == 128 << 20
