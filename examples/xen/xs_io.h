/* xenstore I/O for dynmem-xen: one connection through libxenstore, numbers
 * read and written as decimal KiB strings, and reconnection with backoff.
 * Every call that fails because the connection is gone marks it lost; the
 * loop then calls xsio_reconnect(). */
#ifndef DYNMEM_XEN_XS_IO_H
#define DYNMEM_XEN_XS_IO_H

#include <stdbool.h>
#include <stdint.h>

struct xs_handle;

struct xsio {
    struct xs_handle *h;
    bool lost;            /* the connection failed; reconnect before use */
    uint64_t backoff_ms;  /* next reconnect delay */
};

/* Result of a call: done, or why not. XSIO_AGAIN is xenstored's EAGAIN (a
 * transaction that met another, under contention): nothing happened, try
 * again; it never means that a domain is gone. */
enum xsio_status { XSIO_OK = 0, XSIO_MISSING, XSIO_DENIED, XSIO_INVALID, XSIO_LOST, XSIO_AGAIN };

/* Opens the connection (XENSTORED_PATH, else the default socket or
 * /dev/xen/xenbus) and watches /local/domain. Returns 0 or -1 (errno). */
int xsio_connect(struct xsio *x);
void xsio_close(struct xsio *x);

/* Tries to reconnect once, sleeping first for the current backoff (100 ms,
 * doubling to 5 s); resets the backoff on success. Returns 0 or -1. */
int xsio_reconnect(struct xsio *x, volatile int *stop);

/* Reads a decimal unsigned number at path. */
enum xsio_status xsio_read_u64(struct xsio *x, const char *path, uint64_t *out);
/* Reads a string (malloc'd into *out). */
enum xsio_status xsio_read_str(struct xsio *x, const char *path, char **out);
/* Writes a decimal number, in a transaction that first checks that `guard`
 * exists (a plain write would re-create the directories of a domain that
 * is gone). XSIO_MISSING when the guard is gone; XSIO_AGAIN when the
 * transaction kept ending in EAGAIN (nothing written: call again later). */
enum xsio_status xsio_write_u64_guarded(struct xsio *x, const char *guard, const char *path,
                                        uint64_t value);
/* Lists the children of /local/domain as domain ids (malloc'd array). */
enum xsio_status xsio_list_domains(struct xsio *x, unsigned **ids, unsigned *n);

/* File descriptor to poll for watch events, or -1. */
int xsio_fd(struct xsio *x);
/* Drains pending watch events; returns how many were read. */
unsigned xsio_drain_events(struct xsio *x);

const char *xsio_status_name(enum xsio_status s);

#endif
