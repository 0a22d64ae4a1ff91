/* dynmem-libvirt's command line. */
#ifndef DYNMEM_LIBVIRT_LVCONF_H
#define DYNMEM_LIBVIRT_LVCONF_H

#include <stdint.h>
#include <stdio.h>

enum lv_command { LV_CMD_RUN, LV_CMD_ADMIT, LV_CMD_STATUS };

struct lv_options {
    enum lv_command command;
    const char *domain;          /* admit DOMAIN */
    const char *uri;             /* default qemu:///system */
    uint64_t host_total;         /* 0 = what libvirt reports (virNodeGetInfo) */
    int64_t reserve;             /* -1 = the library's default */
    unsigned tick_ms;
    unsigned stats_interval_s;
    int64_t calm_ms;             /* -1 = the library's default (60 s) */
    unsigned settle_ms;
    int policy;                  /* enum dynmem_policy */
    int keepalive_interval, keepalive_count;
    unsigned reconnect_max_ms;   /* backoff ceiling */
    const char *metrics_file;    /* operator counters, Prometheus text; NULL = none */
    int once, dry_run, verbose;
};

/* Defaults, then the command line. Returns 0, 1 after --help, or -1 with a
 * message on stderr. */
int lv_parse_args(int argc, char **argv, struct lv_options *o);

void lv_usage(FILE *to);

/* The host memory the domains share: --host-memory, or what libvirt reports
 * (@p reported, bytes, rounded down to 2 MiB), checked with the reserve by
 * the library's dynmem_host_config_check(). Returns 0, or -1 with err set
 * ("reserve 8192 MiB at or above host memory 8192 MiB"). */
int lv_host_memory(const struct lv_options *o, uint64_t reported, uint64_t *total, char *err,
                   size_t errlen);

#endif
