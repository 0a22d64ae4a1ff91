/* dynmem-libvirt's books: which running domains the balancer manages, which
 * are booked outside it, and the host total it may share out.
 *
 * Every running domain's memory is booked. A managed domain is a VM in the
 * balancer at what it holds; any other running domain (no dynmem metadata,
 * settings refused) is booked outside: what it holds is taken off the host
 * total the balancer is given. Memory returns to the pool only when libvirt
 * says the domain is gone (lvloop.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exutil.h"
#include "lvd.h"

#define UNIT DYNMEM_SIZE_UNIT
/* books and what a domain holds may differ by the 2 MiB rounding of its
 * adoption and by pages in flight */
#define RESYNC_SLACK (UINT64_C(4) << 20)

static uint64_t round_up(uint64_t x)
{
    return (x + UNIT - 1) & ~(UNIT - 1);
}

struct lv_dom *lv_dom_find(struct lv_daemon *D, const unsigned char *uuid)
{
    for (size_t i = 0; i < LV_MAX_DOMS; i++)
        if (D->dom[i].used && !memcmp(D->dom[i].uuid, uuid, VIR_UUID_BUFLEN))
            return &D->dom[i];
    return NULL;
}

/* The host total the balancer shares out: the host less what the domains
 * outside it hold; the books' debt is said when it changes (@p say). */
static void sync_total(struct lv_daemon *D, int say)
{
    uint64_t outside = 0;
    for (size_t i = 0; i < LV_MAX_DOMS; i++)
        if (D->dom[i].used)
            outside += D->dom[i].outside;
    /* negative when the domains outside hold more than the host */
    int64_t want = (int64_t)D->host_total - (int64_t)outside;
    int64_t set = want > 0 ? want : 0;
    if (set != D->total &&
        dynmem_balancer_set_param(D->b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, set) == 0) {
        D->total = set;
    } else if (set < D->total) {
        /* the managed domains hold more than is left: lower the total as far
         * as the books allow (no growth until the rest is paid back) */
        struct dynmem_host_counters hc = DYNMEM_HOST_COUNTERS_INIT;
        dynmem_balancer_host_counters(D->b, &hc);
        int64_t floor = (int64_t)round_up((uint64_t)D->total - hc.available_bytes);
        if (floor < D->total &&
            dynmem_balancer_set_param(D->b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, floor) == 0)
            D->total = floor;
    }
    uint64_t debt = D->total > want ? (uint64_t)(D->total - want) : 0;
    if (say && debt != D->debt) {
        if (debt)
            ex_log("dynmem-libvirt", "the running domains hold %llu MiB more than the host's %llu MiB "
                   "(less the reserve): no domain grows until that much is reclaimed",
                   MIB(debt), MIB(D->host_total));
        else if (D->debt)
            ex_log("dynmem-libvirt", "the books fit the host again");
        D->debt = debt;
    }
}

void lv_book_sync_total(struct lv_daemon *D)
{
    sync_total(D, 1);
}

/* Room in the books for a running domain being adopted at @p size: when the
 * host is already short, the total is raised to take it (the shortfall is
 * then the books' debt, paid back by reclaim). */
static void make_room(struct lv_daemon *D, uint64_t size)
{
    struct dynmem_host_counters hc = DYNMEM_HOST_COUNTERS_INIT;
    dynmem_balancer_host_counters(D->b, &hc);
    if (hc.available_bytes >= size)
        return;
    int64_t total = D->total + (int64_t)round_up(size - hc.available_bytes);
    if (dynmem_balancer_set_param(D->b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, total) == 0)
        D->total = total;
}

/* Book a domain outside the balancer at what it holds now. */
static void book_outside(struct lv_daemon *D, struct lv_dom *d)
{
    d->outside = round_up(lv_held(&d->r));
    lv_book_sync_total(D);
}

void lv_book_refresh_outside(struct lv_daemon *D, struct lv_dom *d, long long now)
{
    char err[256];
    if (d->managed || !d->d || lv_read(d->d, &d->r, err, sizeof err))
        return;
    if (round_up(lv_held(&d->r)) != d->outside)
        book_outside(D, d);
    if (d->unread) { /* readable at last (e.g. an incoming migration ended) */
        d->unread = 0;
        lv_book_adopt(D, d, now);
    }
}

