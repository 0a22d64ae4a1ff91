/* The NULL-argument rule (docs/errors.md): every exported function given a
 * NULL handle or a NULL required pointer returns DYNMEM_ERR_INVALID_ARGUMENT
 * before it looks at anything else, or keeps the NULL contract its header
 * documents (a no-op, a NULL or 0 result). One table entry per exported
 * function; test_null_args.c holds the table against the version script
 * and the headers. */
#ifndef DYNMEM_TESTS_NULL_ARGS_H
#define DYNMEM_TESTS_NULL_ARGS_H

#include <dynmem/dynmem.h>

#include "sesspair.h"

/* The states the other arguments are in while one pointer is NULL: the
 * answer must be the same in each. */
enum world_kind {
    WORLD_FRESH,   /* handles just made: no host total, VM off, channel closed */
    WORLD_LIVE,    /* VM running with an action out, sessions negotiated */
    WORLD_HOSTILE, /* live handles, every other argument wrong in its own way:
                    * unknown VM id and settings, size-0 structs, time going
                    * backwards, a range that wraps, a bad allocator hook */
    WORLD_KINDS
};

struct world {
    enum world_kind kind;
    const char *fn; /* the entry being run */
    int entry;      /* its index in the table */
    dynmem_balancer *b;
    uint64_t vm, action_id;
    dynmem_pressure *p;
    struct dynmem_pageset *set;
    struct sesspair sp; /* sp.map, sp.h, sp.g */
    uint64_t now;
    /* Arguments the thunks pass beside the NULL one. */
    const struct dynmem_allocator *alloc;
    struct dynmem_allocator hook;
    uint64_t start, count;
    uint32_t index;
    int bal_param, pressure_param, host_param, guest_param, figure;
    struct dynmem_vm_config cfg;
    struct dynmem_host_config host;
    struct dynmem_config_vm config_vm;
    struct dynmem_pressure_sample sample;
    struct dynmem_virtio_stats stats;
    struct dynmem_pressure_report report;
    struct dynmem_action action;
    struct dynmem_vm_counters vm_counters;
    struct dynmem_host_counters host_counters;
    struct dynmem_proto_msg msg;
    struct dynmem_proto_ranges ranges;
    struct dynmem_proto_range range[4];
    struct dynmem_session_event ev;
    struct dynmem_session_host_counters session_counters;
    unsigned char buf[DYNMEM_PROTO_MSG_SIZE_MAX];
    size_t len;
};

/* One exported function. A thunk calls it with each of its pointer
 * parameters NULL in turn, through the macros below; thunk NULL means the
 * function takes no pointer (checked against its declaration). `optional`
 * names, space-separated, the pointer parameters its header documents as
 * "may be NULL": the thunk need not make those NULL. */
struct null_entry {
    const char *name;
    void (*thunk)(struct world *w);
    const char *optional;
};
#define TAKES_NO_POINTER NULL

extern const struct null_entry null_entries_codec[];   /* common, proto, pages, memmap, pressure */
extern const struct null_entry null_entries_engines[]; /* balancer, sessions */

void world_init(struct world *w, enum world_kind kind);
void world_fini(struct world *w);
const char *world_kind_name(enum world_kind kind);

/* Each records `param` as tested for the current entry and checks the
 * result: DYNMEM_ERR_INVALID_ARGUMENT, an exact value, a NULL pointer, or
 * (for a documented no-op) only that the call returned. */
void null_expect_value(struct world *w, const char *param, long long got, long long want);
void null_expect_null(struct world *w, const char *param, const void *got);
void null_note(struct world *w, const char *param);
#define REFUSED(param, call) \
    null_expect_value(w, (param), (long long)(call), DYNMEM_ERR_INVALID_ARGUMENT)
#define GIVES(param, call, want) null_expect_value(w, (param), (long long)(call), (long long)(want))
/* A refused call leaves its outputs alone (docs/errors.md). */
#define UNCHANGED(param, output, before) GIVES(param, output, before)
#define NO_OBJECT(param, call) null_expect_null(w, (param), (const void *)(call))
#define NO_OP(param, call) \
    do {                   \
        call;              \
        null_note(w, (param)); \
    } while (0)

#endif
