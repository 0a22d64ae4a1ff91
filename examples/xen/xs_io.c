/* xenstore I/O through libxenstore (see xs_io.h). */
#include "xs_io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define WATCH_PATH "/local/domain"
#define WATCH_TOKEN "dynmem-xen"

static enum xsio_status classify(struct xsio *x, int err)
{
    switch (err) {
    case ENOENT: return XSIO_MISSING;
    case EACCES:
    case EPERM: return XSIO_DENIED;
    case EINVAL:
    case E2BIG:
    case EISDIR:
    case ENOSPC:
    case EROFS:
    case ENOTEMPTY:
    case EEXIST: return XSIO_INVALID;
    case EAGAIN: return XSIO_AGAIN;
    default:
        x->lost = true;
        return XSIO_LOST;
    }
}

const char *xsio_status_name(enum xsio_status s)
{
    static const char *const names[] = {"ok", "missing (ENOENT)", "denied (EACCES)",
                                        "invalid", "connection lost", "busy (EAGAIN)"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

int xsio_connect(struct xsio *x)
{
    x->h = xs_open(0);
    if (!x->h)
        return -1;
    if (!xs_watch(x->h, WATCH_PATH, WATCH_TOKEN)) {
        int err = errno;
        xs_close(x->h);
        x->h = NULL;
        errno = err;
        return -1;
    }
    x->lost = false;
    x->backoff_ms = BACKOFF_FIRST_MS;
    return 0;
}

void xsio_close(struct xsio *x)
{
    xs_close(x->h);
    x->h = NULL;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int xsio_reconnect(struct xsio *x, volatile int *stop)
{
    if (x->backoff_ms == 0)
        x->backoff_ms = BACKOFF_FIRST_MS;
    xsio_close(x);
    /* Sleep in slices so that SIGTERM is honoured quickly. */
    for (uint64_t slept = 0; slept < x->backoff_ms && !*stop; slept += 50)
        sleep_ms(50);
    uint64_t next = x->backoff_ms * 2;
    if (xsio_connect(x) == 0)
        return 0;
    x->lost = true;
    x->backoff_ms = next > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : next;
    return -1;
}

enum xsio_status xsio_read_str(struct xsio *x, const char *path, char **out)
{
    if (x->lost || !x->h)
        return XSIO_LOST;
    unsigned len = 0;
    char *v = xs_read(x->h, XBT_NULL, path, &len);
    if (!v)
        return classify(x, errno);
    *out = v;
    return XSIO_OK;
}

enum xsio_status xsio_read_u64(struct xsio *x, const char *path, uint64_t *out)
{
    char *v = NULL;
    enum xsio_status s = xsio_read_str(x, path, &v);
    if (s != XSIO_OK)
        return s;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    bool ok = end != v && *end == '\0' && errno == 0 && v[0] != '-';
    free(v);
    if (!ok)
        return XSIO_INVALID;
    *out = n;
    return XSIO_OK;
}

/* Ends transaction t (abandoning it on failure) and classifies `err`. */
static enum xsio_status abandon(struct xsio *x, xs_transaction_t t, int err)
{
    xs_transaction_end(x->h, t, true);
    return classify(x, err);
}

enum xsio_status xsio_write_u64_guarded(struct xsio *x, const char *guard, const char *path,
                                        uint64_t value)
{
    if (x->lost || !x->h)
        return XSIO_LOST;
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRIu64, value);
    for (int attempt = 0; attempt < 8; attempt++) {
        xs_transaction_t t = xs_transaction_start(x->h);
        if (t == XBT_NULL)
            return classify(x, errno);
        unsigned len = 0;
        void *v = xs_read(x->h, t, guard, &len);
        if (!v)
            return abandon(x, t, errno);
        free(v);
        if (!xs_write(x->h, t, path, buf, (unsigned)n))
            return abandon(x, t, errno);
        if (xs_transaction_end(x->h, t, false))
            return XSIO_OK;
        if (errno != EAGAIN)
            return classify(x, errno);
    }
    return XSIO_AGAIN; /* the store kept changing under us: later */
}

enum xsio_status xsio_list_domains(struct xsio *x, unsigned **ids, unsigned *n)
{
    if (x->lost || !x->h)
        return XSIO_LOST;
    unsigned num = 0;
    char **names = xs_directory(x->h, XBT_NULL, WATCH_PATH, &num);
    if (!names)
        return classify(x, errno);
    unsigned *out = calloc(num ? num : 1, sizeof *out);
    unsigned k = 0;
    for (unsigned i = 0; out && i < num; i++) {
        char *end = NULL;
        unsigned long id = strtoul(names[i], &end, 10);
        if (end != names[i] && *end == '\0' && id < 0x7ff0) /* DOMID_FIRST_RESERVED */
            out[k++] = (unsigned)id;
    }
    free(names);
    if (!out)
        return XSIO_INVALID;
    *ids = out;
    *n = k;
    return XSIO_OK;
}

int xsio_fd(struct xsio *x)
{
    return x->h && !x->lost ? xs_fileno(x->h) : -1;
}

unsigned xsio_drain_events(struct xsio *x)
{
    unsigned n = 0;
    if (!x->h || x->lost)
        return 0;
    for (;;) {
        char **ev = xs_check_watch(x->h);
        if (!ev) {
            if (errno != EAGAIN)
                x->lost = true;
            return n;
        }
        free(ev);
        n++;
    }
}
