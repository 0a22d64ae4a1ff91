/* dynmem-libvirt admit DOMAIN (see lvadmit.h). The answer is the admission
 * rule (B2) on what libvirt reports now: the domain's startup memory
 * (<currentMemory> of its persistent definition) must be free after the
 * host reserve (the library's default unless --reserve) and what every
 * running domain holds. Its settings are checked as the daemon would. */
#include "lvadmit.h"

#include <dynmem/dynmem.h>
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>

#include "lvconn.h"
#include "lvd.h"
#include "lvdomxml.h"
#include "lvmeta.h"
#include "lvread.h"

#define UNIT DYNMEM_SIZE_UNIT

struct admit {
    const struct lv_options *o;
    virConnectPtr c;
    uint64_t host, held;
    int64_t reserve;
    int running;
};

/* What the running domains hold, each rounded up to 2 MiB as the daemon
 * books it. */
static int count_running(struct admit *A)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(A->c, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE), rc = 0;
    if (n < 0) {
        fprintf(stderr, "dynmem-libvirt: cannot list domains: %s\n", lv_last_error());
        return -1;
    }
    for (int i = 0; i < n; i++) {
        struct lv_reading r;
        char err[256];
        if (rc == 0 && lv_read(doms[i], &r, err, sizeof err)) {
            fprintf(stderr, "dynmem-libvirt: %s: %s\n", virDomainGetName(doms[i]), err);
            rc = -1;
        }
        if (rc == 0) {
            A->held += (lv_held(&r) + UNIT - 1) & ~(UNIT - 1);
            A->running++;
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return rc;
}

/* The domain's configuration as it would start; -1 when refused. */
static int candidate(virDomainPtr dom, const char *name, struct dynmem_vm_config *c)
{
    char err[256];
    struct lv_mem m;
    char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    int rc = xml ? lv_mem_from_xml(xml, &m, err, sizeof err) : -1;
    free(xml);
    if (rc) {
        fprintf(stderr, "dynmem-libvirt: %s: %s\n", name, xml ? err : lv_last_error());
        return -1;
    }
    int absent;
    char *text = lv_read_meta(dom, 0, &absent, err, sizeof err);
    struct lv_settings s;
    if (!text && absent) { /* not managed: a static domain */
        *c = (struct dynmem_vm_config)DYNMEM_VM_CONFIG_INIT;
        c->flags = 0;
        c->startup_bytes = c->minimum_bytes = c->maximum_bytes = m.current;
        rc = dynmem_vm_config_check(c) ? -1 : 0;
        if (rc)
            snprintf(err, sizeof err, "currentMemory: %llu KiB is not a whole number of 2 MiB units",
                     (unsigned long long)(m.current >> 10));
    } else if (!text) {
        rc = -1;
    } else {
        rc = lv_meta_parse(text, &s, err, sizeof err);
        if (!rc)
            rc = lv_meta_config(&s, &m, m.current, c, err, sizeof err);
    }
    free(text);
    if (rc)
        fprintf(stderr, "dynmem-libvirt: %s: metadata %s\n", name, err);
    return rc;
}

/* Host memory and reserve: as given, else what libvirt and the library say. */
static int setup(struct admit *A)
{
    virNodeInfo info;
    uint64_t reported = 0;
    char err[256];
    if (!A->o->host_total && virNodeGetInfo(A->c, &info) == 0)
        reported = (uint64_t)info.memory << 10;
    if (lv_host_memory(A->o, reported, &A->host, err, sizeof err)) {
        fprintf(stderr, "dynmem-libvirt: %s\n", err);
        return -1;
    }
    A->reserve = A->o->reserve;
    dynmem_balancer *b = NULL;
    int e = 0;
    if (A->reserve < 0) {
        e = dynmem_balancer_new(&b, NULL);
        if (!e)
            e = dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)A->host);
        if (!e)
            e = dynmem_balancer_get_param(b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, &A->reserve);
        dynmem_balancer_free(b);
    }
    if (e)
        fprintf(stderr, "dynmem-libvirt: host memory %llu MiB: %s\n", MIB(A->host), dynmem_strerror(e));
    return e ? -1 : 0;
}

static int answer(struct admit *A, virDomainPtr dom)
{
    const char *name = A->o->domain;
    struct dynmem_vm_config c;
    if (candidate(dom, name, &c) || count_running(A))
        return 2;
    /* free after the reserve and the running domains; negative when the
     * host is already short */
    int64_t free_bytes = (int64_t)A->host - A->reserve - (int64_t)A->held;
    uint64_t missing = (int64_t)c.startup_bytes > free_bytes
                           ? (uint64_t)((int64_t)c.startup_bytes - free_bytes) : 0;
    printf("%s: %s: needs %llu MiB, %llu MiB free (host %llu MiB, reserve %llu MiB, "
           "%d running domain(s) hold %llu MiB)", name, missing ? "cannot start now" : "can start",
           MIB(c.startup_bytes), MIB(free_bytes > 0 ? (uint64_t)free_bytes : 0), MIB(A->host),
           MIB((uint64_t)A->reserve), A->running, MIB(A->held));
    if (missing)
        printf(": %llu MiB missing", MIB(missing));
    printf("\n");
    return missing ? 1 : 0;
}

int lv_admit(const struct lv_options *o)
{
    struct admit A = {.o = o};
    A.c = virConnectOpen(o->uri);
    if (!A.c) {
        fprintf(stderr, "dynmem-libvirt: cannot connect to %s: %s\n", o->uri, lv_last_error());
        return 2;
    }
    int rc = 2;
    virDomainPtr dom = virDomainLookupByName(A.c, o->domain);
    if (!dom) {
        fprintf(stderr, "dynmem-libvirt: %s: %s\n", o->domain, lv_last_error());
    } else if (virDomainIsActive(dom) == 1) {
        virDomainInfo info;
        virDomainGetInfo(dom, &info);
        printf("%s: already running, %llu MiB\n", o->domain, (unsigned long long)info.memory >> 10);
        rc = 0;
    } else if (setup(&A) == 0) {
        rc = answer(&A, dom);
    }
    if (dom)
        virDomainFree(dom);
    virConnectClose(A.c);
    return rc;
}