/* Settings for a running domain at @p startup: a minimum above what it holds
 * is lowered to it, a maximum below raised to it (the balancer cannot hold a
 * running VM outside its range). */
static void fit_running(struct lv_settings *s, uint64_t startup, const char *name)
{
    if ((s->given & LV_SET_MINIMUM) && s->minimum > startup) {
        ex_log(name, "holds %llu MiB, below its minimum %llu MiB: managed from there",
               MIB(startup), MIB(s->minimum));
        s->minimum = startup;
    }
    if ((s->given & LV_SET_MAXIMUM) && s->maximum < startup) {
        ex_log(name, "holds %llu MiB, above its maximum %llu MiB: managed from there",
               MIB(startup), MIB(s->maximum));
        s->maximum = startup;
    }
}

/* Read and check the settings of a running domain: against its definition
 * first (as they would be when it starts), then fitted to what it holds now
 * (@p held, for the balancer's startup size). 0, 1 when it has no dynmem
 * metadata, -1 when refused (err says why, naming the field). */
static int running_config(struct lv_dom *d, uint64_t held, struct lv_settings *s,
                          struct dynmem_vm_config *c, char *err, size_t errlen)
{
    char why[200];
    int absent;
    uint64_t startup;
    char *text = lv_read_meta(d->d, 1, &absent, why, sizeof why);
    int rc = 0;
    if (!text && absent)
        return 1;
    if (!text) {
        snprintf(err, errlen, "cannot read its metadata: %s", why);
        rc = -1;
    } else if (lv_meta_parse(text, s, why, sizeof why) ||
               lv_read_startup(d->d, &startup, why, sizeof why) ||
               lv_meta_config(s, &d->r.mem, startup, c, why, sizeof why)) {
        snprintf(err, errlen, "metadata %s", why);
        rc = -1;
    } else {
        fit_running(s, held, d->name);
        if (lv_meta_config(s, &d->r.mem, held, c, why, sizeof why)) {
            snprintf(err, errlen, "metadata %s", why);
            rc = -1;
        }
    }
    free(text);
    return rc;
}

static void start_stats(struct lv_daemon *D, struct lv_dom *d)
{
    if (virDomainSetMemoryStatsPeriod(d->d, (int)D->o->stats_interval_s, VIR_DOMAIN_AFFECT_LIVE) < 0)
        ex_log(d->name, "cannot set the balloon statistics period (%s): held where it is",
               lv_last_error());
}

int lv_book_adopt(struct lv_daemon *D, struct lv_dom *d, long long now)
{
    struct lv_settings s;
    struct dynmem_vm_config c;
    char err[256];
    uint64_t held = lv_held(&d->r), startup = round_up(held);
    int rc = running_config(d, startup, &s, &c, err, sizeof err);
    if (rc > 0)
        snprintf(err, sizeof err, "no metadata");
    if (rc) {
        if (strcmp(err, d->refused)) /* each reason once */
            ex_log(d->name, "running, %llu MiB, not managed: %s", MIB(held),
                   rc > 0 ? "no dynmem metadata" : err);
        snprintf(d->refused, sizeof d->refused, "%s", err);
        return -1;
    }
    /* its memory moves from outside into the balancer's books */
    uint64_t was = d->outside;
    d->outside = 0;
    sync_total(D, 0);
    make_room(D, startup);
    uint64_t missing = 0;
    char why[EX_WHY_LEN];
    int e = ex_book(D->b, &c, (uint64_t)now, &d->vm_id, &missing, why, sizeof why);
    if (e) {
        d->outside = was;
        sync_total(D, 0);
        ex_log(d->name, "not managed: %s (needs %llu MiB more)", why, MIB(missing));
        return -1;
    }
    lv_book_sync_total(D);
    dynmem_balancer_vm_set_pressure_param(D->b, d->vm_id, DYNMEM_PRESSURE_PARAM_STALE_MS,
                                          ex_stale_ms(D->o->stats_interval_s));
    d->managed = 1;
    d->set = s;
    d->cfg = c;
    d->refused[0] = '\0';
    d->busy = 0;
    d->last_update = 0;
    d->next_stats = now;
    start_stats(D, d);
    char calm[32] = "as --calm";
    if (c.calm_period_ms)
        snprintf(calm, sizeof calm, "%.1f s", (double)c.calm_period_ms / 1000);
    ex_log(d->name, "managed at what it holds, %llu MiB (balloon %llu MiB, virtio-mem %llu of %llu MiB, "
           "boot %llu MiB): minimum %llu MiB, maximum %llu MiB, buffer %u%%, weight %u, calm %s",
           MIB(held), MIB(d->r.actual), MIB(lv_mem_vmem_current(&d->r.mem)),
           MIB(lv_mem_vmem_size(&d->r.mem)), MIB(d->r.mem.boot), MIB(c.minimum_bytes),
           MIB(c.maximum_bytes), c.buffer_percent, c.weight, calm);
    return 0;
}

