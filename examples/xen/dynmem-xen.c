/* dynmem-xen: Dynamic Memory for Xen guests through xenstore. Discovers
 * domains under /local/domain, reads each guest agent's data/meminfo_*,
 * lets libdynmem's balancer decide, and writes memory/target. Links
 * libdynmem through its public API only and libxenstore. See
 * docs/dynmem-xen.1 and docs/xen.md. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dynmem/dynmem.h>

#include "domains.h"
#include "metrics.h"
#include "xen_config.h"
#include "xs_io.h"

#define RESCAN_EVERY_MS 5000
#define METRICS_EVERY_MS 1000

static volatile sig_atomic_t stop_requested;
static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    stop_flag = 1;
}

static void usage(FILE *to)
{
    fputs("usage: dynmem-xen [--config FILE] [--once] [--dry-run] [--status]\n"
          "  --config FILE  configuration (default /etc/dynmem/xen.conf)\n"
          "  --once         one pass (discover, sample, decide, write) and exit\n"
          "  --dry-run      decide and log, never write memory/target\n"
          "  --status       print the counters the running daemon writes to its\n"
          "                 [host] metrics-file as a table, and exit\n"
          "  --help         this text; the manual is dynmem-xen(1)\n"
          "\n"
          "Reads, per domain under /local/domain/<domid>/ (sizes in KiB):\n"
          "  name, memory/static-max, memory/target (once, at discovery),\n"
          "  data/meminfo_total, data/meminfo_free (guest agent: demand = total - free),\n"
          "  data/balloon_current_kb (optional guest figure confirming a shrink;\n"
          "  [host] confirm-key changes it)\n"
          "Writes: memory/target (KiB), one log line per change with its reason.\n"
          "Connects through libxenstore: XENSTORED_PATH, else /var/run/xenstored/socket,\n"
          "else /dev/xen/xenbus. SIGTERM/SIGINT exit and leave every target as it is.\n"
          "\n"
          "Configuration (sizes take K, M, G or T; a bare number is MiB):\n"
          "  [host]            memory = 16G (required: what guests may share)\n"
          "                    reserve = 1G, policy = dynmem|hyperv|static,\n"
          "                    tick-ms, stuck-ms, calm-ms, giveup-ms, stale-ms,\n"
          "                    confirm-key = data/balloon_current_kb | none,\n"
          "                    manage-dom0 = no, metrics-file = /run/dynmem/xen.prom\n"
          "  [defaults]        minimum, maximum, buffer (percent), weight (0..10000)\n"
          "  [domain NAME]     startup, minimum, maximum, buffer, weight, manage = yes|no\n",
          to);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct options {
    const char *config;
    int once, dry_run, status;
};

static int parse_args(int argc, char **argv, struct options *o)
{
    o->config = "/etc/dynmem/xen.conf";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            o->config = argv[++i];
        } else if (!strcmp(argv[i], "--once")) {
            o->once = 1;
        } else if (!strcmp(argv[i], "--dry-run")) {
            o->dry_run = 1;
        } else if (!strcmp(argv[i], "--status")) {
            o->status = 1;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            exit(0);
        } else {
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

/* Waits up to `ms` for watch events; returns true if the domain list may
 * have changed. */
static int wait_events(struct xsio *xs, uint64_t ms)
{
    struct pollfd p = {.fd = xsio_fd(xs), .events = POLLIN};
    if (p.fd < 0)
        return 0;
    int r = poll(&p, 1, (int)ms);
    if (r > 0)
        return xsio_drain_events(xs) > 0;
    return 0;
}

/* Reconnects; meanwhile every domain stays in the books, and the metrics
 * file says they are disconnected. */
static void stay_connected(struct xsio *xs, struct xdoms *ds, struct metrics *m, FILE *log)
{
    fprintf(log, "dynmem-xen: xenstore connection lost; every domain stays booked; "
            "reconnecting\n");
    fflush(log);
    unsigned attempts = 0;
    xdoms_publish(ds, m, true);
    while (!stop_flag && xsio_reconnect(xs, &stop_flag) != 0) {
        attempts++;
        xdoms_publish(ds, m, true);
    }
    if (!stop_flag) {
        fprintf(log, "dynmem-xen: reconnected to xenstore after %u failed attempts\n", attempts);
        fflush(log);
    }
}

int main(int argc, char **argv)
{
    struct options o = {0};
    if (parse_args(argc, argv, &o))
        return 2;
    struct xen_config cfg;
    xen_config_init(&cfg);
    if (xen_config_load(&cfg, o.config, stderr)) {
        xen_config_free(&cfg);
        return 2;
    }
    if (o.status) {
        int rc = 2;
        if (cfg.metrics_file[0])
            rc = metrics_status(cfg.metrics_file, stdout, stderr);
        else
            fprintf(stderr, "dynmem-xen: %s sets no [host] metrics-file\n", o.config);
        xen_config_free(&cfg);
        return rc;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct xsio xs = {0};
    if (xsio_connect(&xs) != 0) {
        fprintf(stderr, "dynmem-xen: cannot connect to xenstore: %s\n", strerror(errno));
        if (o.once) {
            xen_config_free(&cfg);
            return 1;
        }
        xs.lost = true;
    }
    struct xdoms ds;
    if (xdoms_init(&ds, &cfg, &xs, o.dry_run, stdout)) {
        xdoms_fini(&ds);
        xsio_close(&xs);
        xen_config_free(&cfg);
        return 2;
    }
    struct dynmem_host_counters last = DYNMEM_HOST_COUNTERS_INIT;
    struct metrics m;
    metrics_init(&m, "dynmem-xen");
    uint64_t t0 = now_ms() - 1, next_rescan = 0, next_metrics = 0;
    int rescan = 1;
    while (!stop_flag) {
        if (xs.lost) {
            stay_connected(&xs, &ds, &m, stdout);
            rescan = 1;
            continue;
        }
        uint64_t now = now_ms() - t0;
        if (rescan || now >= next_rescan) {
            xdoms_rescan(&ds, now);
            rescan = 0;
            next_rescan = now + RESCAN_EVERY_MS;
        }
        xdoms_sample(&ds, now);
        xdoms_tick(&ds, now);
        struct dynmem_host_counters hc = DYNMEM_HOST_COUNTERS_INIT;
        dynmem_balancer_host_counters(ds.b, &hc);
        if (hc.assigned_bytes != last.assigned_bytes || hc.in_flight_bytes != last.in_flight_bytes ||
            hc.running_vms != last.running_vms || hc.stuck_vms != last.stuck_vms || o.once)
            xdoms_log_host(&ds);
        last = hc;
        if (now >= next_metrics || o.once) {
            xdoms_publish(&ds, &m, xs.lost);
            next_metrics = now + METRICS_EVERY_MS;
        }
        if (o.once)
            break;
        if (xs.lost)
            continue;
        uint64_t deadline = now + cfg.tick_ms;
        for (uint64_t t = now; !stop_flag && !xs.lost && t < deadline; t = now_ms() - t0)
            rescan |= wait_events(&xs, deadline - t);
    }
    metrics_free(&m);
    if (o.once && xs.lost) {
        fprintf(stderr, "dynmem-xen: xenstore connection lost\n");
        xdoms_fini(&ds);
        xsio_close(&xs);
        xen_config_free(&cfg);
        return 1;
    }
    if (stop_requested)
        printf("dynmem-xen: signal: exiting, targets left as they are\n");
    xdoms_fini(&ds);
    xsio_close(&xs);
    xen_config_free(&cfg);
    return 0;
}
