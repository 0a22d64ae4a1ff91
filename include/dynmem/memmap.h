/**
 * @file memmap.h
 * @brief The per-VM memory map: the host's books of what one guest holds
 *        (boot memory, hot-added memory, ballooned and hot-removed pages)
 *        and the planning of the next hot-add or unballoon.
 *
 * Everything is counted in 4 KiB guest pages (see dynmem/pages.h for the
 * conversions) and every figure can also be read in bytes. Page numbers
 * are limited to the protocol's 40-bit frame numbers
 * (DYNMEM_MEMMAP_PAGES_MAX, i.e. 2^52 bytes of guest-physical address), so
 * no figure can overflow in either unit.
 *
 * The books only change on facts: a range the guest reported, a hot-add
 * the guest confirmed. Claims that cannot be true (pages outside the
 * guest's memory, pages already ballooned) are refused with an error and
 * not counted, so a hostile or buggy guest cannot corrupt them. Every
 * refused call leaves the map unchanged.
 *
 * Figures (enum dynmem_memmap_figure) always satisfy:
 * visible = boot + added - removed, current = visible - ballooned,
 * window = added + remaining + unusable (once a window is set).
 *
 * @par Example
 * A guest with 4 GiB of boot memory and a 32 GiB hot-add window at 32 GiB
 * that should grow by 2 GiB (error checks left out):
 * @code
 * dynmem_memmap *m;
 * uint64_t start, count, added, want = UINT64_C(2) << 18;   // 2 GiB in pages
 * dynmem_memmap_new(&m, NULL);
 * dynmem_memmap_add_boot(m, 0, UINT64_C(4) << 18);
 * dynmem_memmap_set_hot_add_window(m, UINT64_C(32) << 18, UINT64_C(32) << 18);
 * dynmem_memmap_set_hot_add_alignment(m, 7);                 // from the guest's caps
 * // Give back ballooned pages first, then hot-add the rest.
 * while (want && dynmem_memmap_unballoon_take(m, want, &start, &count) == 0 && count) {
 *     send_unballoon(start, count);
 *     want -= count;
 * }
 * while (want && dynmem_memmap_hot_add_plan(m, want, &start, &count) == 0 && count) {
 *     added = send_hot_add_and_wait(start, count);           // the guest's page_count
 *     dynmem_memmap_hot_add_done(m, start, count, added, &added);
 *     if (added < count)
 *         break;                                             // the window is given up
 *     want -= added;
 * }
 * @endcode
 *
 * @par Thread safety
 * A map may be used by one thread at a time; distinct maps are independent.
 * The set returned by dynmem_memmap_ballooned() belongs to the map and
 * follows the same rule.
 */
#ifndef DYNMEM_MEMMAP_H
#define DYNMEM_MEMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dynmem/common.h>
#include <dynmem/pages.h>

DYNMEM_BEGIN_DECLS

/**
 * @defgroup memmap Memory map
 * @{
 */

/** Page numbers the map accepts are below this: 2^40 pages, 2^52 bytes. */
#define DYNMEM_MEMMAP_PAGES_MAX (UINT64_C(1) << 40)

/** Most pages planned for one hot-add request unless the alignment is
 *  larger (524288 pages, 2 GiB, as QEMU); also a sensible cap for one
 *  unballoon range. */
#define DYNMEM_MEMMAP_CHUNK_PAGES UINT64_C(524288)

/** The largest hot-add alignment a guest can announce: 2^15 MiB. */
#define DYNMEM_MEMMAP_ALIGNMENT_MAX 15u

/** The figures a map keeps; read them with dynmem_memmap_pages() or
 *  dynmem_memmap_bytes(). */
enum dynmem_memmap_figure {
    /** Boot memory: the sum of the ranges given to dynmem_memmap_add_boot(). */
    DYNMEM_MEMMAP_BOOT = 1,
    /** Guest-visible maximum: boot + added - removed. It only grows by
     *  hot-add and only shrinks by hot-remove; ballooning stays inside it. */
    DYNMEM_MEMMAP_VISIBLE = 2,
    /** Pages the guest has ballooned out and not yet been given back. */
    DYNMEM_MEMMAP_BALLOONED = 3,
    /** What the guest can use now: visible - ballooned. */
    DYNMEM_MEMMAP_CURRENT = 4,
    /** Pages hot-added (and confirmed by the guest) since the last system reset. */
    DYNMEM_MEMMAP_ADDED = 5,
    /** Pages hot-removed since the last system reset and not hot-added
     *  again. */
    DYNMEM_MEMMAP_REMOVED = 6,
    /** Size of the hot-add window (0 if none). */
    DYNMEM_MEMMAP_WINDOW = 7,
    /** Window pages still free for hot-add (before alignment). */
    DYNMEM_MEMMAP_REMAINING = 8,
    /** Window pages given up until the next system reset: the tail after a
     *  failed or partial hot-add, and pages skipped to align a request. */
    DYNMEM_MEMMAP_UNUSABLE = 9
};

/** A guest's memory map (opaque). */
typedef struct dynmem_memmap dynmem_memmap;

