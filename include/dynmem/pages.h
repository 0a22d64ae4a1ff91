/**
 * @file pages.h
 * @brief Sets of guest page ranges: which 4 KiB pages are in a given state
 *        (ballooned, hot-added, ...), kept as disjoint, merged ranges.
 *
 * A page is named by its 64-bit page number (guest-physical address / 4096).
 * A range is given as a first page and a page count; the set stores the
 * union of everything inserted, merging ranges that overlap or touch, so
 * two stored ranges never touch. Every operation costs O(log n) in the
 * number of stored ranges (plus the ranges it merges or walks over), and a
 * stored range takes about 16 to 32 bytes.
 *
 * A range is valid when its count is at least 1 and start + count does not
 * exceed 2^64 - 1 (so the page numbered 2^64 - 1 can never be stored):
 * a zero count is refused with DYNMEM_ERR_INVALID_ARGUMENT, a range that
 * would wrap with DYNMEM_ERR_OUT_OF_RANGE.
 *
 * Also here: the page size and checked conversions between pages and bytes.
 *
 * @par Thread safety
 * A set may be used by one thread at a time; distinct sets are independent.
 * dynmem_pages_to_bytes() and dynmem_bytes_to_pages() are pure and safe
 * from any thread.
 */
#ifndef DYNMEM_PAGES_H
#define DYNMEM_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dynmem/common.h>

DYNMEM_BEGIN_DECLS

/**
 * @defgroup pages Page ranges
 * @{
 */

/** log2 of the page size: pages are 4 KiB, as in the Hyper-V protocol. */
#define DYNMEM_PAGE_SHIFT 12
/** The page size in bytes (4096). */
#define DYNMEM_PAGE_SIZE (UINT64_C(1) << DYNMEM_PAGE_SHIFT)

/**
 * Convert a page count to bytes.
 * @param pages number of 4 KiB pages
 * @param[out] out_bytes receives pages * 4096; untouched on error
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT if @p out_bytes is NULL, or
 *         DYNMEM_ERR_OVERFLOW if the result does not fit 64 bits
 */
DYNMEM_API int dynmem_pages_to_bytes(uint64_t pages, uint64_t *out_bytes);

/**
 * Convert a byte count to whole pages.
 * @param bytes number of bytes
 * @param round_up false: pages wholly inside @p bytes (round down);
 *                 true: pages needed to hold @p bytes (round up)
 * @param[out] out_pages receives the page count; untouched on error
 * @return 0 or DYNMEM_ERR_INVALID_ARGUMENT if @p out_pages is NULL
 */
DYNMEM_API int dynmem_bytes_to_pages(uint64_t bytes, bool round_up, uint64_t *out_pages);

/** A set of disjoint page ranges (opaque). */
typedef struct dynmem_pageset dynmem_pageset;

/**
 * Create an empty set.
 * @param[out] out receives the new set; untouched on error
 * @param alloc allocator for every allocation the set makes (copied), or
 *        NULL for the C library's
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NO_MEMORY, or an error
 *         of the allocator check (DYNMEM_ERR_STRUCT_SIZE,
 *         DYNMEM_ERR_STRUCT_RESERVED, DYNMEM_ERR_BAD_ALLOCATOR)
 */
DYNMEM_API int dynmem_pageset_new(dynmem_pageset **out,
                                  const struct dynmem_allocator *alloc);

/**
 * Free a set and everything it holds.
 * @param set the set; NULL is a no-op
 */
DYNMEM_API void dynmem_pageset_free(dynmem_pageset *set);

/**
 * Add pages to the set, merging with ranges they overlap or touch.
 * @param set the set
 * @param start first page
 * @param count number of pages (at least 1)
 * @param[out] out_duplicates if not NULL, receives how many of the pages
 *        were already in the set (so the set grew by count - duplicates)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (NULL set, zero count),
 *         DYNMEM_ERR_OUT_OF_RANGE (range wraps past 2^64 - 1) or
 *         DYNMEM_ERR_NO_MEMORY; on error the set is unchanged
 */
DYNMEM_API int dynmem_pageset_insert(dynmem_pageset *set, uint64_t start,
                                     uint64_t count, uint64_t *out_duplicates);

