/* Connection, keepalive and event callbacks (see lvconn.h). */
#include "lvconn.h"

#include <libvirt/virterror.h>
#include <stdio.h>
#include <string.h>

#include "lvmeta.h"

int lv_conn_init_events(void)
{
    return virEventRegisterDefaultImpl();
}

const char *lv_last_error(void)
{
    virErrorPtr e = virGetLastError();
    return e && e->message ? e->message : "unknown error";
}

static struct lv_event *push(struct lv_conn *lc, int kind, virDomainPtr dom)
{
    if (lc->len == LV_EVENT_QUEUE) {
        lc->overflow = 1;
        return NULL;
    }
    struct lv_event *e = &lc->q[(lc->head + lc->len++) % LV_EVENT_QUEUE];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    virDomainGetUUID(dom, e->uuid);
    e->id = (int)virDomainGetID(dom);
    snprintf(e->name, sizeof e->name, "%s", virDomainGetName(dom));
    return e;
}

static int on_lifecycle(virConnectPtr c, virDomainPtr dom, int event, int detail, void *opaque)
{
    (void)c;
    struct lv_event *e = push(opaque, LV_EV_LIFECYCLE, dom);
    if (e) {
        e->event = event;
        e->detail = detail;
    }
    return 0;
}

static void on_balloon(virConnectPtr c, virDomainPtr dom, unsigned long long actual, void *opaque)
{
    (void)c;
    struct lv_event *e = push(opaque, LV_EV_BALLOON, dom);
    if (e)
        e->value = actual;
}

static void on_vmem_size(virConnectPtr c, virDomainPtr dom, const char *alias,
                         unsigned long long size, void *opaque)
{
    (void)c;
    struct lv_event *e = push(opaque, LV_EV_VMEM_SIZE, dom);
    if (e) {
        e->value = size;
        snprintf(e->alias, sizeof e->alias, "%s", alias ? alias : "");
    }
}

static void on_metadata(virConnectPtr c, virDomainPtr dom, int type, const char *nsuri,
                        void *opaque)
{
    (void)c;
    if (type == VIR_DOMAIN_METADATA_ELEMENT && nsuri && !strcmp(nsuri, LV_META_URI))
        push(opaque, LV_EV_METADATA, dom);
}

static void on_reboot(virConnectPtr c, virDomainPtr dom, void *opaque)
{
    (void)c;
    push(opaque, LV_EV_REBOOT, dom);
}

static void on_close(virConnectPtr c, int reason, void *opaque)
{
    (void)c;
    struct lv_conn *lc = opaque;
    lc->closed = 1;
    lc->close_reason = reason;
}

int lv_conn_open(struct lv_conn *lc, char *err, size_t errlen)
{
    lc->closed = lc->overflow = 0;
    lc->head = lc->len = 0;
    lc->c = virConnectOpen(lc->uri);
    if (!lc->c) {
        snprintf(err, errlen, "%s", lv_last_error());
        return -1;
    }
    struct {
        int id;
        virConnectDomainEventGenericCallback cb;
    } ev[5] = {
        {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle)},
        {VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_balloon)},
        {VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_vmem_size)},
        {VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_metadata)},
        {VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(on_reboot)},
    };
    int ok = virConnectRegisterCloseCallback(lc->c, on_close, lc, NULL) == 0;
    for (int i = 0; i < 5; i++) {
        lc->cb[i] = ok ? virConnectDomainEventRegisterAny(lc->c, NULL, ev[i].id, ev[i].cb, lc, NULL)
                       : -1;
        ok = ok && lc->cb[i] >= 0;
    }
    /* keepalive: a libvirtd that stops answering is noticed as a lost
     * connection. Remote drivers only: a local one (test:///) has none,
     * which is said and is no reason to fail. */
    if (ok && lc->keepalive_interval > 0 &&
        virConnectSetKeepAlive(lc->c, lc->keepalive_interval, (unsigned)lc->keepalive_count) < 0)
        snprintf(lc->note, sizeof lc->note, "no keepalive on this connection: %s", lv_last_error());
    else
        lc->note[0] = '\0';
    if (!ok) {
        snprintf(err, errlen, "%s", lv_last_error());
        lv_conn_close(lc);
        return -1;
    }
    return 0;
}

void lv_conn_close(struct lv_conn *lc)
{
    if (!lc->c)
        return;
    for (int i = 0; i < 5; i++)
        if (lc->cb[i] >= 0)
            virConnectDomainEventDeregisterAny(lc->c, lc->cb[i]);
    virConnectUnregisterCloseCallback(lc->c, on_close);
    virConnectClose(lc->c);
    lc->c = NULL;
    for (int i = 0; i < 5; i++)
        lc->cb[i] = -1;
}

int lv_conn_next_event(struct lv_conn *lc, struct lv_event *out)
{
    if (!lc->len)
        return 0;
    *out = lc->q[lc->head];
    lc->head = (lc->head + 1) % LV_EVENT_QUEUE;
    lc->len--;
    return 1;
}

const char *lv_close_reason_name(int reason)
{
    switch (reason) {
    case VIR_CONNECT_CLOSE_REASON_ERROR: return "error";
    case VIR_CONNECT_CLOSE_REASON_EOF: return "libvirtd closed it";
    case VIR_CONNECT_CLOSE_REASON_KEEPALIVE: return "keepalive timed out";
    case VIR_CONNECT_CLOSE_REASON_CLIENT: return "closed by the client";
    default: return "unknown reason";
    }
}

const char *lv_lifecycle_name(int event, int detail)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
        return detail == VIR_DOMAIN_EVENT_STARTED_MIGRATED ? "started (migrated in)"
               : detail == VIR_DOMAIN_EVENT_STARTED_RESTORED ? "started (restored)"
                                                              : "started";
    case VIR_DOMAIN_EVENT_STOPPED:
        switch (detail) {
        case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN: return "shut down";
        case VIR_DOMAIN_EVENT_STOPPED_DESTROYED: return "destroyed";
        case VIR_DOMAIN_EVENT_STOPPED_CRASHED: return "crashed";
        case VIR_DOMAIN_EVENT_STOPPED_MIGRATED: return "migrated away";
        case VIR_DOMAIN_EVENT_STOPPED_SAVED: return "saved";
        case VIR_DOMAIN_EVENT_STOPPED_FAILED: return "failed";
        default: return "stopped";
        }
    case VIR_DOMAIN_EVENT_SUSPENDED: return "suspended";
    case VIR_DOMAIN_EVENT_RESUMED: return "resumed";
    case VIR_DOMAIN_EVENT_CRASHED: return "crashed (still there)";
    case VIR_DOMAIN_EVENT_SHUTDOWN: return "shutting down";
    case VIR_DOMAIN_EVENT_DEFINED: return "defined";
    case VIR_DOMAIN_EVENT_UNDEFINED: return "undefined";
    case VIR_DOMAIN_EVENT_PMSUSPENDED: return "PM-suspended";
    default: return "event";
    }
}