/* Take a managed domain out of the balancer; its memory stays booked
 * outside it when it still runs (@p running). */
static void unmanage(struct lv_daemon *D, struct lv_dom *d, int running)
{
    struct dynmem_vm_counters vc = DYNMEM_VM_COUNTERS_INIT;
    dynmem_balancer_vm_counters(D->b, d->vm_id, &vc);
    dynmem_balancer_vm_stop(D->b, d->vm_id);
    dynmem_balancer_vm_remove(D->b, d->vm_id);
    d->managed = d->busy = 0;
    if (running) {
        book_outside(D, d);
    } else {
        ex_log(d->name, "%llu MiB returned to the pool", MIB(vc.physical_bytes + vc.in_flight_bytes));
        lv_book_sync_total(D);
    }
}

/* A managed domain whose size changed outside the daemon (virsh setmem, a
 * virtio-mem plug or a balloon still moving after an action settled short)
 * is adopted again at what it holds, once two readings agree. */
void lv_book_check(struct lv_daemon *D, struct lv_dom *d, long long now)
{
    struct dynmem_vm_counters vc = DYNMEM_VM_COUNTERS_INIT;
    if (!d->managed || d->busy || dynmem_balancer_vm_counters(D->b, d->vm_id, &vc))
        return;
    uint64_t books = vc.physical_bytes + vc.in_flight_bytes, held = lv_held(&d->r);
    uint64_t diff = held > books ? held - books : books - held;
    if (diff <= RESYNC_SLACK) {
        d->drift = 0;
        return;
    }
    if (d->drift != held) { /* wait for the next reading to agree */
        d->drift = held;
        return;
    }
    ex_log(d->name, "holds %llu MiB, the books %llu MiB (changed outside the daemon): adopted again "
           "at what it holds", MIB(held), MIB(books));
    d->drift = 0;
    unmanage(D, d, 1);
    lv_book_adopt(D, d, now);
}

void lv_book_settings_changed(struct lv_daemon *D, struct lv_dom *d, long long now)
{
    char err[256];
    if (!d->d || lv_read(d->d, &d->r, err, sizeof err))
        return;
    if (!d->managed) {
        d->refused[0] = '\0';
        lv_book_adopt(D, d, now);
        return;
    }
    struct lv_settings s;
    struct dynmem_vm_config c;
    /* a running VM keeps the startup size it was adopted at */
    int rc = running_config(d, d->cfg.startup_bytes, &s, &c, err, sizeof err);
    if (rc > 0) {
        ex_log(d->name, "dynmem metadata removed: no longer managed, booked as it is");
        unmanage(D, d, 1);
        return;
    }
    if (rc < 0) {
        ex_log(d->name, "new settings refused (%s): the old ones stay", err);
        return;
    }
    int e = dynmem_balancer_vm_configure(D->b, d->vm_id, &c);
    if (e) {
        ex_log(d->name, "new settings not taken while it runs (%s): the minimum can only be "
               "lowered and the maximum raised; the rest applies at its next start",
               EX_WHY(D->b, e));
        return;
    }
    d->set = s;
    d->cfg = c;
    ex_log(d->name, "settings changed: minimum %llu MiB, maximum %llu MiB, buffer %u%%, weight %u",
           MIB(c.minimum_bytes), MIB(c.maximum_bytes), c.buffer_percent, c.weight);
}

