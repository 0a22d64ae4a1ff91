/* The 1.0 sizes of the public size-prefixed structs, frozen, and every
 * function that fills one called with a struct of the smallest size it
 * accepts, of its 1.0 size and of a newer caller's larger size, each lying
 * between guard bytes (docs/abi-policy.md). A later version appends fields
 * and its sizeof grows; a 1.0 caller's struct must still be written only up
 * to its own size. When a struct grows, add its new size to the table and
 * keep the 1.0 one: that is the point of the test. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "balsim.h"
#include "sesspair.h"

#define GUARD 64
#define NEWER_EXTRA 24
#define PATTERN 0xa5
#define STALE 0x5a

Test(struct_sizes, frozen_at_1_0)
{
    /* Sizes on LP64 (x86-64, aarch64), the ABI the baseline records. */
    cr_assert_eq(sizeof(struct dynmem_allocator), 40);
    cr_assert_eq(sizeof(struct dynmem_vm_config), 80);
    cr_assert_eq(sizeof(struct dynmem_host_config), 56);
    cr_assert_eq(sizeof(struct dynmem_config_vm), 56);
    cr_assert_eq(sizeof(struct dynmem_action), 120);
    cr_assert_eq(sizeof(struct dynmem_vm_counters), 152);
    cr_assert_eq(sizeof(struct dynmem_host_counters), 104);
    cr_assert_eq(sizeof(struct dynmem_pressure_sample), 96);
    cr_assert_eq(sizeof(struct dynmem_virtio_stats), 88);
    cr_assert_eq(sizeof(struct dynmem_pressure_report), 96);
    cr_assert_eq(sizeof(struct dynmem_proto_msg), 80);
    cr_assert_eq(sizeof(struct dynmem_session_status), 40);
    cr_assert_eq(sizeof(struct dynmem_session_event), 144);
    cr_assert_eq(sizeof(struct dynmem_session_host_counters), 128);
}

/* A caller's struct of `size` bytes between guards; the bytes past what
 * the 1.0 library knows are stale, as in a struct used before. */
struct guarded {
    _Alignas(16) unsigned char bytes[GUARD + 512 + GUARD];
    uint32_t size, known;
};

static void *guarded_init(struct guarded *g, uint32_t size, uint32_t known)
{
    cr_assert_leq(size, 512);
    memset(g->bytes, PATTERN, sizeof g->bytes);
    memset(g->bytes + GUARD, 0, size);
    if (size > known)
        memset(g->bytes + GUARD + known, STALE, size - known);
    memcpy(g->bytes + GUARD, &size, sizeof size);
    g->size = size;
    g->known = known;
    return g->bytes + GUARD;
}

/* Nothing outside the caller's struct was written, its size was kept and
 * a newer caller's unknown fields read as zero. */
static void guarded_check(const struct guarded *g, const char *what)
{
    for (size_t i = 0; i < GUARD; i++)
        cr_assert_eq(g->bytes[i], PATTERN, "%s, size %u: byte %zu before the struct written",
                     what, g->size, GUARD - i);
    for (size_t i = GUARD + g->size; i < sizeof g->bytes; i++)
        cr_assert_eq(g->bytes[i], PATTERN, "%s, size %u: byte %zu past its size written", what,
                     g->size, i - GUARD - g->size);
    uint32_t size;
    memcpy(&size, g->bytes + GUARD, sizeof size);
    cr_assert_eq(size, g->size, "%s: the caller's size changed", what);
    for (size_t i = g->known; i < g->size; i++)
        cr_assert_eq(g->bytes[GUARD + i], 0, "%s, size %u: unknown byte %zu not zeroed", what,
                     g->size, i);
}

/* One function filling a struct: it returns its result for `out`. */
struct filler {
    const char *name;
    uint32_t min, known; /* smallest size accepted; the 1.0 size */
    int ok;              /* its success value */
    int (*fill)(void *out);
};

/* Every size a caller of this library may pass must be served exactly. */
static void check_filler(const struct filler *f)
{
    struct guarded g;
    uint32_t sizes[] = {f->min, f->known, f->known + NEWER_EXTRA};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        void *out = guarded_init(&g, sizes[k], f->known);
        cr_assert_eq(f->fill(out), f->ok, "%s, size %u", f->name, sizes[k]);
        guarded_check(&g, f->name);
    }
    void *out = guarded_init(&g, f->min - 1, f->known);
    cr_assert_eq(f->fill(out), DYNMEM_ERR_STRUCT_SIZE, "%s below its smallest size", f->name);
    guarded_check(&g, f->name);
}

