/* Internal to examples/common: the one list of metric names, shared by the
 * writer (metrics.c) and the reader behind --status (metrics_read.c). */
#ifndef DYNMEM_EXAMPLES_METRICS_NAMES_H
#define DYNMEM_EXAMPLES_METRICS_NAMES_H

#include "metrics.h"

struct metrics_name {
    const char *name;
    const char *type; /* "gauge" or "counter" */
    const char *help;
};

extern const struct metrics_name metrics_vm_names[METRICS_VM_FIELDS];
extern const struct metrics_name metrics_host_names[METRICS_HOST_FIELDS];

#define METRICS_INFO "dynmem_daemon_info"
#define METRICS_UPDATED "dynmem_last_update_timestamp_seconds"
#define METRICS_VM_STATE "dynmem_vm_state"
#define METRICS_VM_STATUS "dynmem_vm_status"

/* The values dynmem_vm_status takes, one series each. */
extern const char *const metrics_statuses[4];

#endif
