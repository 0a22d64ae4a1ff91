"""Sets of guest page ranges (dynmem/pages.h) and page/byte conversions.

A page is a 64-bit page number (guest-physical address / 4096). Ranges are
given as a first page and a count (at least 1); the set keeps the union of
what was added as disjoint, merged ranges.
"""
from ._ffi import ffi, lib
from ._handle import new_handle
from ._util import boolean, integer, u64
from .codec import Range
from .errors import check

#: The page size in bytes (4096).
PAGE_SIZE = lib.DYNMEM_PAGE_SIZE
#: log2 of the page size.
PAGE_SHIFT = lib.DYNMEM_PAGE_SHIFT


def pages_to_bytes(pages):
    """pages * 4096; raises Error OVERFLOW beyond 64 bits."""
    out = ffi.new('uint64_t *')
    check(lib.dynmem_pages_to_bytes(u64('pages', pages), out), 'dynmem_pages_to_bytes')
    return out[0]


def bytes_to_pages(nbytes, round_up=False):
    """Whole pages in ``nbytes`` (rounded down), or needed to hold it (round_up)."""
    out = ffi.new('uint64_t *')
    check(lib.dynmem_bytes_to_pages(u64('nbytes', nbytes), boolean('round_up', round_up), out),
          'dynmem_bytes_to_pages')
    return out[0]


def _count(count):
    return integer('count', count, 1, (1 << 64) - 1)


class PageSetView:
    """Read-only access to a set of page ranges (e.g. MemoryMap.ballooned).

    Iterating yields Range(start_page, page_count) in ascending order.
    """

    def __init__(self, ptr, owner):
        self._s = ptr
        self._owner = owner  # keeps the C object alive

    def intersects(self, start, count=1):
        """True if any page of the range is in the set."""
        out = ffi.new('bool *')
        check(lib.dynmem_pageset_intersects(self._s, u64('start', start), _count(count), out),
              'dynmem_pageset_intersects')
        return bool(out[0])

    def contains(self, start, count=1):
        """True if every page of the range is in the set."""
        out = ffi.new('bool *')
        check(lib.dynmem_pageset_contains(self._s, u64('start', start), _count(count), out),
              'dynmem_pageset_contains')
        return bool(out[0])

    def __contains__(self, page):
        """``page in s``: one page number (or a Range / (start, count) tuple)."""
        if isinstance(page, tuple):
            return self.contains(*page)
        return self.contains(page, 1)

    def count_in(self, start, count):
        """How many pages of the range are in the set."""
        out = ffi.new('uint64_t *')
        check(lib.dynmem_pageset_count_in(self._s, u64('start', start), _count(count), out),
              'dynmem_pageset_count_in')
        return out[0]

    def next(self, from_page=0):
        """The first stored Range that ends after ``from_page``, or None."""
        start = ffi.new('uint64_t *')
        count = ffi.new('uint64_t *')
        rc = lib.dynmem_pageset_next(self._s, u64('from_page', from_page), start, count)
        if rc == lib.DYNMEM_ERR_NOT_FOUND:
            return None
        check(rc, 'dynmem_pageset_next')
        return Range(start[0], count[0])

    def __iter__(self):
        page = 0
        while True:
            r = self.next(page)
            if r is None:
                return
            yield r
            page = r.start_page + r.page_count

    def ranges(self):
        """Every stored Range, in ascending order, as a list."""
        return list(self)

    @property
    def pages(self):
        """Total pages in the set."""
        return lib.dynmem_pageset_pages(self._s)

    @property
    def range_count(self):
        """Number of stored ranges (maximal runs of consecutive pages)."""
        return lib.dynmem_pageset_ranges(self._s)

    @property
    def footprint(self):
        """Bytes the set holds from its allocator."""
        return lib.dynmem_pageset_footprint(self._s)

    def __bool__(self):
        return self.range_count != 0

    def __repr__(self):
        shown = ', '.join(f'({r.start_page:#x}, {r.page_count})' for r, _ in
                          zip(self, range(8)))
        more = ', ...' if self.range_count > 8 else ''
        return f'<{type(self).__name__} {self.pages} pages in {self.range_count} ranges: ' \
               f'[{shown}{more}]>'


class PageSet(PageSetView):
    """A set of disjoint page ranges (dynmem_pageset), freed by the garbage
    collector. ``PageSet([(start, count), ...])`` adds the given ranges."""

    def __init__(self, ranges=()):
        super().__init__(new_handle('dynmem_pageset', 'struct dynmem_pageset'), None)
        for r in ranges:
            self.add(*r)

    def add(self, start, count=1):
        """Add pages, merging with ranges they overlap or touch; return how
        many were already in the set."""
        dup = ffi.new('uint64_t *')
        check(lib.dynmem_pageset_insert(self._s, u64('start', start), _count(count), dup),
              'dynmem_pageset_insert')
        return dup[0]

    def remove(self, start, count=1):
        """Remove pages (those absent are ignored); return how many were removed."""
        removed = ffi.new('uint64_t *')
        check(lib.dynmem_pageset_remove(self._s, u64('start', start), _count(count), removed),
              'dynmem_pageset_remove')
        return removed[0]

    def pop(self, max_count):
        """Take up to ``max_count`` of the highest pages (from the highest range);
        return the Range taken, or None if the set is empty."""
        start = ffi.new('uint64_t *')
        count = ffi.new('uint64_t *')
        check(lib.dynmem_pageset_pop(self._s, integer('max_count', max_count, 1, (1 << 64) - 1),
                                     start, count), 'dynmem_pageset_pop')
        return Range(start[0], count[0]) if count[0] else None

    def clear(self):
        """Empty the set, releasing its memory."""
        lib.dynmem_pageset_clear(self._s)


__all__ = ['PAGE_SIZE', 'PAGE_SHIFT', 'pages_to_bytes', 'bytes_to_pages', 'PageSetView',
           'PageSet']