/* A balancer with one VM whose demand has just risen: growth is queued. */
static void balancer_with_action(struct balsim *s)
{
    balsim_init(s, GIB(16), DYNMEM_POLICY_DYNMEM);
    int i = balsim_add(s, GIB(1), MIB(512), GIB(4), 5000, GUEST_COOPERATIVE);
    cr_assert_eq(balsim_start(s, i), 0);
    s->now += 1000;
    struct dynmem_pressure_sample smp = DYNMEM_PRESSURE_SAMPLE_INIT;
    smp.time_ms = s->now;
    smp.committed_bytes = GIB(2);
    cr_assert_eq(dynmem_balancer_vm_sample(s->b, s->vm[i].id, &smp), 0);
    cr_assert_eq(dynmem_balancer_tick(s->b, s->now, NULL), 0);
}

/* Runs `call` on a balancer with one VM and its growth queued. */
static int on_balancer(void *out, int (*call)(struct balsim *s, void *out))
{
    struct balsim s;
    balancer_with_action(&s);
    int rc = call(&s, out);
    balsim_fini(&s);
    return rc;
}

static int next_action(struct balsim *s, void *out)
{
    return dynmem_balancer_next_action(s->b, out);
}

static int vm_counters(struct balsim *s, void *out)
{
    return dynmem_balancer_vm_counters(s->b, s->vm[0].id, out);
}

static int host_counters(struct balsim *s, void *out)
{
    return dynmem_balancer_host_counters(s->b, out);
}

static int fill_action(void *out)
{
    return on_balancer(out, next_action);
}

static int fill_vm_counters(void *out)
{
    return on_balancer(out, vm_counters);
}

static int fill_host_counters(void *out)
{
    return on_balancer(out, host_counters);
}

static int fill_report(void *out)
{
    dynmem_pressure *p = NULL;
    cr_assert_eq(dynmem_pressure_new(&p, NULL), 0);
    struct dynmem_pressure_sample smp = DYNMEM_PRESSURE_SAMPLE_INIT;
    smp.time_ms = 1000;
    smp.committed_bytes = GIB(1);
    cr_assert_eq(dynmem_pressure_add_sample(p, &smp), 0);
    int rc = dynmem_pressure_query(p, 2000, GIB(2), out);
    dynmem_pressure_free(p);
    return rc;
}

static int fill_from_dm_status(void *out)
{
    return dynmem_pressure_sample_from_dm_status(out, 1000, 1000, 2000);
}

static int fill_from_virtio(void *out)
{
    struct dynmem_virtio_stats st = DYNMEM_VIRTIO_STATS_INIT;
    st.total_memory = GIB(4);
    st.available_memory = GIB(1);
    return dynmem_pressure_sample_from_virtio_stats(out, 1000, &st);
}

static int fill_from_xen(void *out)
{
    return dynmem_pressure_sample_from_xen_meminfo(out, 1000, 4096, 1024);
}