struct lv_dom *lv_dom_track(struct lv_daemon *D, virDomainPtr dom, long long now)
{
    unsigned char uuid[VIR_UUID_BUFLEN];
    char err[256];
    virDomainGetUUID(dom, uuid);
    int id = (int)virDomainGetID(dom);
    struct lv_dom *d = lv_dom_find(D, uuid);
    if (d && d->id != id) {
        lv_dom_forget(D, d, "restarted");
        d = NULL;
    }
    if (d) { /* known: a new handle after a reconnect */
        if (d->d)
            virDomainFree(d->d);
        d->d = dom;
        return d;
    }
    for (size_t i = 0; i < LV_MAX_DOMS && !d; i++)
        if (!D->dom[i].used)
            d = &D->dom[i];
    if (!d) {
        ex_log(virDomainGetName(dom), "more than %d running domains: not tracked", LV_MAX_DOMS);
        virDomainFree(dom);
        return NULL;
    }
    memset(d, 0, sizeof *d);
    d->used = 1;
    memcpy(d->uuid, uuid, sizeof uuid);
    snprintf(d->name, sizeof d->name, "%s", virDomainGetName(dom));
    d->id = id;
    d->d = dom;
    if (lv_read(dom, &d->r, err, sizeof err)) {
        /* cannot read it: book what libvirt's definition says it may hold */
        ex_log(d->name, "cannot read its memory (%s): booked at its maximum until it can be read",
               err);
        d->unread = 1;
        virDomainInfo info;
        d->r.actual = virDomainGetInfo(dom, &info) == 0 ? (uint64_t)info.maxMem << 10 : 0;
        d->r.mem.nvmem = 0;
        book_outside(D, d);
        return d;
    }
    book_outside(D, d);
    lv_book_adopt(D, d, now);
    return d;
}

void lv_dom_forget(struct lv_daemon *D, struct lv_dom *d, const char *why)
{
    ex_log(d->name, "gone (libvirt: %s)", why);
    if (d->managed)
        unmanage(D, d, 0);
    if (d->d)
        virDomainFree(d->d);
    memset(d, 0, sizeof *d);
    lv_book_sync_total(D);
}

int lv_book_setup(struct lv_daemon *D, uint64_t host_total)
{
    const struct lv_options *o = D->o;
    D->host_total = host_total;
    D->total = (int64_t)D->host_total;
    int e = dynmem_balancer_new(&D->b, NULL);
    if (!e)
        e = dynmem_balancer_set_param(D->b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, D->total);
    /* the reserve follows the real host size, not the share left to the
     * balancer once other domains are booked: fix it now */
    int64_t reserve = o->reserve;
    if (!e && reserve < 0)
        e = dynmem_balancer_get_param(D->b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, &reserve);
    if (!e)
        e = dynmem_balancer_set_param(D->b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, reserve);
    if (!e)
        e = dynmem_balancer_set_param(D->b, DYNMEM_BALANCER_PARAM_POLICY, o->policy);
    if (!e)
        e = dynmem_balancer_set_param(D->b, DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS, o->calm_ms);
    if (!e)
        e = dynmem_balancer_set_param(D->b, DYNMEM_BALANCER_PARAM_TICK_MS, o->tick_ms);
    if (!e)
        e = dynmem_balancer_set_param(D->b, DYNMEM_BALANCER_PARAM_STALE_MS,
                                      ex_stale_ms(o->stats_interval_s));
    if (e) {
        fprintf(stderr, "dynmem-libvirt: balancer set-up: %s\n", EX_WHY(D->b, e));
        return -1;
    }
    ex_log("dynmem-libvirt", "libdynmem %s, %s, host memory %llu MiB, reserve %llu MiB, policy %s%s",
           dynmem_version_string(), o->uri, MIB(D->host_total), MIB((uint64_t)reserve),
           dynmem_policy_name((uint32_t)o->policy), o->dry_run ? ", dry run" : "");
    return 0;
}
