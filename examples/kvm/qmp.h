/* A minimal QMP client over a unix socket: handshake, commands with ids,
 * events handed to a callback. JSON through jansson. */
#ifndef DYNMEM_KVM_QMP_H
#define DYNMEM_KVM_QMP_H

#include <jansson.h>

struct qmp;

/* Called for every asynchronous event ({"event": ...}) as it is read. */
typedef void (*qmp_event_fn)(void *ctx, const char *name, json_t *data);

/* Connect and negotiate capabilities, waiting at most connect_timeout_ms
 * for each answer; later commands wait at most timeout_ms. NULL on failure
 * (err says why). */
struct qmp *qmp_connect(const char *path, int connect_timeout_ms, int timeout_ms,
                        qmp_event_fn on_event, void *ctx, char *err, size_t errlen);
void qmp_close(struct qmp *q);
int qmp_fd(const struct qmp *q);
/* The pid of the process at the other end of the socket (SO_PEERCRED when
 * connecting: QEMU itself, or a proxy in between), 0 if unknown. */
int qmp_peer_pid(const struct qmp *q);

/* Run a command (args may be NULL; the reference is stolen). Returns 0 with
 * *ret set to a new reference to the "return" value, 1 when QEMU answered
 * {"error": ...} (err holds class and desc), -1 when the connection closed
 * or the answer did not come in time (err says which; the connection is
 * then unusable, but QEMU may well be running). */
int qmp_call(struct qmp *q, const char *cmd, json_t *args, json_t **ret, char *err,
             size_t errlen);

/* Read what is waiting without blocking and dispatch events; -1 once the
 * peer has closed the connection. */
int qmp_pump(struct qmp *q);

#endif
