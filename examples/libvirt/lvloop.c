/* dynmem-libvirt's loop: libvirt's event loop drives everything. A timer
 * ticks the balancer; domain events and the close callback are queued by
 * lvconn.c and handled here. A lost connection is not a dead domain: every
 * domain stays booked as it was, the loop reconnects with backoff and then
 * reconciles with what libvirt lists (domains no longer running are gone,
 * new ones adopted at what they hold). */
#include "lvd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exutil.h"

#define RECONNECT_FIRST_MS 1000

static void on_timer(int timer, void *opaque)
{
    (void)timer;
    *(int *)opaque = 1;
}

static void lost(struct lv_daemon *D, long long now, const char *why)
{
    int n = 0;
    for (size_t i = 0; i < LV_MAX_DOMS; i++) {
        struct lv_dom *d = &D->dom[i];
        if (!d->used)
            continue;
        n++;
        if (d->d)
            virDomainFree(d->d);
        d->d = NULL;
    }
    ex_log("dynmem-libvirt", "libvirt connection lost (%s): %d domain(s) stay booked as they are "
           "until libvirt says they are gone; reconnecting", why, n);
    lv_conn_close(&D->conn);
    D->connected = 0;
    D->backoff_ms = RECONNECT_FIRST_MS;
    D->next_connect = now + D->backoff_ms;
}

/* Bring the books in line with the domains libvirt says are running. */
static void reconcile(struct lv_daemon *D, long long now)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(D->conn.c, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) {
        lost(D, now, lv_last_error());
        return;
    }
    D->conn.overflow = 0;
    unsigned char seen[LV_MAX_DOMS] = {0};
    for (int i = 0; i < n; i++) {
        struct lv_dom *d = lv_dom_track(D, doms[i], now);
        if (d)
            seen[d - D->dom] = 1;
    }
    free(doms);
    for (size_t i = 0; i < LV_MAX_DOMS; i++)
        if (D->dom[i].used && !seen[i])
            lv_dom_forget(D, &D->dom[i], "no longer running");
}

static int try_connect(struct lv_daemon *D, long long now)
{
    char err[512];
    if (lv_conn_open(&D->conn, err, sizeof err)) {
        if (D->backoff_ms <= RECONNECT_FIRST_MS || D->o->verbose)
            ex_log("dynmem-libvirt", "cannot connect to %s (%s): retrying in %.1f s", D->o->uri, err,
                   D->backoff_ms / 1000.0);
        D->next_connect = now + D->backoff_ms;
        D->backoff_ms = D->backoff_ms * 2 > D->o->reconnect_max_ms ? D->o->reconnect_max_ms
                                                                   : D->backoff_ms * 2;
        return -1;
    }
    D->connected = 1;
    D->backoff_ms = RECONNECT_FIRST_MS;
    if (D->conn.note[0])
        ex_log("dynmem-libvirt", "%s", D->conn.note);
    if (!D->b) {
        uint64_t reported = 0, total;
        virNodeInfo info;
        if (!D->o->host_total && virNodeGetInfo(D->conn.c, &info) == 0)
            reported = (uint64_t)info.memory << 10;
        if (lv_host_memory(D->o, reported, &total, err, sizeof err)) {
            fprintf(stderr, "dynmem-libvirt: %s\n", err);
            return -2;
        }
        if (lv_book_setup(D, total))
            return -2;
    } else {
        ex_log("dynmem-libvirt", "connected to %s again", D->o->uri);
    }
    reconcile(D, now);
    return 0;
}

static void lifecycle(struct lv_daemon *D, const struct lv_event *e, long long now)
{
    struct lv_dom *d = lv_dom_find(D, e->uuid);
    const char *what = lv_lifecycle_name(e->event, e->detail);
    if (e->event == VIR_DOMAIN_EVENT_STARTED) {
        virDomainPtr dom = virDomainLookupByUUID(D->conn.c, e->uuid);
        if (dom && virDomainIsActive(dom) == 1) {
            if (!d || d->id != (int)virDomainGetID(dom))
                ex_log(e->name, "%s", what);
            lv_dom_track(D, dom, now);
        } else if (dom) {
            virDomainFree(dom);
        }
    } else if (e->event == VIR_DOMAIN_EVENT_STOPPED) {
        if (d)
            lv_dom_forget(D, d, what);
    } else if (d && e->event != VIR_DOMAIN_EVENT_DEFINED) {
        ex_log(d->name, "%s: memory stays booked", what);
    }
}

static void on_event(struct lv_daemon *D, const struct lv_event *e, long long now)
{
    struct lv_dom *d = lv_dom_find(D, e->uuid);
    switch (e->kind) {
    case LV_EV_LIFECYCLE:
        lifecycle(D, e, now);
        break;
    case LV_EV_BALLOON:
    case LV_EV_VMEM_SIZE:
        if (d && !d->managed)
            lv_book_refresh_outside(D, d, now);
        break;
    case LV_EV_METADATA:
        if (d)
            lv_book_settings_changed(D, d, now);
        break;
    case LV_EV_REBOOT:
        if (d)
            ex_log(d->name, "guest reset");
        break;
    default:
        break;
    }
}