/**
 * Remove pages from the set, splitting a stored range if needed. Pages of
 * the range that are not in the set are ignored.
 * @param set the set
 * @param start first page
 * @param count number of pages (at least 1)
 * @param[out] out_removed if not NULL, receives how many pages were
 *        actually in the set and are now removed
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_OUT_OF_RANGE or
 *         DYNMEM_ERR_NO_MEMORY (splitting a range may need a node); on
 *         error the set is unchanged
 */
DYNMEM_API int dynmem_pageset_remove(dynmem_pageset *set, uint64_t start,
                                     uint64_t count, uint64_t *out_removed);

/**
 * Take up to @p max_count pages off the top of the set: from the stored
 * range with the highest page numbers, its highest pages. This is the order
 * in which ballooned memory is given back. Never allocates.
 * @param set the set
 * @param max_count most pages to take (at least 1)
 * @param[out] out_start receives the first page taken
 * @param[out] out_count receives the number of pages taken: min(max_count,
 *        size of the highest range); 0 if the set is empty (then
 *        @p out_start is set to 0)
 * @return 0 or DYNMEM_ERR_INVALID_ARGUMENT (NULL pointer, zero max_count)
 */
DYNMEM_API int dynmem_pageset_pop(dynmem_pageset *set, uint64_t max_count,
                                  uint64_t *out_start, uint64_t *out_count);

/**
 * Does any page of a range lie in the set?
 * @param set the set
 * @param start first page
 * @param count number of pages (at least 1)
 * @param[out] out receives true if at least one page is in the set
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_OUT_OF_RANGE
 */
DYNMEM_API int dynmem_pageset_intersects(const dynmem_pageset *set, uint64_t start,
                                         uint64_t count, bool *out);

/**
 * Does the set hold every page of a range?
 * @param set the set
 * @param start first page
 * @param count number of pages (at least 1)
 * @param[out] out receives true if all pages are in the set
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_OUT_OF_RANGE
 */
DYNMEM_API int dynmem_pageset_contains(const dynmem_pageset *set, uint64_t start,
                                       uint64_t count, bool *out);

/**
 * Count the pages of a range that are in the set. Costs O(log n + k) for
 * the k stored ranges the range overlaps.
 * @param set the set
 * @param start first page
 * @param count number of pages (at least 1)
 * @param[out] out_present receives the number of pages present
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_OUT_OF_RANGE
 */
DYNMEM_API int dynmem_pageset_count_in(const dynmem_pageset *set, uint64_t start,
                                       uint64_t count, uint64_t *out_present);

/**
 * Find the first stored range that ends after @p from: the range holding
 * page @p from, or else the next one above it. Iterate over the whole set
 * in ascending order with from = 0, then from = start + count of each range
 * returned, until DYNMEM_ERR_NOT_FOUND. The set may be changed between
 * calls.
 * @param set the set
 * @param from a page number
 * @param[out] out_start receives the first page of the whole stored range
 * @param[out] out_count receives its page count
 * @return 0, DYNMEM_ERR_NOT_FOUND (no range above @p from; outputs
 *         untouched) or DYNMEM_ERR_INVALID_ARGUMENT
 */
DYNMEM_API int dynmem_pageset_next(const dynmem_pageset *set, uint64_t from,
                                   uint64_t *out_start, uint64_t *out_count);

/**
 * Total pages in the set.
 * @param set the set (NULL gives 0)
 * @return the number of pages, at most 2^64 - 1
 */
DYNMEM_API uint64_t dynmem_pageset_pages(const dynmem_pageset *set);

/**
 * Number of stored ranges: maximal runs of consecutive pages.
 * @param set the set (NULL gives 0)
 * @return the number of ranges
 */
DYNMEM_API size_t dynmem_pageset_ranges(const dynmem_pageset *set);

/**
 * Bytes the set holds from its allocator (handle and nodes), to watch its
 * footprint; allocator bookkeeping is not included.
 * @param set the set (NULL gives 0)
 * @return the number of bytes
 */
DYNMEM_API size_t dynmem_pageset_footprint(const dynmem_pageset *set);

/**
 * Empty the set, releasing its memory. Never fails.
 * @param set the set; NULL is a no-op
 */
DYNMEM_API void dynmem_pageset_clear(dynmem_pageset *set);

/** @} */

DYNMEM_END_DECLS

#endif /* DYNMEM_PAGES_H */
