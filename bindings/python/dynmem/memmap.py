"""The per-VM memory map (dynmem/memmap.h): the host's books of what one
guest holds, and the planning of the next hot-add or unballoon.

Everything is in 4 KiB pages; every figure can also be read in bytes.
"""
from ._ffi import ffi, lib
from ._handle import new_handle
from ._util import c_enum, integer, param, u64
from .codec import Range
from .errors import check
from .pages import PageSetView

Figure = c_enum('Figure', 'enum dynmem_memmap_figure', 'DYNMEM_MEMMAP_',
                'The figures a memory map keeps (enum dynmem_memmap_figure): BOOT, VISIBLE, '
                'BALLOONED, CURRENT, ADDED, REMOVED, WINDOW, REMAINING, UNUSABLE.')

#: Page numbers the map accepts are below this (2^40).
MEMMAP_PAGES_MAX = lib.DYNMEM_MEMMAP_PAGES_MAX
#: Most pages planned for one hot-add request (2 GiB) unless the alignment is larger.
MEMMAP_CHUNK_PAGES = lib.DYNMEM_MEMMAP_CHUNK_PAGES
#: The largest hot-add alignment exponent a guest can announce (2^15 MiB).
MEMMAP_ALIGNMENT_MAX = lib.DYNMEM_MEMMAP_ALIGNMENT_MAX


def _count(name, count):
    return integer(name, count, 1, (1 << 64) - 1)


class MemoryMap:
    """One guest's memory map (dynmem_memmap), freed by the garbage collector."""

    def __init__(self):
        self._m = new_handle('dynmem_memmap', 'struct dynmem_memmap')

    def add_boot(self, start, count):
        """Describe a range of boot memory (once per range)."""
        check(lib.dynmem_memmap_add_boot(self._m, u64('start', start), _count('count', count)),
              'dynmem_memmap_add_boot')

    def set_hot_add_window(self, start, count):
        """Set the guest-physical window hot-added memory is taken from."""
        check(lib.dynmem_memmap_set_hot_add_window(self._m, u64('start', start),
                                                   _count('count', count)),
              'dynmem_memmap_set_hot_add_window')

    def set_hot_add_alignment(self, log2_mib):
        """Set the guest's hot-add alignment: 2^log2_mib MiB (0..MEMMAP_ALIGNMENT_MAX)."""
        check(lib.dynmem_memmap_set_hot_add_alignment(
            self._m, integer('log2_mib', log2_mib, 0, (1 << 32) - 1)),
            'dynmem_memmap_set_hot_add_alignment')

    def hot_add_plan(self, wanted):
        """The next hot-add request towards ``wanted`` more pages as a Range,
        or None when nothing can be added. Changes nothing."""
        start = ffi.new('uint64_t *')
        count = ffi.new('uint64_t *')
        check(lib.dynmem_memmap_hot_add_plan(self._m, _count('wanted', wanted), start, count),
              'dynmem_memmap_hot_add_plan')
        return Range(start[0], count[0]) if count[0] else None

    def hot_add_done(self, start, count, added):
        """Record the guest's answer to a hot-add request; return the pages
        counted (min(added, count)). Less than count gives up the window's rest."""
        accepted = ffi.new('uint64_t *')
        check(lib.dynmem_memmap_hot_add_done(self._m, u64('start', start), _count('count', count),
                                             u64('added', added), accepted),
              'dynmem_memmap_hot_add_done')
        return accepted[0]

    def balloon_record(self, start, count):
        """Record one range of a balloon response (refused whole with Error
        PAGES_OUTSIDE or PAGES_BALLOONED if any page cannot be the guest's)."""
        check(lib.dynmem_memmap_balloon_record(self._m, u64('start', start),
                                               _count('count', count)),
              'dynmem_memmap_balloon_record')

    def unballoon_take(self, max_count):
        """Take up to ``max_count`` of the highest ballooned pages off the books
        to give back; return the Range, or None if nothing is ballooned."""
        start = ffi.new('uint64_t *')
        count = ffi.new('uint64_t *')
        check(lib.dynmem_memmap_unballoon_take(self._m, _count('max_count', max_count),
                                               start, count), 'dynmem_memmap_unballoon_take')
        return Range(start[0], count[0]) if count[0] else None

    def hot_remove_record(self, start, count):
        """Record a hot-removed range. Refused whole (PAGES_OUTSIDE,
        PAGES_BALLOONED) if a page of it is not guest memory or is ballooned."""
        check(lib.dynmem_memmap_hot_remove_record(self._m, u64('start', start),
                                                  _count('count', count)),
              'dynmem_memmap_hot_remove_record')

    def is_guest_memory(self, start, count=1):
        """True if every page of the range is guest memory now."""
        out = ffi.new('bool *')
        check(lib.dynmem_memmap_is_guest_memory(self._m, u64('start', start),
                                                _count('count', count), out),
              'dynmem_memmap_is_guest_memory')
        return bool(out[0])

    @property
    def ballooned(self):
        """The ballooned pages as a read-only PageSetView (kept alive with the map)."""
        return PageSetView(lib.dynmem_memmap_ballooned(self._m), self)

    def pages_of(self, figure):
        """A figure (a Figure or its name, e.g. 'visible') in pages."""
        out = ffi.new('uint64_t *')
        check(lib.dynmem_memmap_pages(self._m, param(Figure, figure), out), 'dynmem_memmap_pages')
        return out[0]

    def bytes_of(self, figure):
        """A figure (a Figure or its name) in bytes."""
        out = ffi.new('uint64_t *')
        check(lib.dynmem_memmap_bytes(self._m, param(Figure, figure), out), 'dynmem_memmap_bytes')
        return out[0]

    def figures(self, unit='pages'):
        """Every figure as a dict by lower-case name, in 'pages' or 'bytes'."""
        if unit not in ('pages', 'bytes'):
            raise ValueError("unit must be 'pages' or 'bytes'")
        read = self.pages_of if unit == 'pages' else self.bytes_of
        return {f.name.lower(): read(f) for f in Figure}

    def reset_channel(self):
        """Channel reset: the balloon books are emptied."""
        lib.dynmem_memmap_reset_channel(self._m)

    def reset_system(self):
        """System reset: back to boot memory; the whole window is usable again."""
        lib.dynmem_memmap_reset_system(self._m)

    def __repr__(self):
        f = self.figures()
        return f'<MemoryMap visible={f["visible"]} current={f["current"]} ' \
               f'ballooned={f["ballooned"]} pages>'


__all__ = ['Figure', 'MemoryMap', 'MEMMAP_PAGES_MAX', 'MEMMAP_CHUNK_PAGES',
           'MEMMAP_ALIGNMENT_MAX']
