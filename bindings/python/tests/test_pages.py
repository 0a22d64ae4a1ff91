"""PageSet and the page/byte conversions."""
import pytest

import dynmem
from dynmem import Range


def test_conversions():
    assert dynmem.PAGE_SIZE == 4096 and dynmem.PAGE_SHIFT == 12
    assert dynmem.pages_to_bytes(3) == 12288
    assert dynmem.bytes_to_pages(4097) == 1
    assert dynmem.bytes_to_pages(4097, round_up=True) == 2
    with pytest.raises(dynmem.Error) as e:
        dynmem.pages_to_bytes(1 << 60)
    assert e.value.code == dynmem.ErrorCode.OVERFLOW


def test_set_operations():
    s = dynmem.PageSet([(10, 5), Range(20, 5)])
    assert s.pages == 10 and s.range_count == 2
    assert s.add(15, 5) == 0            # touches both: one range
    assert s.ranges() == [Range(10, 15)]
    assert s.add(12, 2) == 2
    assert 12 in s and 9 not in s and (10, 15) in s
    assert s.contains(10, 15) and not s.contains(10, 16)
    assert s.intersects(0, 11) and not s.intersects(0, 10)
    assert s.count_in(0, 20) == 10
    assert s.remove(12, 3) == 3
    assert list(s) == [Range(10, 2), Range(15, 10)]
    assert s.next(13) == Range(15, 10) and s.next(100) is None
    assert s.pop(4) == Range(21, 4)
    assert s.footprint > 0
    assert 'PageSet 8 pages in 2 ranges' in repr(s)
    s.clear()
    assert not s and s.pop(1) is None and s.pages == 0


def test_set_errors():
    s = dynmem.PageSet()
    with pytest.raises(ValueError):
        s.add(0, 0)                       # zero count refused in Python
    with pytest.raises(ValueError):
        s.add(-1, 1)
    with pytest.raises(TypeError):
        s.add('0', 1)
    with pytest.raises(dynmem.Error) as e:
        s.add((1 << 64) - 2, 5)           # wraps: the library refuses it
    assert e.value.code == dynmem.ErrorCode.OUT_OF_RANGE
    with pytest.raises(ValueError):
        s.pop(0)
