/* QMP client: one line of JSON per message, as QEMU writes them. */
#define _GNU_SOURCE /* struct ucred */
#include "qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct qmp {
    int fd;
    int timeout_ms;
    int peer_pid;   /* SO_PEERCRED at connect, 0 if unknown */
    int closed;     /* the peer hung up (else: no answer in time) */
    unsigned long next_id;
    qmp_event_fn on_event;
    void *ctx;
    size_t len;
    char buf[1 << 16];
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read once into the buffer: 1 data, 0 nothing before the deadline, -1 EOF/error. */
static int fill(struct qmp *q, int wait_ms)
{
    struct pollfd p = {.fd = q->fd, .events = POLLIN};
    int r = poll(&p, 1, wait_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    if (r == 0)
        return 0;
    if (q->len == sizeof q->buf)
        return -1; /* a message longer than the buffer: give up on this peer */
    ssize_t n = recv(q->fd, q->buf + q->len, sizeof q->buf - q->len, 0);
    if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN)))
        q->closed = 1;
    if (n <= 0)
        return q->closed ? -1 : 0;
    q->len += (size_t)n;
    return 1;
}

/* Take one complete line as JSON (numbers as reals: QEMU writes 2^64-1 for
 * "not available", beyond jansson's integers), or NULL if none is buffered yet. */
static json_t *take_message(struct qmp *q)
{
    for (;;) {
        char *nl = memchr(q->buf, '\n', q->len);
        if (!nl)
            return NULL;
        size_t line = (size_t)(nl - q->buf) + 1;
        json_error_t jerr;
        json_t *msg = json_loadb(q->buf, line, JSON_DECODE_INT_AS_REAL, &jerr);
        memmove(q->buf, q->buf + line, q->len - line);
        q->len -= line;
        if (msg && json_is_object(msg))
            return msg;
        json_decref(msg); /* blank or foreign line: skip */
    }
}

/* Dispatch an event; returns 1 if msg was one (and consumed it). */
static int dispatch_event(struct qmp *q, json_t *msg)
{
    json_t *ev = json_object_get(msg, "event");
    if (!json_is_string(ev))
        return 0;
    if (q->on_event)
        q->on_event(q->ctx, json_string_value(ev), json_object_get(msg, "data"));
    json_decref(msg);
    return 1;
}

/* Wait for a message that is not an event (greeting or answer). */
static json_t *next_reply(struct qmp *q)
{
    long long deadline = now_ms() + q->timeout_ms;
    for (;;) {
        json_t *msg;
        while ((msg = take_message(q)) != NULL) {
            if (!dispatch_event(q, msg))
                return msg;
        }
        long long left = deadline - now_ms();
        if (left <= 0 || fill(q, (int)left) < 0)
            return NULL;
    }
}

static void describe_error(json_t *error, char *err, size_t errlen)
{
    const char *cls = json_string_value(json_object_get(error, "class"));
    const char *desc = json_string_value(json_object_get(error, "desc"));
    snprintf(err, errlen, "%s: %s", cls ? cls : "error", desc ? desc : "(no description)");
}

int qmp_call(struct qmp *q, const char *cmd, json_t *args, json_t **ret, char *err,
             size_t errlen)
{
    if (ret)
        *ret = NULL;
    unsigned long id = ++q->next_id;
    json_t *req = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
    if (args)
        json_object_set_new(req, "arguments", args);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text) {
        snprintf(err, errlen, "cannot encode %s", cmd);
        return -1;
    }
    size_t n = strlen(text), off = 0;
    text[n] = '\n'; /* json_dumps leaves room for the terminator; replace it */
    while (off < n + 1) {
        ssize_t w = send(q->fd, text + off, n + 1 - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            free(text);
            snprintf(err, errlen, "send %s: %s", cmd, strerror(errno));
            return -1;
        }
        off += (size_t)w;
    }
    free(text);
    for (;;) {
        json_t *msg = next_reply(q);
        if (!msg) {
            if (q->closed)
                snprintf(err, errlen, "QMP connection closed during %s", cmd);
            else
                snprintf(err, errlen, "no answer to %s within %d ms", cmd, q->timeout_ms);
            return -1;
        }
        json_t *mid = json_object_get(msg, "id");
        if (!json_is_number(mid) || json_number_value(mid) != (double)id) {
            json_decref(msg); /* an answer to an abandoned command */
            continue;
        }
        json_t *error = json_object_get(msg, "error");
        if (error) {
            describe_error(error, err, errlen);
            json_decref(msg);
            return 1;
        }
        json_t *r = json_object_get(msg, "return");
        if (ret && r)
            *ret = json_incref(r);
        json_decref(msg);
        return 0;
    }
}

struct qmp *qmp_connect(const char *path, int connect_timeout_ms, int timeout_ms,
                        qmp_event_fn on_event, void *ctx, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "socket path too long");
        return NULL;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        snprintf(err, errlen, "connect %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    struct qmp *q = calloc(1, sizeof *q);
    if (!q) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    q->fd = fd;
    q->timeout_ms = connect_timeout_ms;
    q->on_event = on_event;
    q->ctx = ctx;
    struct ucred cred;
    socklen_t clen = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 && clen == sizeof cred)
        q->peer_pid = cred.pid;
    json_t *greeting = next_reply(q);
    if (!greeting || !json_object_get(greeting, "QMP")) {
        snprintf(err, errlen, "no QMP greeting on %s within %d ms", path, connect_timeout_ms);
        json_decref(greeting);
        qmp_close(q);
        return NULL;
    }
    json_decref(greeting);
    if (qmp_call(q, "qmp_capabilities", NULL, NULL, err, errlen) != 0) {
        qmp_close(q);
        return NULL;
    }
    q->timeout_ms = timeout_ms;
    return q;
}

int qmp_pump(struct qmp *q)
{
    for (;;) {
        json_t *msg;
        while ((msg = take_message(q)) != NULL)
            if (!dispatch_event(q, msg))
                json_decref(msg); /* a late answer nobody waits for */
        int r = fill(q, 0);
        if (r <= 0)
            return r;
    }
}

void qmp_close(struct qmp *q)
{
    if (!q)
        return;
    close(q->fd);
    free(q);
}

int qmp_fd(const struct qmp *q)
{
    return q->fd;
}

int qmp_peer_pid(const struct qmp *q)
{
    return q->peer_pid;
}
