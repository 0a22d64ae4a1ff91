#include "sesspair.h"

#include <string.h>

int sesspair_init(struct sesspair *p, uint64_t boot_pages, uint64_t window_start,
                  uint64_t window_pages, const struct dynmem_allocator *alloc)
{
    int rc;
    memset(p, 0, sizeof *p);
    if ((rc = dynmem_memmap_new(&p->map, alloc)) ||
        (rc = dynmem_memmap_add_boot(p->map, 0, boot_pages)) ||
        (window_pages && (rc = dynmem_memmap_set_hot_add_window(p->map, window_start,
                                                                  window_pages))) ||
        (rc = dynmem_session_host_new(&p->h, p->map, alloc)) ||
        (rc = dynmem_session_guest_new(&p->g, alloc)) ||
        (rc = dynmem_session_guest_add_memory(p->g, 0, boot_pages))) {
        sesspair_fini(p);
        return rc;
    }
    return 0;
}

void sesspair_fini(struct sesspair *p)
{
    dynmem_session_guest_free(p->g);
    dynmem_session_host_free(p->h);
    dynmem_memmap_free(p->map);
    p->g = NULL;
    p->h = NULL;
    p->map = NULL;
}

void sesspair_pump(struct sesspair *p)
{
    unsigned char buf[DYNMEM_PROTO_MSG_SIZE_MAX];
    for (int moved = 1; moved;) {
        size_t len;
        moved = 0;
        while (dynmem_session_host_next_send(p->h, buf, sizeof buf, &len) == 1) {
            int rc = dynmem_session_guest_recv(p->g, p->now, buf, len);
            if (rc && !p->guest_rc)
                p->guest_rc = rc;
            moved = 1;
        }
        while (dynmem_session_guest_next_send(p->g, buf, sizeof buf, &len) == 1) {
            moved = 1;
            if (p->drop_to_host > 0) {
                p->drop_to_host--;
                continue;
            }
            int rc = dynmem_session_host_recv(p->h, p->now, buf, len);
            if (rc && !p->host_rc)
                p->host_rc = rc;
        }
    }
}

void sesspair_run(struct sesspair *p, uint64_t until)
{
    sesspair_pump(p);
    for (;;) {
        uint64_t t = until, d;
        if (dynmem_session_host_next_deadline(p->h, &d) == 1 && d < t)
            t = d;
        if (dynmem_session_guest_next_deadline(p->g, &d) == 1 && d < t)
            t = d;
        if (t < p->now)
            t = p->now;
        p->now = t;
        dynmem_session_host_tick(p->h, p->now);
        dynmem_session_guest_tick(p->g, p->now);
        sesspair_pump(p);
        if (t >= until)
            break;
    }
}

void sesspair_connect(struct sesspair *p)
{
    dynmem_session_host_open(p->h, p->now);
    dynmem_session_guest_connect(p->g, p->now);
    sesspair_pump(p);
    sesspair_run(p, p->now + 50000);
}

uint64_t sesspair_fig(const struct sesspair *p, enum dynmem_memmap_figure f)
{
    uint64_t v = 0;
    dynmem_memmap_pages(p->map, f, &v);
    return v;
}

int sesspair_host_within_guest(const struct sesspair *p)
{
    const struct dynmem_pageset *a = dynmem_memmap_ballooned(p->map);
    const struct dynmem_pageset *b = dynmem_session_guest_ballooned(p->g);
    uint64_t from = 0, s, c;
    while (dynmem_pageset_next(a, from, &s, &c) == 0) {
        bool in = false;
        if (dynmem_pageset_contains(b, s, c, &in) || !in)
            return 0;
        from = s + c;
    }
    uint64_t vis = sesspair_fig(p, DYNMEM_MEMMAP_VISIBLE);
    return sesspair_fig(p, DYNMEM_MEMMAP_CURRENT) == vis - sesspair_fig(p, DYNMEM_MEMMAP_BALLOONED);
}

int sesspair_books_agree(const struct sesspair *p)
{
    if (dynmem_pageset_pages(dynmem_memmap_ballooned(p->map)) !=
            dynmem_pageset_pages(dynmem_session_guest_ballooned(p->g)) ||
        !sesspair_host_within_guest(p))
        return 0;
    uint64_t vis = sesspair_fig(p, DYNMEM_MEMMAP_VISIBLE);
    return vis == sesspair_fig(p, DYNMEM_MEMMAP_BOOT) + sesspair_fig(p, DYNMEM_MEMMAP_ADDED) -
                      sesspair_fig(p, DYNMEM_MEMMAP_REMOVED);
}

int sesspair_drain(struct sesspair *p, uint64_t *fact_bytes, uint32_t *final_flags)
{
    struct dynmem_session_event ev = DYNMEM_SESSION_EVENT_INIT;
    int n = 0;
    while (dynmem_session_host_next_event(p->h, &ev) == 1) {
        n++;
        if (ev.kind != DYNMEM_SESSION_EVENT_FACT)
            continue;
        if (fact_bytes)
            *fact_bytes += ev.bytes;
        if (final_flags && (ev.flags & DYNMEM_SESSION_FLAG_FINAL))
            *final_flags |= ev.flags;
    }
    return n;
}
