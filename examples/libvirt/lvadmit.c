/* dynmem-libvirt admit DOMAIN (see lvadmit.h). The answer is the library's
 * admission rule (B2) on what libvirt reports now: a balancer is set up with
 * the host's memory and reserve, every running domain booked at what it
 * holds, and the domain started in it at its startup memory
 * (<currentMemory> of its persistent definition). */
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
    dynmem_balancer *b;
    uint64_t host, held, overflow;
    int running;
};

/* Book one running domain as a static VM at what it holds. */
static int book_running(struct admit *A, virDomainPtr dom)
{
    struct lv_reading r;
    char err[256];
    if (lv_read(dom, &r, err, sizeof err)) {
        fprintf(stderr, "dynmem-libvirt: %s: %s\n", virDomainGetName(dom), err);
        return -1;
    }
    uint64_t size = (lv_held(&r) + UNIT - 1) & ~(UNIT - 1), id, missing = 0;
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.flags = 0;
    c.startup_bytes = c.minimum_bytes = c.maximum_bytes = size;
    int e = dynmem_balancer_vm_add(A->b, &c, &id);
    if (!e && dynmem_balancer_vm_start(A->b, id, 0, &missing) == DYNMEM_ERR_ADMISSION)
        A->overflow += missing; /* the host is already short by this much */
    A->held += size;
    A->running++;
    return e ? -1 : 0;
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

static int setup(struct admit *A)
{
    virNodeInfo info;
    A->host = A->o->host_total;
    if (!A->host && virNodeGetInfo(A->c, &info) == 0)
        A->host = (uint64_t)info.memory << 10;
    A->host &= ~(UNIT - 1);
    int e = dynmem_balancer_new(&A->b, NULL);
    if (!e)
        e = dynmem_balancer_set_param(A->b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)A->host);
    if (!e && A->o->reserve >= 0)
        e = dynmem_balancer_set_param(A->b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, A->o->reserve);
    if (e)
        fprintf(stderr, "dynmem-libvirt: host memory %llu MiB: %s\n", MIB(A->host), dynmem_strerror(e));
    return e ? -1 : 0;
}

static int answer(struct admit *A, virDomainPtr dom)
{
    const char *name = A->o->domain;
    struct dynmem_vm_config c;
    if (candidate(dom, name, &c))
        return 2;
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(A->c, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    int rc = n < 0 ? -1 : 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0)
            rc = book_running(A, doms[i]);
        virDomainFree(doms[i]);
    }
    free(doms);
    if (rc) {
        if (n < 0)
            fprintf(stderr, "dynmem-libvirt: cannot list domains: %s\n", lv_last_error());
        return 2;
    }
    int64_t reserve = 0;
    dynmem_balancer_get_param(A->b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, &reserve);
    uint64_t id, missing = 0;
    int e = dynmem_balancer_vm_add(A->b, &c, &id);
    if (!e)
        e = dynmem_balancer_vm_start(A->b, id, 0, &missing);
    if (e && e != DYNMEM_ERR_ADMISSION) {
        fprintf(stderr, "dynmem-libvirt: %s: %s\n", name, dynmem_strerror(e));
        return 2;
    }
    missing += A->overflow;
    uint64_t room = A->host > (uint64_t)reserve + A->held ? A->host - (uint64_t)reserve - A->held : 0;
    printf("%s: %s: needs %llu MiB, %llu MiB free (host %llu MiB, reserve %llu MiB, "
           "%d running domain(s) hold %llu MiB)", name, missing ? "cannot start now" : "can start",
           MIB(c.startup_bytes), MIB(room), MIB(A->host), MIB((uint64_t)reserve), A->running,
           MIB(A->held));
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
    dynmem_balancer_free(A.b);
    virConnectClose(A.c);
    return rc;
}
