/* NULL-argument entries of common.h, proto.h, pages.h, memmap.h and
 * pressure.h: one thunk per function that takes a pointer. */
#include "null_args.h"

/* ---- proto.h ------------------------------------------------------------- */

static void t_msg_init(struct world *w)
{
    REFUSED("msg", dynmem_proto_msg_init(NULL, sizeof w->msg));
}

static void t_decode(struct world *w)
{
    size_t length;
    REFUSED("msg", dynmem_proto_decode(NULL, w->buf, w->len, 0, &length));
    REFUSED("buf", dynmem_proto_decode(&w->msg, NULL, w->len, 0, &length));
}

static void t_encode(struct world *w)
{
    REFUSED("buf", dynmem_proto_encode(NULL, sizeof w->buf, &w->msg, 0));
    REFUSED("msg", dynmem_proto_encode(w->buf, sizeof w->buf, NULL, 0));
}

static void t_encoded_size(struct world *w)
{
    REFUSED("msg", dynmem_proto_encoded_size(NULL, 0));
}

static void t_alignment_bytes(struct world *w)
{
    (void)w;
    REFUSED("bytes", dynmem_proto_alignment_bytes(7, NULL));
}

static void t_alignment_exponent(struct world *w)
{
    (void)w;
    REFUSED("exponent", dynmem_proto_alignment_exponent(UINT64_C(128) << 20, NULL));
}

static void t_range_pack(struct world *w)
{
    REFUSED("out", dynmem_proto_range_pack(NULL, w->start, w->count));
}

static void t_range_unpack(struct world *w)
{
    NO_OP("out", dynmem_proto_range_unpack(NULL, 1));
}

static void t_ranges_get(struct world *w)
{
    REFUSED("out", dynmem_proto_ranges_get(NULL, &w->ranges, w->index));
    REFUSED("ranges", dynmem_proto_ranges_get(w->range, NULL, w->index));
}

static void t_ranges_copy(struct world *w)
{
    REFUSED("out", dynmem_proto_ranges_copy(NULL, 4, &w->ranges, w->index));
    REFUSED("ranges", dynmem_proto_ranges_copy(w->range, 4, NULL, w->index));
}

static void t_msg_ranges(struct world *w)
{
    NO_OBJECT("msg", dynmem_proto_msg_ranges(NULL));
}

/* ---- pages.h ------------------------------------------------------------- */

static void t_pages_to_bytes(struct world *w)
{
    REFUSED("out_bytes", dynmem_pages_to_bytes(w->count, NULL));
}

static void t_bytes_to_pages(struct world *w)
{
    REFUSED("out_pages", dynmem_bytes_to_pages(w->count, true, NULL));
}

static void t_pageset_new(struct world *w)
{
    REFUSED("out", dynmem_pageset_new(NULL, w->alloc));
}

static void t_pageset_free(struct world *w)
{
    NO_OP("set", dynmem_pageset_free(NULL));
}

static void t_pageset_insert(struct world *w)
{
    uint64_t n;
    REFUSED("set", dynmem_pageset_insert(NULL, w->start, w->count, &n));
}

static void t_pageset_remove(struct world *w)
{
    uint64_t n;
    REFUSED("set", dynmem_pageset_remove(NULL, w->start, w->count, &n));
}

static void t_pageset_pop(struct world *w)
{
    uint64_t s, c;
    REFUSED("set", dynmem_pageset_pop(NULL, w->count, &s, &c));
    REFUSED("out_start", dynmem_pageset_pop(w->set, w->count, NULL, &c));
    REFUSED("out_count", dynmem_pageset_pop(w->set, w->count, &s, NULL));
}

static void t_pageset_intersects(struct world *w)
{
    bool b;
    REFUSED("set", dynmem_pageset_intersects(NULL, w->start, w->count, &b));
    REFUSED("out", dynmem_pageset_intersects(w->set, w->start, w->count, NULL));
}

static void t_pageset_contains(struct world *w)
{
    bool b;
    REFUSED("set", dynmem_pageset_contains(NULL, w->start, w->count, &b));
    REFUSED("out", dynmem_pageset_contains(w->set, w->start, w->count, NULL));
}