/**
 * Create an empty map: no boot memory, no hot-add window, hot-add
 * alignment 1 MiB (exponent 0) until dynmem_memmap_set_hot_add_alignment().
 * @param[out] out receives the new map; untouched on error
 * @param alloc allocator for every allocation the map makes (copied), or
 *        NULL for the C library's
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NO_MEMORY, or an error
 *         of the allocator check (DYNMEM_ERR_STRUCT_SIZE,
 *         DYNMEM_ERR_STRUCT_RESERVED, DYNMEM_ERR_BAD_ALLOCATOR)
 */
DYNMEM_API int dynmem_memmap_new(dynmem_memmap **out,
                                 const struct dynmem_allocator *alloc);

/**
 * Free a map.
 * @param map the map; NULL is a no-op
 */
DYNMEM_API void dynmem_memmap_free(dynmem_memmap *map);

/**
 * Describe a range of boot memory (call once per range; a VM may have
 * several, e.g. below and above a PCI hole).
 * @param map the map
 * @param start first guest page
 * @param count number of pages (at least 1)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (NULL map, zero count),
 *         DYNMEM_ERR_OUT_OF_RANGE (reaches DYNMEM_MEMMAP_PAGES_MAX),
 *         DYNMEM_ERR_PAGES_OVERLAP (overlaps boot memory or the hot-add
 *         window) or DYNMEM_ERR_NO_MEMORY
 */
DYNMEM_API int dynmem_memmap_add_boot(dynmem_memmap *map, uint64_t start, uint64_t count);

/**
 * Set the guest-physical window that hot-added memory is taken from,
 * filled from its start upwards. Replaces an earlier window.
 * @param map the map
 * @param start first page of the window
 * @param count pages in the window (at least 1)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_OUT_OF_RANGE,
 *         DYNMEM_ERR_PAGES_OVERLAP (overlaps boot memory) or
 *         DYNMEM_ERR_BAD_STATE (memory was already hot-added; a system
 *         reset comes first)
 */
DYNMEM_API int dynmem_memmap_set_hot_add_window(dynmem_memmap *map, uint64_t start,
                                                uint64_t count);

/**
 * Set the hot-add alignment the guest announced in its capabilities:
 * requests start and end on multiples of 2^log2_mib MiB.
 * @param map the map
 * @param log2_mib the exponent, 0 (1 MiB) to DYNMEM_MEMMAP_ALIGNMENT_MAX (32 GiB)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_OUT_OF_RANGE
 */
DYNMEM_API int dynmem_memmap_set_hot_add_alignment(dynmem_memmap *map,
                                                   unsigned log2_mib);

/**
 * Plan the next hot-add request towards @p wanted more pages. Pages the
 * guest hot-removed are no longer its own and are offered first: the
 * range is the lowest aligned run inside them. Otherwise it starts at the
 * first aligned page of what remains of the window. Its size is
 * min(wanted, run or remaining) rounded down to the alignment and capped
 * at DYNMEM_MEMMAP_CHUNK_PAGES rounded down to the alignment (or at one
 * alignment unit if that is larger). So a guest that shrank by hot-remove
 * can grow back to all it had. Call again after each
 * dynmem_memmap_hot_add_done() for the rest. Changes nothing.
 * @param map the map
 * @param wanted pages wanted (at least 1)
 * @param[out] out_start receives the first page to add
 * @param[out] out_count receives the pages to add; 0 (and @p out_start 0)
 *        when nothing can be added: no window, window used up or given up,
 *        or @p wanted below one alignment unit
 * @return 0 or DYNMEM_ERR_INVALID_ARGUMENT
 */
DYNMEM_API int dynmem_memmap_hot_add_plan(const dynmem_memmap *map, uint64_t wanted,
                                          uint64_t *out_start, uint64_t *out_count);

/**
 * Record the guest's answer to a hot-add request. The first @p added
 * pages of the range become guest memory (pages it had hot-removed leave
 * the REMOVED figure; window pages join ADDED). Anything less than the
 * whole range (including a failure, @p added = 0) gives up the rest of
 * the window, or for a range of hot-removed pages every hot-removed page,
 * until a system reset, as a guest that stops short cannot be expected to
 * take more. Pages of the window below @p start that were never added
 * (skipped for alignment) are given up too.
 * @param map the map
 * @param start first page of the request, as planned
 * @param count pages requested (at least 1)
 * @param added pages the guest reports added; a claim above @p count is
 *        cut down to @p count
 * @param[out] out_accepted if not NULL, receives the pages counted:
 *        min(added, count)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_OUT_OF_RANGE (the
 *         range is neither inside what remains of the window nor a run of
 *         hot-removed pages that may still be added again) or
 *         DYNMEM_ERR_NO_MEMORY
 */
DYNMEM_API int dynmem_memmap_hot_add_done(dynmem_memmap *map, uint64_t start,
                                          uint64_t count, uint64_t added,
                                          uint64_t *out_accepted);