static int fill_decode(void *out)
{
    /* BALLOON_REQUEST, 16 bytes, transaction 7, 5 pages. */
    static const unsigned char wire[] = {0x06, 0x00, 0x10, 0x00, 0x07, 0x00, 0x00, 0x00,
                                         0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    return dynmem_proto_decode(out, wire, sizeof wire, DYNMEM_PROTO_VERSION_WIN10, NULL);
}

/* Runs `call` on a connected host/guest pair. */
static int on_session(void *out, int (*call)(struct sesspair *sp, void *out))
{
    struct sesspair sp;
    cr_assert_eq(sesspair_init(&sp, GIB_PAGES, 0, 0, NULL), 0);
    sesspair_connect(&sp);
    int rc = call(&sp, out);
    sesspair_fini(&sp);
    return rc;
}

static int host_event(struct sesspair *sp, void *out)
{
    return dynmem_session_host_next_event(sp->h, out);
}

static int guest_event(struct sesspair *sp, void *out)
{
    return dynmem_session_guest_next_event(sp->g, out);
}

static int status_sample(struct sesspair *sp, void *out)
{
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    while (dynmem_session_host_next_event(sp->h, &ev) == 1 && ev.kind != DYNMEM_SESSION_EVENT_STATUS)
        ;
    cr_assert_eq(ev.kind, DYNMEM_SESSION_EVENT_STATUS, "the guest reported its status");
    return dynmem_session_event_to_pressure_sample(out, &ev);
}

static int session_counters(struct sesspair *sp, void *out)
{
    return dynmem_session_host_counters(sp->h, out);
}

static int fill_host_event(void *out)
{
    return on_session(out, host_event);
}

static int fill_guest_event(void *out)
{
    return on_session(out, guest_event);
}

static int fill_event_sample(void *out)
{
    return on_session(out, status_sample);
}

static int fill_session_counters(void *out)
{
    return on_session(out, session_counters);
}

#define END_OF(t, m) (uint32_t)(offsetof(struct t, m) + sizeof(((struct t *)0)->m))

Test(struct_sizes, outputs_written_within_the_callers_size)
{
    const struct filler fillers[] = {
        {"dynmem_balancer_next_action", END_OF(dynmem_action, pressure), 120, 1, fill_action},
        {"dynmem_balancer_vm_counters", END_OF(dynmem_vm_counters, remove_operations), 152, 0,
         fill_vm_counters},
        {"dynmem_balancer_host_counters", END_OF(dynmem_host_counters, removed_bytes), 104, 0,
         fill_host_counters},
        {"dynmem_pressure_query", 96, 96, 0, fill_report},
        {"dynmem_pressure_sample_from_dm_status", 96, 96, 0, fill_from_dm_status},
        {"dynmem_pressure_sample_from_virtio_stats", 96, 96, 0, fill_from_virtio},
        {"dynmem_pressure_sample_from_xen_meminfo", 96, 96, 0, fill_from_xen},
        {"dynmem_session_event_to_pressure_sample", 96, 96, 0, fill_event_sample},
        {"dynmem_proto_decode", 80, 80, 0, fill_decode},
        {"dynmem_session_host_next_event", END_OF(dynmem_session_event, status), 144, 1,
         fill_host_event},
        {"dynmem_session_guest_next_event", END_OF(dynmem_session_event, status), 144, 1,
         fill_guest_event},
        {"dynmem_session_host_counters", END_OF(dynmem_session_host_counters, events_dropped),
         128, 0, fill_session_counters},
    };
    for (size_t i = 0; i < sizeof fillers / sizeof fillers[0]; i++)
        check_filler(&fillers[i]);
}

/* The init functions write exactly the size they are given. */
static int init_sample(void *out, uint32_t size)
{
    return dynmem_pressure_sample_init(out, size);
}

static int init_msg(void *out, uint32_t size)
{
    return dynmem_proto_msg_init(out, size);
}

static int init_vm_config(void *out, uint32_t size)
{
    return dynmem_vm_config_init(out, size);
}

Test(struct_sizes, init_writes_the_size_given)
{
    const struct {
        const char *name;
        uint32_t size;
        int (*init)(void *out, uint32_t size);
    } inits[] = {
        {"dynmem_pressure_sample_init", 96, init_sample},
        {"dynmem_proto_msg_init", 80, init_msg},
        {"dynmem_vm_config_init", 80, init_vm_config},
    };
    for (size_t i = 0; i < sizeof inits / sizeof inits[0]; i++) {
        struct guarded g;
        uint32_t sizes[] = {inits[i].size, inits[i].size + NEWER_EXTRA};
        for (size_t k = 0; k < 2; k++) {
            void *out = guarded_init(&g, sizes[k], inits[i].size);
            memset(out, STALE, sizes[k]);
            cr_assert_eq(inits[i].init(out, sizes[k]), 0, "%s, size %u", inits[i].name,
                         sizes[k]);
            guarded_check(&g, inits[i].name);
        }
        void *out = guarded_init(&g, inits[i].size - 1, inits[i].size);
        cr_assert_eq(inits[i].init(out, inits[i].size - 1), DYNMEM_ERR_STRUCT_SIZE, "%s",
                     inits[i].name);
        guarded_check(&g, inits[i].name);
    }
}
