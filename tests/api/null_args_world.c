/* The handles and arguments the NULL-argument thunks call with, in each of
 * the states of enum world_kind. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "null_args.h"

#define MIB(x) ((uint64_t)(x) << 20)
#define GIB(x) ((uint64_t)(x) << 30)

static void *hook_malloc(void *ud, size_t n)
{
    (void)ud;
    return malloc(n);
}

static void *hook_realloc(void *ud, void *ptr, size_t n)
{
    (void)ud;
    return realloc(ptr, n);
}

static void hook_free(void *ud, void *ptr)
{
    (void)ud;
    free(ptr);
}

const char *world_kind_name(enum world_kind kind)
{
    static const char *const names[WORLD_KINDS] = {"fresh", "live", "hostile"};
    return (unsigned)kind < WORLD_KINDS ? names[kind] : "?";
}

/* A balancer with one VM; live: running, reported and with its first
 * action taken (so it is busy); hostile: the id of a removed VM. */
static void balancer_init(struct world *w, bool live, bool hostile)
{
    struct dynmem_vm_config cfg = DYNMEM_VM_CONFIG_INIT;
    cfg.startup_bytes = GIB(1);
    cfg.minimum_bytes = MIB(512);
    cfg.maximum_bytes = GIB(2);
    w->cfg = cfg;
    w->host = (struct dynmem_host_config)DYNMEM_HOST_CONFIG_INIT;
    w->host.total_bytes = GIB(8);
    w->config_vm = (struct dynmem_config_vm)DYNMEM_CONFIG_VM_INIT;
    w->config_vm.name = "vm";
    w->config_vm.config = &w->cfg;
    cr_assert_eq(dynmem_balancer_new(&w->b, NULL), 0);
    cr_assert_eq(dynmem_balancer_vm_add(w->b, &cfg, &w->vm), 0);
    w->action = (struct dynmem_action)DYNMEM_ACTION_INIT;
    if (!live)
        return;
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    s.time_ms = 1000;
    s.committed_bytes = MIB(1536);
    cr_assert_eq(dynmem_balancer_set_param(w->b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES,
                                           (int64_t)GIB(8)), 0);
    cr_assert_eq(dynmem_balancer_vm_start(w->b, w->vm, 1000, NULL), 0);
    cr_assert_eq(dynmem_balancer_vm_sample(w->b, w->vm, &s), 0);
    cr_assert_eq(dynmem_balancer_tick(w->b, 2000, NULL), 0);
    cr_assert_eq(dynmem_balancer_next_action(w->b, &w->action), 1, "a growth action is due");
    w->action_id = w->action.action_id;
    if (hostile) {
        uint64_t gone;
        cr_assert_eq(dynmem_balancer_vm_add(w->b, &cfg, &gone), 0);
        cr_assert_eq(dynmem_balancer_vm_remove(w->b, gone), 0);
        w->vm = gone;
        w->action_id = 0;
    }
}

static void pressure_init(struct world *w, bool live)
{
    cr_assert_eq(dynmem_pressure_new(&w->p, NULL), 0);
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    s.time_ms = 1000;
    s.committed_bytes = GIB(1);
    if (live)
        cr_assert_eq(dynmem_pressure_add_sample(w->p, &s), 0);
    s.time_ms = 5000;
    w->sample = s;
    w->stats = (struct dynmem_virtio_stats)DYNMEM_VIRTIO_STATS_INIT;
    w->stats.total_memory = GIB(2);
    w->stats.available_memory = GIB(1);
    w->report = (struct dynmem_pressure_report){.size = sizeof w->report};
}

static void sessions_init(struct world *w, bool live)
{
    cr_assert_eq(sesspair_init(&w->sp, GIB_PAGES, 4 * GIB_PAGES, 4 * GIB_PAGES, NULL), 0);
    cr_assert_eq(dynmem_pageset_new(&w->set, NULL), 0);
    if (!live)
        return;
    sesspair_connect(&w->sp);
    cr_assert_eq(dynmem_pageset_insert(w->set, 100, 100, NULL), 0);
    w->ev = (struct dynmem_session_event)DYNMEM_SESSION_EVENT_INIT;
    w->ev.kind = DYNMEM_SESSION_EVENT_STATUS;
    w->ev.status.num_committed = 1000;
}

/* What each argument is beside the NULL one: right, or wrong in a way
 * that has its own error, which must not be the answer. */
static void arguments_init(struct world *w, bool hostile)
{
    w->hook = (struct dynmem_allocator)DYNMEM_ALLOCATOR_INIT;
    w->hook.malloc = hook_malloc;
    w->hook.realloc = hook_realloc;
    w->hook.free = hook_free;
    w->alloc = w->kind == WORLD_FRESH ? NULL : &w->hook;
    w->count = 1;
    w->bal_param = DYNMEM_BALANCER_PARAM_TICK_MS;
    w->pressure_param = DYNMEM_PRESSURE_PARAM_WINDOW_MS;
    w->host_param = DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS;
    w->guest_param = DYNMEM_SESSION_GUEST_PARAM_STATUS_DELAY_MS;
    w->figure = DYNMEM_MEMMAP_VISIBLE;
    w->msg = (struct dynmem_proto_msg)DYNMEM_PROTO_MSG_INIT;
    w->msg.type = DYNMEM_PROTO_BALLOON_REQUEST;
    w->msg.body.balloon_request.num_pages = 256;
    ptrdiff_t n = dynmem_proto_encode(w->buf, sizeof w->buf, &w->msg, 0);
    cr_assert_gt(n, 0);
    w->len = (size_t)n;
    w->range[0] = (struct dynmem_proto_range){0, 1};
    w->ranges.unpacked = w->range;
    w->ranges.count = 1;
    w->vm_counters = (struct dynmem_vm_counters)DYNMEM_VM_COUNTERS_INIT;
    w->host_counters = (struct dynmem_host_counters)DYNMEM_HOST_COUNTERS_INIT;
    w->session_counters = (struct dynmem_session_host_counters)DYNMEM_SESSION_HOST_COUNTERS_INIT;
    if (!hostile)
        return;
    w->hook.size = 0;
    w->start = UINT64_MAX;
    w->count = 2;
    w->index = 99;
    w->bal_param = w->pressure_param = w->host_param = w->guest_param = w->figure = 999;
    w->cfg.size = 0;
    w->host.size = 0;
    w->config_vm.size = 0;
    w->sample.size = 0;
    w->stats.size = 0;
    w->report.size = 0;
    w->action.size = 0;
    w->vm_counters.size = 0;
    w->host_counters.size = 0;
    w->session_counters.size = 0;
    w->msg.size = 0;
    w->ev.size = 0;
    w->buf[2] = 0xff; /* the header's size: beyond 4096 */
    w->buf[3] = 0xff;
}

void world_init(struct world *w, enum world_kind kind)
{
    memset(w, 0, sizeof *w);
    w->kind = kind;
    bool live = kind != WORLD_FRESH, hostile = kind == WORLD_HOSTILE;
    balancer_init(w, live, hostile);
    pressure_init(w, live);
    sessions_init(w, live);
    arguments_init(w, hostile);
    /* Later than every handle's clock, or (hostile) before it. */
    w->now = hostile ? 0 : w->sp.now + 10000;
}

void world_fini(struct world *w)
{
    dynmem_balancer_free(w->b);
    dynmem_pressure_free(w->p);
    dynmem_pageset_free(w->set);
    sesspair_fini(&w->sp);
}
