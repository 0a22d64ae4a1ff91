/* One VM's host and guest session engines back to back (see link.h). */
#include "link.h"

#include <stdlib.h>
#include <string.h>

#define PAGES_PER_MIB 256u

int sim_link_init(struct sim_link *l, const struct sim_vm_spec *spec,
                  const struct sim_scenario *sc)
{
    memset(l, 0, sizeof *l);
    l->spec = spec;
    l->status_delay_ms = sc->status_delay_ms;
    uint64_t boot = spec->config.startup_bytes >> 12;
    uint64_t window = spec->window_bytes > spec->config.startup_bytes
                          ? (spec->window_bytes - spec->config.startup_bytes) >> 12 : 0;
    int rc;
    if ((rc = dynmem_memmap_new(&l->map, NULL)) ||
        (rc = dynmem_memmap_add_boot(l->map, 0, boot)) ||
        (window && (rc = dynmem_memmap_set_hot_add_window(l->map, boot, window))) ||
        (rc = dynmem_session_host_new(&l->h, l->map, NULL)) ||
        (rc = dynmem_session_host_set_param(l->h, DYNMEM_SESSION_HOST_PARAM_POST_INIT_WAIT_MS,
                                            (int64_t)sc->post_init_wait_ms)) ||
        (rc = dynmem_session_host_set_param(l->h, DYNMEM_SESSION_HOST_PARAM_REPLY_TIMEOUT_MS,
                                            (int64_t)sc->reply_timeout_ms)) ||
        (spec->kind == KIND_HOT_REMOVE &&
         (rc = dynmem_session_host_set_param(l->h, DYNMEM_SESSION_HOST_PARAM_PREFER_HOT_REMOVE, 1))))
        goto fail;
    return 0;
fail:
    sim_link_fini(l);
    return rc;
}

void sim_link_fini(struct sim_link *l)
{
    dynmem_session_guest_free(l->g);
    dynmem_session_host_free(l->h);
    dynmem_memmap_free(l->map);
    free(l->to_guest.p);
    free(l->to_host.p);
    memset(l, 0, sizeof *l);
}

static void queue_clear(struct sim_queue *q)
{
    q->head = q->n = 0;
}

static int queue_push(struct sim_queue *q, uint64_t at, const unsigned char *buf, size_t len)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 8;
        struct sim_packet *np = malloc(cap * sizeof *np);
        if (!np)
            return DYNMEM_ERR_NO_MEMORY;
        for (size_t i = 0; i < q->n; i++)
            np[i] = q->p[(q->head + i) % q->cap];
        free(q->p);
        q->p = np;
        q->cap = cap;
        q->head = 0;
    }
    struct sim_packet *p = &q->p[(q->head + q->n++) % q->cap];
    p->at_ms = at;
    p->len = len;
    memcpy(p->buf, buf, len);
    return 0;
}

/* A new guest engine: a rebooted guest has only its boot memory and no
 * driver state, as after a power cycle. */
int sim_link_boot(struct sim_link *l, uint64_t now_ms)
{
    int rc;
    if (now_ms > l->now)
        l->now = now_ms;
    dynmem_session_guest_free(l->g);
    l->g = NULL;
    l->liar.balloon_hooked = false;
    queue_clear(&l->to_guest);
    queue_clear(&l->to_host);
    if ((rc = dynmem_session_guest_new(&l->g, NULL)) ||
        (rc = dynmem_session_guest_add_memory(l->g, 0, l->spec->config.startup_bytes >> 12)) ||
        (rc = dynmem_session_guest_set_param(l->g, DYNMEM_SESSION_GUEST_PARAM_STATUS_DELAY_MS,
                                                     (int64_t)l->status_delay_ms)) ||
        (rc = sim_guest_setup(l->g, l->spec, &l->liar)) ||
        (rc = dynmem_session_host_open(l->h, l->now)))
        return rc;
    if (l->spec->kind == KIND_NO_DRIVER)
        return 0; /* no driver: the channel never comes up */
    return dynmem_session_guest_connect(l->g, l->now);
}

