"""MemoryMap: the memmap.h example, balloon books and errors."""
import pytest

import dynmem
from dynmem import Range

GIB_PAGES = 1 << 18


def test_header_example():
    m = dynmem.MemoryMap()
    m.add_boot(0, 4 * GIB_PAGES)
    m.set_hot_add_window(32 * GIB_PAGES, 32 * GIB_PAGES)
    m.set_hot_add_alignment(7)
    want = 2 * GIB_PAGES
    assert m.unballoon_take(want) is None
    plan = m.hot_add_plan(want)
    assert plan == Range(32 * GIB_PAGES, 2 * GIB_PAGES)
    assert m.hot_add_done(plan.start_page, plan.page_count, plan.page_count) == plan.page_count
    f = m.figures()
    assert f['visible'] == 6 * GIB_PAGES and f['added'] == 2 * GIB_PAGES
    assert m.bytes_of('visible') == 6 << 30
    assert m.pages_of(dynmem.Figure.BOOT) == 4 * GIB_PAGES
    assert m.figures('bytes')['boot'] == 4 << 30
    assert m.is_guest_memory(32 * GIB_PAGES, 10)
    assert not m.is_guest_memory(4 * GIB_PAGES, 1)


def test_balloon_books():
    m = dynmem.MemoryMap()
    m.add_boot(0, 1000)
    m.balloon_record(100, 50)
    m.balloon_record(500, 10)
    b = m.ballooned
    assert b.ranges() == [Range(100, 50), Range(500, 10)] and b.pages == 60
    assert 120 in b and 200 not in b
    with pytest.raises(dynmem.Error) as e:
        m.balloon_record(120, 1)
    assert e.value.code == dynmem.ErrorCode.PAGES_BALLOONED
    with pytest.raises(dynmem.Error) as e:
        m.balloon_record(999, 2)
    assert e.value.code == dynmem.ErrorCode.PAGES_OUTSIDE
    assert m.unballoon_take(4) == Range(506, 4)
    assert m.pages_of('current') == 1000 - 56
    with pytest.raises(dynmem.Error) as e:
        m.hot_remove_record(100, 60)  # pages 100..149 are ballooned
    assert e.value.code == dynmem.ErrorCode.PAGES_BALLOONED
    assert m.pages_of('visible') == 1000
    m.hot_remove_record(150, 60)
    assert m.pages_of('visible') == 940
    assert m.pages_of('current') == 1000 - 56 - 60
    m.reset_channel()
    assert m.pages_of('ballooned') == 0
    m.reset_system()
    assert m.pages_of('visible') == 1000
    del m
    assert b.pages == 0, 'the view keeps its map alive'
    assert 'visible=' in repr(dynmem.MemoryMap())


def test_memmap_errors():
    m = dynmem.MemoryMap()
    m.add_boot(0, 100)
    with pytest.raises(dynmem.Error) as e:
        m.add_boot(50, 100)
    assert e.value.code == dynmem.ErrorCode.PAGES_OVERLAP
    with pytest.raises(dynmem.Error) as e:
        m.set_hot_add_alignment(16)
    assert e.value.code == dynmem.ErrorCode.OUT_OF_RANGE
    with pytest.raises(ValueError):
        m.add_boot(200, 0)
    with pytest.raises(ValueError):
        m.pages_of('nonsense')
    with pytest.raises(ValueError):
        m.figures('kib')
    with pytest.raises(TypeError):
        m.balloon_record(1.0, 1)
