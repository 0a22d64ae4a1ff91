/* dynmem-libvirt's command line (see lvconf.h). */
#include <dynmem/dynmem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exutil.h"
#include "lvconf.h"

void lv_usage(FILE *to)
{
    fputs(
"usage: dynmem-libvirt [OPTIONS]                 run the daemon\n"
"       dynmem-libvirt [OPTIONS] admit DOMAIN    can DOMAIN start now, and what is missing\n"
"       dynmem-libvirt --status --metrics-file PATH\n"
"Dynamic Memory for libvirt domains: balloon statistics in, balloon and\n"
"virtio-mem sizes out through libvirt's API, decided by libdynmem's balancer.\n"
"A domain is managed when its XML has dynmem metadata (docs/libvirt.md):\n"
"  virsh metadata DOMAIN --uri urn:libdynmem:libvirt:1 --key dynmem --live --config \\\n"
"    --set \"<memory><minimum unit='MiB'>512</minimum><maximum unit='GiB'>4</maximum></memory>\"\n"
"Other running domains are booked at what they hold.\n"
"\n"
"OPTIONS:\n"
"  -c, --connect URI    libvirt URI (default qemu:///system)\n"
"  --host-memory SIZE   memory the domains share (default: the host's, from libvirt)\n"
"  --reserve SIZE       kept for the host (default: the library's, 899 MiB+)\n"
"  --policy P           dynmem (default), hyperv or static\n"
"  --stats-interval S   guest statistics period set on each domain, s (default 2)\n"
"  --tick MS            decision period, ms (default 1000)\n"
"  --calm MS            surplus lasting this long is reclaimed, unless a domain's\n"
"                       metadata says otherwise (default 60000)\n"
"  --settle MS          an action without progress this long is over (default 10000)\n"
"  --keepalive S,N      libvirt keepalive: probe every S s, give up after N misses\n"
"                       (default 5,3; 0 turns it off)\n"
"  --reconnect-max MS   longest wait between reconnection attempts (default 30000)\n"
"  --metrics-file PATH  write the host and domain counters there (Prometheus text,\n"
"                       replaced atomically after every round; docs/metrics.md)\n"
"  --status             print the counters a running dynmem-libvirt writes to\n"
"                       --metrics-file PATH as a table, and exit\n"
"  --once               connect, read, decide and act once, print status, exit\n"
"  --dry-run            decide and log, never change a domain\n"
"  -v, --verbose        also log every guest statistics sample\n"
"SIZE takes K, M, G or T (powers of 1024); a bare number means MiB.\n"
"SIGTERM leaves every domain as it is.\n",
        to);
}

static int parse_keepalive(const char *s, struct lv_options *o)
{
    unsigned i, n = 0;
    char extra;
    if (!strcmp(s, "0")) {
        o->keepalive_interval = 0;
        return 0;
    }
    if (sscanf(s, "%u,%u%c", &i, &n, &extra) != 2 || i == 0 || i > 3600 || n > 100)
        return -1;
    o->keepalive_interval = (int)i;
    o->keepalive_count = (int)n;
    return 0;
}

/* One option with a value; -1 if unknown or bad. */
static int option(struct lv_options *o, const char *a, const char *val)
{
    uint64_t sz;
    unsigned u;
    if (!strcmp(a, "-c") || !strcmp(a, "--connect")) {
        o->uri = val;
        return 0;
    }
    if (!strcmp(a, "--host-memory"))
        return ex_parse_size(val, &o->host_total) || o->host_total == 0 ? -1 : 0;
    if (!strcmp(a, "--reserve")) {
        if (ex_parse_size(val, &sz) || sz > INT64_MAX)
            return -1;
        o->reserve = (int64_t)sz;
        return 0;
    }
    if (!strcmp(a, "--policy"))
        return (o->policy = ex_parse_policy(val)) < 0 ? -1 : 0;
    if (!strcmp(a, "--stats-interval"))
        return ex_parse_ms(val, &o->stats_interval_s) || o->stats_interval_s > 3600 ? -1 : 0;
    if (!strcmp(a, "--tick"))
        return ex_parse_ms(val, &o->tick_ms);
    if (!strcmp(a, "--calm")) {
        if (ex_parse_ms(val, &u))
            return -1;
        o->calm_ms = u;
        return 0;
    }
    if (!strcmp(a, "--settle"))
        return ex_parse_ms(val, &o->settle_ms);
    if (!strcmp(a, "--keepalive"))
        return parse_keepalive(val, o);
    if (!strcmp(a, "--reconnect-max"))
        return ex_parse_ms(val, &o->reconnect_max_ms);
    if (!strcmp(a, "--metrics-file")) {
        o->metrics_file = val;
        return 0;
    }
    return -2;
}

int lv_parse_args(int argc, char **argv, struct lv_options *o)
{
    *o = (struct lv_options){.command = LV_CMD_RUN, .uri = "qemu:///system", .reserve = -1,
                             .tick_ms = 1000, .stats_interval_s = 2, .calm_ms = 60000,
                             .settle_ms = 10000, .policy = DYNMEM_POLICY_DYNMEM,
                             .keepalive_interval = 5, .keepalive_count = 3,
                             .reconnect_max_ms = 30000};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            lv_usage(stdout);
            return 1;
        } else if (!strcmp(a, "--once")) {
            o->once = 1;
        } else if (!strcmp(a, "--dry-run")) {
            o->dry_run = 1;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose = 1;
        } else if (!strcmp(a, "--status") && o->command == LV_CMD_RUN) {
            o->command = LV_CMD_STATUS;
        } else if (!strcmp(a, "admit") && o->command == LV_CMD_RUN) {
            if (!val || val[0] == '-') {
                fprintf(stderr, "dynmem-libvirt: admit needs a domain name\n");
                return -1;
            }
            o->command = LV_CMD_ADMIT;
            o->domain = val;
            i++;
        } else if (a[0] != '-' || !val) {
            fprintf(stderr, "dynmem-libvirt: %s: unknown command, option or missing value\n", a);
            return -1;
        } else {
            int rc = option(o, a, val);
            if (rc == -2) {
                fprintf(stderr, "dynmem-libvirt: unknown option %s\n", a);
                return -1;
            }
            if (rc) {
                fprintf(stderr, "dynmem-libvirt: bad value for %s: %s\n", a, val);
                return -1;
            }
            i++;
        }
    }
    if (o->command == LV_CMD_STATUS && !o->metrics_file) {
        fprintf(stderr, "dynmem-libvirt: --status needs --metrics-file PATH (the daemon's)\n");
        return -1;
    }
    return 0;
}

int lv_host_memory(const struct lv_options *o, uint64_t reported, uint64_t *total, char *err,
                   size_t errlen)
{
    struct dynmem_host_config hc = DYNMEM_HOST_CONFIG_INIT;
    hc.total_bytes = o->host_total ? o->host_total : reported & ~(DYNMEM_SIZE_UNIT - 1);
    hc.reserve_bytes = o->reserve;
    char why[200];
    if (dynmem_host_config_check(&hc, why, sizeof why)) {
        snprintf(err, errlen, "%s%s", why,
                 o->host_total ? "" : " (host memory as libvirt reports it)");
        return -1;
    }
    *total = hc.total_bytes;
    return 0;
}