static void t_pageset_count_in(struct world *w)
{
    uint64_t n;
    REFUSED("set", dynmem_pageset_count_in(NULL, w->start, w->count, &n));
    REFUSED("out_present", dynmem_pageset_count_in(w->set, w->start, w->count, NULL));
}

static void t_pageset_next(struct world *w)
{
    uint64_t s, c;
    REFUSED("set", dynmem_pageset_next(NULL, w->start, &s, &c));
    REFUSED("out_start", dynmem_pageset_next(w->set, w->start, NULL, &c));
    REFUSED("out_count", dynmem_pageset_next(w->set, w->start, &s, NULL));
}

static void t_pageset_pages(struct world *w)
{
    GIVES("set", dynmem_pageset_pages(NULL), 0);
}

static void t_pageset_ranges(struct world *w)
{
    GIVES("set", dynmem_pageset_ranges(NULL), 0);
}

static void t_pageset_footprint(struct world *w)
{
    GIVES("set", dynmem_pageset_footprint(NULL), 0);
}

static void t_pageset_clear(struct world *w)
{
    NO_OP("set", dynmem_pageset_clear(NULL));
}

/* ---- memmap.h ------------------------------------------------------------ */

static void t_memmap_new(struct world *w)
{
    REFUSED("out", dynmem_memmap_new(NULL, w->alloc));
}

static void t_memmap_free(struct world *w)
{
    NO_OP("map", dynmem_memmap_free(NULL));
}

static void t_memmap_add_boot(struct world *w)
{
    REFUSED("map", dynmem_memmap_add_boot(NULL, w->start, w->count));
}

static void t_memmap_set_hot_add_window(struct world *w)
{
    REFUSED("map", dynmem_memmap_set_hot_add_window(NULL, w->start, w->count));
}

static void t_memmap_set_hot_add_alignment(struct world *w)
{
    REFUSED("map", dynmem_memmap_set_hot_add_alignment(NULL, w->kind == WORLD_HOSTILE ? 99 : 7));
}

static void t_memmap_hot_add_plan(struct world *w)
{
    uint64_t s, c;
    REFUSED("map", dynmem_memmap_hot_add_plan(NULL, w->count, &s, &c));
    REFUSED("out_start", dynmem_memmap_hot_add_plan(w->sp.map, w->count, NULL, &c));
    REFUSED("out_count", dynmem_memmap_hot_add_plan(w->sp.map, w->count, &s, NULL));
}

static void t_memmap_hot_add_done(struct world *w)
{
    uint64_t n;
    REFUSED("map", dynmem_memmap_hot_add_done(NULL, w->start, w->count, w->count, &n));
}

static void t_memmap_balloon_record(struct world *w)
{
    REFUSED("map", dynmem_memmap_balloon_record(NULL, w->start, w->count));
}

static void t_memmap_unballoon_take(struct world *w)
{
    uint64_t s, c;
    REFUSED("map", dynmem_memmap_unballoon_take(NULL, w->count, &s, &c));
    REFUSED("out_start", dynmem_memmap_unballoon_take(w->sp.map, w->count, NULL, &c));
    REFUSED("out_count", dynmem_memmap_unballoon_take(w->sp.map, w->count, &s, NULL));
}

static void t_memmap_hot_remove_record(struct world *w)
{
    REFUSED("map", dynmem_memmap_hot_remove_record(NULL, w->start, w->count));
}

static void t_memmap_is_guest_memory(struct world *w)
{
    bool b;
    REFUSED("map", dynmem_memmap_is_guest_memory(NULL, w->start, w->count, &b));
    REFUSED("out", dynmem_memmap_is_guest_memory(w->sp.map, w->start, w->count, NULL));
}

static void t_memmap_ballooned(struct world *w)
{
    NO_OBJECT("map", dynmem_memmap_ballooned(NULL));
}

static void t_memmap_pages(struct world *w)
{
    uint64_t v;
    REFUSED("map", dynmem_memmap_pages(NULL, w->figure, &v));
    REFUSED("out_pages", dynmem_memmap_pages(w->sp.map, w->figure, NULL));
}

