/* dynmem-libvirt's connection to libvirt: open with keepalive, the domain
 * events it listens to, and the close callback. Callbacks only queue what
 * they saw; the loop acts on the queue (lvloop.c). */
#ifndef DYNMEM_LIBVIRT_LVCONN_H
#define DYNMEM_LIBVIRT_LVCONN_H

#include <libvirt/libvirt.h>
#include <stddef.h>

enum lv_event_kind {
    LV_EV_LIFECYCLE = 1,  /* event, detail: virDomainEventType and its detail */
    LV_EV_BALLOON,        /* value: balloon size, KiB */
    LV_EV_VMEM_SIZE,      /* alias, value: plugged size, KiB */
    LV_EV_METADATA,       /* our metadata element changed */
    LV_EV_REBOOT          /* the guest reset */
};

struct lv_event {
    int kind;
    unsigned char uuid[VIR_UUID_BUFLEN];
    int id;               /* the domain's runtime id (-1 if off) */
    char name[128];
    int event, detail;
    unsigned long long value;
    char alias[64];
};

#define LV_EVENT_QUEUE 512

struct lv_conn {
    const char *uri;
    int keepalive_interval, keepalive_count;
    virConnectPtr c;
    int cb[5];
    int closed;           /* set by the close callback */
    int close_reason;     /* virConnectCloseReason */
    int overflow;         /* events were lost: the loop must reconcile */
    char note[256];       /* something to log after opening, "" if none */
    size_t head, len;
    struct lv_event q[LV_EVENT_QUEUE];
};

/* Register libvirt's default event loop; once, before any connection. */
int lv_conn_init_events(void);

/* Open the connection, set keepalive and register the callbacks.
 * Returns 0, or -1 with err set (libvirt's message). */
int lv_conn_open(struct lv_conn *lc, char *err, size_t errlen);

/* Deregister and close (after a loss, or on exit). */
void lv_conn_close(struct lv_conn *lc);

/* Take the oldest queued event; 1 if one was written, 0 if none. */
int lv_conn_next_event(struct lv_conn *lc, struct lv_event *out);

/* libvirt's last error message, or "unknown error". */
const char *lv_last_error(void);

/* Names for log lines. */
const char *lv_close_reason_name(int reason);
const char *lv_lifecycle_name(int event, int detail);

#endif