/**
 * Record one range of a guest's balloon response: those pages are now the
 * host's. The range is refused whole, and nothing is counted, if any page
 * of it is not guest memory (never had, or hot-removed) or is already
 * ballooned, so a host never counts memory as free that the guest may
 * still use.
 * @param map the map
 * @param start first page
 * @param count number of pages (at least 1)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_OUT_OF_RANGE,
 *         DYNMEM_ERR_PAGES_OUTSIDE, DYNMEM_ERR_PAGES_BALLOONED or
 *         DYNMEM_ERR_NO_MEMORY
 */
DYNMEM_API int dynmem_memmap_balloon_record(dynmem_memmap *map, uint64_t start,
                                            uint64_t count);

/**
 * Choose pages to give back to the guest (unballoon) and take them off
 * the balloon books at once: the highest ballooned pages first, at most
 * @p max_count, all from one contiguous range. Call repeatedly for more
 * ranges; to undo (the request could not be sent), record the range again
 * with dynmem_memmap_balloon_record(). Never allocates.
 * @param map the map
 * @param max_count most pages to take (at least 1), e.g. the pages still
 *        wanted capped at DYNMEM_MEMMAP_CHUNK_PAGES
 * @param[out] out_start receives the first page given back
 * @param[out] out_count receives the number of pages; 0 (and @p out_start
 *        0) if nothing is ballooned
 * @return 0 or DYNMEM_ERR_INVALID_ARGUMENT
 */
DYNMEM_API int dynmem_memmap_unballoon_take(dynmem_memmap *map, uint64_t max_count,
                                            uint64_t *out_start, uint64_t *out_count);

/**
 * Record that the guest hot-removed a range (protocol 2.0 guests): the
 * pages leave the guest and the visible maximum and the current figure
 * shrink by @p count, until a hot-add gives them back
 * (dynmem_memmap_hot_add_plan()). As with dynmem_memmap_balloon_record(),
 * the range is refused whole, and nothing is counted, if any page of it is
 * not guest memory or is ballooned: ballooned pages are the host's already,
 * so a guest that offers them again gives nothing back.
 * @param map the map
 * @param start first page
 * @param count number of pages (at least 1)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_OUT_OF_RANGE,
 *         DYNMEM_ERR_PAGES_OUTSIDE (some page is not guest memory),
 *         DYNMEM_ERR_PAGES_BALLOONED (some page is ballooned) or
 *         DYNMEM_ERR_NO_MEMORY
 */
DYNMEM_API int dynmem_memmap_hot_remove_record(dynmem_memmap *map, uint64_t start,
                                               uint64_t count);

/**
 * Is every page of a range guest memory now (boot or hot-added, not
 * hot-removed)?
 * @param map the map
 * @param start first page
 * @param count number of pages (at least 1)
 * @param[out] out receives the answer
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_OUT_OF_RANGE
 */
DYNMEM_API int dynmem_memmap_is_guest_memory(const dynmem_memmap *map, uint64_t start,
                                             uint64_t count, bool *out);

/**
 * The ballooned pages as a read-only set, to list or query them with the
 * dynmem_pageset_* functions that take a const set.
 * @param map the map
 * @return the set, owned by the map and valid until it is freed; NULL if
 *         @p map is NULL
 */
DYNMEM_API const struct dynmem_pageset *dynmem_memmap_ballooned(const dynmem_memmap *map);

/**
 * Read a figure in pages.
 * @param map the map
 * @param figure which one (enum dynmem_memmap_figure)
 * @param[out] out_pages receives the figure
 * @return 0 or DYNMEM_ERR_INVALID_ARGUMENT (NULL pointer, unknown figure)
 */
DYNMEM_API int dynmem_memmap_pages(const dynmem_memmap *map,
                                   enum dynmem_memmap_figure figure, uint64_t *out_pages);

/**
 * Read a figure in bytes (pages * 4096; always below 2^52).
 * @param map the map
 * @param figure which one (enum dynmem_memmap_figure)
 * @param[out] out_bytes receives the figure
 * @return 0 or DYNMEM_ERR_INVALID_ARGUMENT (NULL pointer, unknown figure)
 */
DYNMEM_API int dynmem_memmap_bytes(const dynmem_memmap *map,
                                   enum dynmem_memmap_figure figure, uint64_t *out_bytes);

/**
 * Channel (VMBus) reset: the guest's balloon driver starts over and has
 * taken its ballooned pages back, so the balloon books are emptied.
 * Hot-added and hot-removed memory stay, and so does a given-up window
 * tail. Never fails.
 * @param map the map; NULL is a no-op
 */
DYNMEM_API void dynmem_memmap_reset_channel(dynmem_memmap *map);

/**
 * System reset: the guest reboots with its boot memory only. Balloon,
 * hot-add and hot-remove books are emptied and the whole window can be
 * hot-added again (as can hot-removed pages after a re-add stopped short);
 * boot ranges, window and alignment stay. Never fails.
 * @param map the map; NULL is a no-op
 */
DYNMEM_API void dynmem_memmap_reset_system(dynmem_memmap *map);

/** @} */

DYNMEM_END_DECLS

#endif /* DYNMEM_MEMMAP_H */