static void t_memmap_bytes(struct world *w)
{
    uint64_t v;
    REFUSED("map", dynmem_memmap_bytes(NULL, w->figure, &v));
    REFUSED("out_bytes", dynmem_memmap_bytes(w->sp.map, w->figure, NULL));
}

static void t_memmap_reset_channel(struct world *w)
{
    NO_OP("map", dynmem_memmap_reset_channel(NULL));
}

static void t_memmap_reset_system(struct world *w)
{
    NO_OP("map", dynmem_memmap_reset_system(NULL));
}

/* ---- pressure.h ---------------------------------------------------------- */

static void t_sample_init(struct world *w)
{
    REFUSED("sample", dynmem_pressure_sample_init(NULL, w->kind == WORLD_HOSTILE ? 0 : sizeof w->sample));
}

static void t_sample_from_dm_status(struct world *w)
{
    REFUSED("sample", dynmem_pressure_sample_from_dm_status(NULL, w->now, 100, 50));
}

static void t_sample_from_virtio_stats(struct world *w)
{
    REFUSED("sample", dynmem_pressure_sample_from_virtio_stats(NULL, w->now, &w->stats));
    REFUSED("stats", dynmem_pressure_sample_from_virtio_stats(&w->sample, w->now, NULL));
}

static void t_sample_from_xen_meminfo(struct world *w)
{
    REFUSED("sample", dynmem_pressure_sample_from_xen_meminfo(NULL, w->now, 2048, 1024));
}

static void t_pressure_param_bounds(struct world *w)
{
    int64_t lo, hi;
    REFUSED("min", dynmem_pressure_param_bounds(w->pressure_param, NULL, &hi));
    REFUSED("max", dynmem_pressure_param_bounds(w->pressure_param, &lo, NULL));
}

static void t_pressure_new(struct world *w)
{
    REFUSED("out", dynmem_pressure_new(NULL, w->alloc));
}

static void t_pressure_free(struct world *w)
{
    NO_OP("p", dynmem_pressure_free(NULL));
}

static void t_pressure_set_param(struct world *w)
{
    REFUSED("p", dynmem_pressure_set_param(NULL, w->pressure_param, 1000));
}

static void t_pressure_get_param(struct world *w)
{
    int64_t v;
    REFUSED("p", dynmem_pressure_get_param(NULL, w->pressure_param, &v));
    REFUSED("value", dynmem_pressure_get_param(w->p, w->pressure_param, NULL));
}

static void t_pressure_add_sample(struct world *w)
{
    REFUSED("p", dynmem_pressure_add_sample(NULL, &w->sample));
    REFUSED("sample", dynmem_pressure_add_sample(w->p, NULL));
}

static void t_pressure_query(struct world *w)
{
    REFUSED("p", dynmem_pressure_query(NULL, w->now, 1u << 30, &w->report));
    REFUSED("report", dynmem_pressure_query(w->p, w->now, 1u << 30, NULL));
}

static void t_pressure_reset(struct world *w)
{
    NO_OP("p", dynmem_pressure_reset(NULL));
}

static void t_pressure_last_error(struct world *w)
{
    char text[64] = "x";
    REFUSED("p", dynmem_pressure_last_error(NULL, text, sizeof text));
    REFUSED("buf", dynmem_pressure_last_error(w->p, NULL, sizeof text));
    UNCHANGED("p", text[0], 'x');
}

static void t_pressure_target(struct world *w)
{
    uint32_t buffer = w->kind == WORLD_HOSTILE ? 1 : 20;
    REFUSED("target_bytes", dynmem_pressure_target(1u << 30, buffer, 0, 1u << 31, NULL));
}

#define E(fn, thunk) {#fn, thunk, ""}
#define E_OPT(fn, thunk, optional) {#fn, thunk, optional}
#define E_NONE(fn) {#fn, TAKES_NO_POINTER, ""}

