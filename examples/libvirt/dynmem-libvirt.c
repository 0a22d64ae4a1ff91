/* dynmem-libvirt: Dynamic Memory for libvirt domains. Reads balloon
 * statistics through libvirt, lets libdynmem's balancer decide, and moves
 * memory with libvirt's own calls (balloon down to the minimum and back up to
 * boot memory, virtio-mem beyond). Links libdynmem through its public API
 * only. See docs/libvirt.md and docs/dynmem-libvirt.1. */
#include <libvirt/virterror.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lvadmit.h"
#include "metrics.h"
#include "lvconf.h"
#include "exutil.h"
#include "lvd.h"

/* libvirt's errors are read with virGetLastError() and logged where they
 * matter; its default handler would print each one on stderr as well. */
static void quiet(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e;
}

int main(int argc, char **argv)
{
    static struct lv_options o;
    int rc = lv_parse_args(argc, argv, &o);
    if (rc) {
        if (rc < 0)
            lv_usage(stderr);
        return rc < 0 ? 2 : 0;
    }
    virSetErrorFunc(NULL, quiet);
    if (o.command == LV_CMD_ADMIT)
        return lv_admit(&o);
    if (o.command == LV_CMD_STATUS)
        return metrics_status(o.metrics_file, stdout, stderr);
    return lv_run(&o, ex_stop_on_signals());
}
