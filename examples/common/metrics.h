/* Operator counters for libdynmem's daemons (dynmem-kvm, dynmem-xen, and any
 * other front end that runs a balancer): the host's and every VM's Dynamic
 * Memory counters, in the Prometheus text format as a file replaced
 * atomically (for node_exporter's textfile collector), and as a table
 * (--status), which is printed from that same file. Links libdynmem's public
 * API only. The metric names and an example scrape are in docs/metrics.md.
 *
 * Use: metrics_init() once; each round metrics_begin(), metrics_add_vm() for
 * every VM the daemon knows, metrics_publish(); metrics_free() at the end.
 * --status: metrics_status(). Not thread-safe; one struct per thread. */
#ifndef DYNMEM_EXAMPLES_METRICS_H
#define DYNMEM_EXAMPLES_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <dynmem/dynmem.h>

/* Per-VM figures, as in struct dynmem_vm_counters (bytes, percent, flags). */
enum metrics_vm_field {
    METRICS_VM_ASSIGNED,
    METRICS_VM_IN_FLIGHT,
    METRICS_VM_DEMAND,
    METRICS_VM_TARGET,
    METRICS_VM_PRESSURE,
    METRICS_VM_PRESSURE_AVERAGE,
    METRICS_VM_PRESSURE_MINIMUM,
    METRICS_VM_PRESSURE_MAXIMUM,
    METRICS_VM_BALLOON,
    METRICS_VM_ADDED,
    METRICS_VM_REMOVED,
    METRICS_VM_VISIBLE,
    METRICS_VM_SMART_PAGED,
    METRICS_VM_ADD_OPERATIONS,
    METRICS_VM_REMOVE_OPERATIONS,
    METRICS_VM_STUCK,
    METRICS_VM_STALE,
    METRICS_VM_FIELDS
};

/* Host figures, as in struct dynmem_host_counters. */
enum metrics_host_field {
    METRICS_HOST_TOTAL,
    METRICS_HOST_RESERVE,
    METRICS_HOST_AVAILABLE,
    METRICS_HOST_ASSIGNED,
    METRICS_HOST_IN_FLIGHT,
    METRICS_HOST_PRESSURE,
    METRICS_HOST_RUNNING,
    METRICS_HOST_STUCK,
    METRICS_HOST_ADDED,
    METRICS_HOST_REMOVED,
    METRICS_HOST_FIELDS
};

struct metrics_vm {
    char name[128];
    /* The daemon's word for where the VM stands, e.g. "managed", "waiting",
     * "disconnected" (memory still booked), "refused". */
    char state[32];
    /* In the balancer's books: the figures and the status below are valid. */
    bool booked;
    /* "ok", "low", "warning" or "no-data" (no guest report yet). */
    char status[16];
    uint64_t v[METRICS_VM_FIELDS];
};

struct metrics {
    char daemon[32];
    char library[32];    /* libdynmem's version string */
    int64_t updated_ms;  /* wall clock of the snapshot, ms since the epoch */
    uint64_t host[METRICS_HOST_FIELDS];
    size_t n, cap;
    struct metrics_vm *vm;
    bool write_failed;   /* the last metrics_publish() failed (logged once) */
};

void metrics_init(struct metrics *m, const char *daemon);
void metrics_free(struct metrics *m);

/* Starts a snapshot: the host counters of b (NULL: zeros) at wall-clock
 * time now_ms, and no VMs. Returns 0 or -1 (b refused the read). */
int metrics_begin(struct metrics *m, const dynmem_balancer *b, int64_t now_ms);

/* Adds a VM. With b non-NULL its counters are read from b (the VM is
 * booked); with b NULL only its name and state are recorded. Returns 0 or
 * -1 (out of memory, or b does not know vm_id). */
int metrics_add_vm(struct metrics *m, const char *name, const char *state,
                   const dynmem_balancer *b, uint64_t vm_id);

/* The snapshot in the Prometheus text format (version 0.0.4). */
int metrics_write_prom(const struct metrics *m, FILE *out);

/* Replaces the file at path with the snapshot: written to a temporary file
 * in the same folder, then renamed over path, so that a reader sees the old
 * file or the new one, never a part. Returns 0, or -1 with err set. */
int metrics_publish(const struct metrics *m, const char *path, char *err, size_t errlen);

/* metrics_publish() for a daemon's loop, which should not log the same
 * failure every tick: returns 1 when msg holds a line to log (the first
 * failure, or writing works again after failures), 0 otherwise. */
int metrics_publish_quiet(struct metrics *m, const char *path, char *msg, size_t msglen);

/* Reads a file written by metrics_publish() back into m (after
 * metrics_init()). Returns 0, or -1 with err set (unreadable, not ours). */
int metrics_read_prom(struct metrics *m, FILE *in, char *err, size_t errlen);

/* The snapshot as a table: one header line for the host, one line per VM
 * (MiB and percent); now_ms (wall clock) gives the snapshot's age. */
void metrics_print_table(const struct metrics *m, int64_t now_ms, FILE *out);

/* --status: prints the table from the file a running daemon writes.
 * Returns 0, or 1 when the file cannot be read (the reason on err). */
int metrics_status(const char *path, FILE *out, FILE *err);

/* Wall-clock time in ms since the epoch. */
int64_t metrics_wall_ms(void);

#endif