int sim_link_reset(struct sim_link *l, uint64_t now_ms)
{
    if (now_ms > l->now)
        l->now = now_ms;
    queue_clear(&l->to_guest);
    queue_clear(&l->to_host);
    return dynmem_session_host_reset(l->h, l->now, DYNMEM_SESSION_RESET_SYSTEM);
}

int sim_link_set_demand(struct sim_link *l, uint64_t now_ms, uint64_t demand_bytes)
{
    return sim_guest_update(l->g, l->spec, &l->liar, now_ms, demand_bytes);
}

static bool dropped(const struct sim_link *l)
{
    return l->spec->kind == KIND_STUCK && l->now >= l->spec->stuck_at_ms;
}

static uint64_t delay(const struct sim_link *l)
{
    return l->spec->kind == KIND_SLOW ? l->spec->delay_ms : 0;
}

static void to_guest(struct sim_link *l, const unsigned char *buf, size_t len)
{
    (void)dynmem_session_guest_recv(l->g, l->now, buf, len);
}

static void to_host(struct sim_link *l, const unsigned char *buf, size_t len)
{
    if (dynmem_session_host_recv(l->h, l->now, buf, len) < 0)
        l->refusals++;
}

/* Moves every packet due now, both ways, until none is left. */
static int pump(struct sim_link *l)
{
    unsigned char buf[DYNMEM_PROTO_MSG_SIZE_MAX];
    size_t len;
    int rc = 0;
    for (bool moved = true; moved && !rc;) {
        moved = false;
        while (dynmem_session_host_next_send(l->h, buf, sizeof buf, &len) == 1) {
            moved = true;
            if (dropped(l))
                continue;
            if (delay(l))
                rc = queue_push(&l->to_guest, l->now + delay(l), buf, len);
            else
                to_guest(l, buf, len);
        }
        while (dynmem_session_guest_next_send(l->g, buf, sizeof buf, &len) == 1) {
            moved = true;
            if (dropped(l))
                continue;
            if (delay(l))
                rc = queue_push(&l->to_host, l->now + delay(l), buf, len);
            else
                to_host(l, buf, len);
        }
        struct sim_queue *qs[2] = {&l->to_guest, &l->to_host};
        for (int k = 0; k < 2; k++) {
            struct sim_queue *q = qs[k];
            while (q->n && q->p[q->head].at_ms <= l->now) {
                struct sim_packet *p = &q->p[q->head];
                q->head = (q->head + 1) % q->cap;
                q->n--;
                moved = true;
                if (k == 0)
                    to_guest(l, p->buf, p->len);
                else
                    to_host(l, p->buf, p->len);
            }
        }
    }
    return rc;
}

int sim_link_advance(struct sim_link *l, uint64_t until_ms)
{
    int rc = pump(l), same = 0;
    while (!rc) {
        uint64_t t = until_ms, d;
        if (dynmem_session_host_next_deadline(l->h, &d) == 1 && d < t)
            t = d;
        if (dynmem_session_guest_next_deadline(l->g, &d) == 1 && d < t)
            t = d;
        if (l->to_guest.n && l->to_guest.p[l->to_guest.head].at_ms < t)
            t = l->to_guest.p[l->to_guest.head].at_ms;
        if (l->to_host.n && l->to_host.p[l->to_host.head].at_ms < t)
            t = l->to_host.p[l->to_host.head].at_ms;
        /* A timer that does not move on must not hold time still. */
        if (t <= l->now && ++same > 64)
            t = until_ms;
        if (t > l->now) {
            l->now = t;
            same = 0;
        }
        if ((rc = dynmem_session_host_tick(l->h, l->now)) ||
            (rc = dynmem_session_guest_tick(l->g, l->now)) || (rc = pump(l)))
            break;
        if (l->now >= until_ms)
            break;
    }
    return rc;
}
