/* dynmem-kvm: Dynamic Memory for QEMU/KVM guests. Reads virtio-balloon
 * guest statistics over QMP, lets libdynmem's balancer decide, and moves
 * memory with the balloon (down to the minimum, back up to boot size) and
 * virtio-mem (beyond boot size). Links libdynmem through its public API only.
 * See docs/dynmem-kvm.1. */
#include <dynmem/dynmem.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exutil.h"
#include "kvmconf.h"
#include "kvmloop.h"
#include "metrics.h"

static void usage(FILE *to)
{
    fputs(
"usage: dynmem-kvm [OPTIONS] --vm SPEC [--vm SPEC...] | --config FILE\n"
"Dynamic Memory for QEMU guests: virtio-balloon statistics in, balloon and\n"
"virtio-mem sizes out, decided by libdynmem's balancer.\n"
"\n"
"VM SPEC (comma-separated key=value; a config file holds one per line):\n"
"  qmp=PATH        QMP unix socket of the VM (required)\n"
"  startup=SIZE    boot memory, QEMU's -m (required)\n"
"  minimum=SIZE    never balloon below this (default: startup)\n"
"  maximum=SIZE    ceiling; above startup needs vmem= (default: startup)\n"
"  buffer=PERCENT  memory above demand, 5..2000 (default 20)\n"
"  weight=N        priority under scarcity, 0..10000 (default 5000)\n"
"  vmem=ID         virtio-mem device id for growth past boot memory\n"
"  balloon=PATH    balloon QOM path (default /machine/peripheral/balloon0)\n"
"  name=NAME       name in the log and the metrics (default vmN)\n"
"  pidfile=PATH    QEMU's -pidfile: tells its exit from a lost connection\n"
"                  (default: the pid at the socket's other end)\n"
"  pid=PID         QEMU's pid, given outright\n"
"SIZE takes K, M, G or T (powers of 1024); a bare number means MiB. Every\n"
"setting is checked first; one that cannot be honoured exits with status 2.\n"
"\n"
"OPTIONS:\n"
"  --host-memory SIZE   memory the VMs may share (default: MemTotal)\n"
"  --reserve SIZE       kept for the host (default: the library's, 899 MiB+)\n"
"  --policy P           dynmem (default), hyperv or static\n"
"  --stats-interval S   guest statistics period, seconds (default 1)\n"
"  --tick MS            decision period, ms (default 1000)\n"
"  --calm MS            surplus lasting this long is reclaimed (default 60000)\n"
"  --settle MS          an action without progress this long is over (default 10000)\n"
"  --once               connect, read, decide and act once, print status, exit\n"
"  --metrics-file PATH  write the host and VM counters there (Prometheus text,\n"
"                       replaced atomically; for node_exporter's textfile\n"
"                       collector) after each decision, at most once a second\n"
"  --status             print the counters a running dynmem-kvm writes to\n"
"                       --metrics-file PATH as a table, and exit\n"
"  --dry-run            decide and log, never change a guest\n"
"  -v, --verbose        also log every guest statistics sample\n"
"\n"
"QEMU command line (a 4 GiB guest that may grow to 12 GiB; for balloon only,\n"
"drop maxmem/slots, the -object and virtio-mem lines and vmem=):\n"
"  qemu-system-x86_64 -machine q35,accel=kvm -cpu host -smp 4 \\\n"
"    -m 4G,maxmem=12G,slots=2 \\\n"
"    -object memory-backend-ram,id=vmem0mem,size=8G \\\n"
"    -device virtio-mem-pci,id=vmem0,memdev=vmem0mem,block-size=2M \\\n"
"    -device virtio-balloon-pci,id=balloon0 \\\n"
"    -qmp unix:/run/dynmem/web.qmp,server=on,wait=off \\\n"
"    -drive file=web.qcow2,if=virtio -nic user,model=virtio-net-pci\n"
"  dynmem-kvm --reserve 2G \\\n"
"    --vm name=web,qmp=/run/dynmem/web.qmp,startup=4G,minimum=1G,maximum=12G,vmem=vmem0\n"
"The guest needs virtio_balloon (and virtio_mem, with hot-plugged memory\n"
"onlined movable: memhp_default_state=online_movable) loaded. A VM's memory\n"
"stays booked until its QEMU process has exited: a lost QMP connection is\n"
"retried with backoff and the VM re-adopted at the size QMP reports. SIGTERM\n"
"leaves every guest as it is.\n",
        to);
}

static int parse_args(int argc, char **argv, struct kvm_options *o)
{
    char err[512];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned u;
        uint64_t sz;
        int bad = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--once")) {
            o->once = 1;
        } else if (!strcmp(a, "--dry-run")) {
            o->dry_run = 1;
        } else if (!strcmp(a, "--status")) {
            o->status = 1;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose = 1;
        } else if (!val) {
            fprintf(stderr, "dynmem-kvm: %s: unknown option or missing value\n", a);
            return -1;
        } else {
            i++;
            if (!strcmp(a, "--vm")) {
                if (kvm_add_vm(o, val, err, sizeof err)) {
                    fprintf(stderr, "dynmem-kvm: --vm %s: %s\n", val, err);
                    return -1;
                }
            } else if (!strcmp(a, "--config")) {
                if (kvm_read_config(o, val, err, sizeof err)) {
                    fprintf(stderr, "dynmem-kvm: %s\n", err);
                    return -1;
                }
            } else if (!strcmp(a, "--metrics-file")) {
                o->metrics_file = val;
            } else if (!strcmp(a, "--host-memory")) {
                bad = ex_parse_size(val, &o->host_total);
            } else if (!strcmp(a, "--reserve")) {
                bad = ex_parse_size(val, &sz) || sz > INT64_MAX;
                o->reserve = (int64_t)sz;
            } else if (!strcmp(a, "--policy")) {
                bad = (o->policy = ex_parse_policy(val)) < 0;
            } else if (!strcmp(a, "--stats-interval")) {
                bad = ex_parse_ms(val, &o->stats_interval_s) || o->stats_interval_s > 3600;
            } else if (!strcmp(a, "--tick")) {
                bad = ex_parse_ms(val, &o->tick_ms);
            } else if (!strcmp(a, "--calm")) {
                bad = ex_parse_ms(val, &u);
                o->calm_ms = u;
            } else if (!strcmp(a, "--settle")) {
                bad = ex_parse_ms(val, &o->settle_ms);
            } else {
                fprintf(stderr, "dynmem-kvm: unknown option %s\n", a);
                return -1;
            }
            if (bad) {
                fprintf(stderr, "dynmem-kvm: bad value for %s: %s\n", a, val);
                return -1;
            }
        }
    }
    if (o->status) {
        if (o->metrics_file)
            return 0;
        fprintf(stderr, "dynmem-kvm: --status needs --metrics-file PATH (the daemon's)\n");
        return -1;
    }
    if (o->nvm == 0) {
        fprintf(stderr, "dynmem-kvm: no VM given (--vm or --config)\n");
        return -1;
    }
    if (kvm_check_options(o, err, sizeof err)) {
        fprintf(stderr, "dynmem-kvm: %s\n", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct kvm_options o = {.reserve = -1, .tick_ms = 1000, .stats_interval_s = 1,
                                   .calm_ms = -1, .settle_ms = 10000,
                                   .policy = DYNMEM_POLICY_DYNMEM};
    if (parse_args(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    if (o.status)
        return metrics_status(o.metrics_file, stdout, stderr);
    return kvm_run(&o, ex_stop_on_signals());
}