const struct null_entry null_entries_codec[] = {
    E_NONE(dynmem_error_name),
    E_NONE(dynmem_strerror),
    E_NONE(dynmem_version),
    E_NONE(dynmem_version_at_least),
    E_NONE(dynmem_version_string),
    E_OPT(dynmem_proto_decode, t_decode, "length"),
    E(dynmem_proto_encode, t_encode),
    E(dynmem_proto_encoded_size, t_encoded_size),
    E_NONE(dynmem_proto_encoded_size_max),
    E(dynmem_proto_msg_init, t_msg_init),
    E(dynmem_proto_msg_ranges, t_msg_ranges),
    E(dynmem_proto_alignment_bytes, t_alignment_bytes),
    E(dynmem_proto_alignment_exponent, t_alignment_exponent),
    E(dynmem_proto_range_pack, t_range_pack),
    E(dynmem_proto_range_unpack, t_range_unpack),
    E(dynmem_proto_ranges_copy, t_ranges_copy),
    E(dynmem_proto_ranges_get, t_ranges_get),
    E_NONE(dynmem_proto_type_name),
    E(dynmem_bytes_to_pages, t_bytes_to_pages),
    E(dynmem_memmap_add_boot, t_memmap_add_boot),
    E(dynmem_memmap_balloon_record, t_memmap_balloon_record),
    E(dynmem_memmap_ballooned, t_memmap_ballooned),
    E(dynmem_memmap_bytes, t_memmap_bytes),
    E(dynmem_memmap_free, t_memmap_free),
    E_OPT(dynmem_memmap_hot_add_done, t_memmap_hot_add_done, "out_accepted"),
    E(dynmem_memmap_hot_add_plan, t_memmap_hot_add_plan),
    E(dynmem_memmap_hot_remove_record, t_memmap_hot_remove_record),
    E(dynmem_memmap_is_guest_memory, t_memmap_is_guest_memory),
    E_OPT(dynmem_memmap_new, t_memmap_new, "alloc"),
    E(dynmem_memmap_pages, t_memmap_pages),
    E(dynmem_memmap_reset_channel, t_memmap_reset_channel),
    E(dynmem_memmap_reset_system, t_memmap_reset_system),
    E(dynmem_memmap_set_hot_add_alignment, t_memmap_set_hot_add_alignment),
    E(dynmem_memmap_set_hot_add_window, t_memmap_set_hot_add_window),
    E(dynmem_memmap_unballoon_take, t_memmap_unballoon_take),
    E(dynmem_pages_to_bytes, t_pages_to_bytes),
    E(dynmem_pageset_clear, t_pageset_clear),
    E(dynmem_pageset_contains, t_pageset_contains),
    E(dynmem_pageset_count_in, t_pageset_count_in),
    E(dynmem_pageset_footprint, t_pageset_footprint),
    E(dynmem_pageset_free, t_pageset_free),
    E_OPT(dynmem_pageset_insert, t_pageset_insert, "out_duplicates"),
    E(dynmem_pageset_intersects, t_pageset_intersects),
    E_OPT(dynmem_pageset_new, t_pageset_new, "alloc"),
    E(dynmem_pageset_next, t_pageset_next),
    E(dynmem_pageset_pages, t_pageset_pages),
    E(dynmem_pageset_pop, t_pageset_pop),
    E(dynmem_pageset_ranges, t_pageset_ranges),
    E_OPT(dynmem_pageset_remove, t_pageset_remove, "out_removed"),
    E(dynmem_pressure_add_sample, t_pressure_add_sample),
    E(dynmem_pressure_free, t_pressure_free),
    E(dynmem_pressure_get_param, t_pressure_get_param),
    E(dynmem_pressure_last_error, t_pressure_last_error),
    E_OPT(dynmem_pressure_new, t_pressure_new, "alloc"),
    E(dynmem_pressure_param_bounds, t_pressure_param_bounds),
    E(dynmem_pressure_query, t_pressure_query),
    E(dynmem_pressure_reset, t_pressure_reset),
    E(dynmem_pressure_sample_from_dm_status, t_sample_from_dm_status),
    E(dynmem_pressure_sample_from_virtio_stats, t_sample_from_virtio_stats),
    E(dynmem_pressure_sample_from_xen_meminfo, t_sample_from_xen_meminfo),
    E(dynmem_pressure_sample_init, t_sample_init),
    E(dynmem_pressure_set_param, t_pressure_set_param),
    E(dynmem_pressure_target, t_pressure_target),
    {NULL, NULL, NULL},
};