static void status_line(struct lv_daemon *D, const struct lv_dom *d)
{
    if (!d->managed) {
        ex_log(d->name, "status: booked outside the balancer at %llu MiB (%s)", MIB(d->outside),
               d->refused[0] ? d->refused : "not managed");
        return;
    }
    struct dynmem_vm_counters c = DYNMEM_VM_COUNTERS_INIT;
    if (dynmem_balancer_vm_counters(D->b, d->vm_id, &c))
        return;
    ex_log(d->name, "status: held %llu MiB, balloon %llu MiB, virtio-mem %llu MiB, demand %llu MiB, "
           "target %llu MiB, pressure %u%%%s", MIB(lv_held(&d->r)), MIB(d->r.actual),
           MIB(lv_mem_vmem_current(&d->r.mem)), MIB(c.demand_bytes), MIB(c.target_bytes),
           c.current_pressure,
           c.flags & DYNMEM_VMSTATE_NO_DATA ? " (no guest statistics yet: held where it is)" : "");
}

/* Read what is due, decide, act. */
static void tick(struct lv_daemon *D, long long now)
{
    char err[256];
    for (size_t i = 0; i < LV_MAX_DOMS; i++) {
        struct lv_dom *d = &D->dom[i];
        if (!d->used || !d->d)
            continue;
        if (!d->managed) {
            if (now >= d->next_read) {
                lv_book_refresh_outside(D, d, now);
                d->next_read = now + 1000LL * D->o->stats_interval_s;
            }
            continue;
        }
        int stats_due = now >= d->next_stats;
        if (!d->busy && !stats_due)
            continue;
        if (lv_read(d->d, &d->r, err, sizeof err)) {
            if (D->o->verbose)
                ex_log(d->name, "cannot read it: %s", err);
            continue;
        }
        if (d->busy)
            lv_act_follow(D, d, now);
        if (stats_due) {
            lv_act_stats(D, d, now);
            d->next_stats = now + 500LL * D->o->stats_interval_s;
            lv_book_check(D, d, now);
        }
    }
    if (D->debt) /* pay the books back as reclaim frees memory */
        lv_book_sync_total(D);
    int e = dynmem_balancer_tick(D->b, (uint64_t)ex_mono_ms(), NULL);
    if (e)
        ex_log("dynmem-libvirt", "tick: %s", EX_WHY(D->b, e));
    lv_act_take(D, ex_mono_ms());
}

/* --once: a status line per domain; 1 when a domain's settings were refused. */
static int once_status(struct lv_daemon *D)
{
    int status = 0;
    for (size_t i = 0; i < LV_MAX_DOMS; i++)
        if (D->dom[i].used) {
            status_line(D, &D->dom[i]);
            if (!D->dom[i].managed && strcmp(D->dom[i].refused, "no metadata"))
                status = 1;
        }
    return status;
}

static void shut_down(struct lv_daemon *D)
{
    for (size_t i = 0; i < LV_MAX_DOMS; i++)
        if (D->dom[i].used && D->dom[i].d)
            virDomainFree(D->dom[i].d);
    lv_conn_close(&D->conn);
    dynmem_balancer_free(D->b);
    metrics_free(&D->m);
}

int lv_run(const struct lv_options *o, volatile sig_atomic_t *stop)
{
    static struct lv_daemon D;
    static int tick_due;
    D.o = o;
    D.conn.uri = o->uri;
    D.conn.keepalive_interval = o->keepalive_interval;
    D.conn.keepalive_count = o->keepalive_count;
    for (int i = 0; i < 5; i++)
        D.conn.cb[i] = -1;
    D.backoff_ms = RECONNECT_FIRST_MS;
    if (lv_conn_init_events() < 0 || virEventAddTimeout((int)o->tick_ms, on_timer, &tick_due, NULL) < 0) {
        fprintf(stderr, "dynmem-libvirt: cannot set up libvirt's event loop: %s\n", lv_last_error());
        return 2;
    }
    metrics_init(&D.m, "dynmem-libvirt");
    int status = 0;
    while (!*stop) {
        long long now = ex_mono_ms();
        if (!D.connected && now >= D.next_connect) {
            int rc = try_connect(&D, now);
            if (rc == -2 || (rc < 0 && o->once)) {
                status = 2;
                break;
            }
        }
        if (D.connected && D.conn.closed)
            lost(&D, now, lv_close_reason_name(D.conn.close_reason));
        struct lv_event e;
        while (D.connected && lv_conn_next_event(&D.conn, &e))
            on_event(&D, &e, now);
        if (D.connected && D.conn.overflow)
            reconcile(&D, now);
        if (tick_due || (o->once && D.connected)) {
            tick_due = 0;
            if (D.connected) /* blind while disconnected: nothing is decided */
                tick(&D, now);
            lv_metrics_publish(&D);
            if (o->once) {
                status = once_status(&D);
                break;
            }
        }
        if (virEventRunDefaultImpl() < 0) {
            ex_log("dynmem-libvirt", "event loop: %s", lv_last_error());
            status = 2;
            break;
        }
    }
    if (*stop)
        ex_log("dynmem-libvirt", "stopping: domains are left as they are");
    shut_down(&D);
    return status;
}
