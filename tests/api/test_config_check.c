/* The one validator every front end uses (B1, B11): a VM's settings, the
 * host's, and a whole set (names and endpoints unique), each refusal with
 * its error code and a message naming the field and its values. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "balsim.h"
#include "splitmix.h"

/* dynmem_vm_config_explain() must return `code` and say `text`. */
static void says(const struct dynmem_vm_config *c, int code, const char *text)
{
    char msg[256];
    memset(msg, 'x', sizeof msg);
    cr_assert_eq(dynmem_vm_config_explain(c, msg, sizeof msg), code, "%s", msg);
    cr_assert_str_eq(msg, text);
    cr_assert_eq(dynmem_vm_config_check(c), code, "check and explain disagree on %s", text);
}

Test(config_explain, valid_says_nothing)
{
    struct dynmem_vm_config c = balsim_config(GIB(2), MIB(512), GIB(4));
    says(&c, 0, "");
    cr_assert_eq(dynmem_vm_config_explain(&c, NULL, 0), 0);
}

Test(config_explain, each_field_with_its_values)
{
    struct dynmem_vm_config c = balsim_config(0, MIB(512), GIB(4));
    says(&c, DYNMEM_ERR_CONFIG_STARTUP, "startup is 0");
    c = balsim_config(MIB(1023), MIB(512), GIB(4));
    says(&c, DYNMEM_ERR_CONFIG_STARTUP, "startup 1023 MiB is not a whole number of 2 MiB units");
    c = balsim_config(GIB(2) + 4096, MIB(512), GIB(4));
    says(&c, DYNMEM_ERR_CONFIG_STARTUP, "startup 2097156 KiB is not a whole number of 2 MiB units");
    c = balsim_config(UINT64_C(1) << 53, MIB(512), UINT64_C(1) << 53);
    says(&c, DYNMEM_ERR_CONFIG_STARTUP, "startup 8589934592 MiB is above the limit, 4294967296 MiB");
    c = balsim_config(MIB(256), MIB(512), GIB(4));
    says(&c, DYNMEM_ERR_CONFIG_MINIMUM, "minimum 512 MiB above startup 256 MiB");
    c = balsim_config(GIB(1), GIB(2), GIB(1));
    says(&c, DYNMEM_ERR_CONFIG_MINIMUM, "minimum 2048 MiB above startup 1024 MiB and maximum "
         "1024 MiB");
    c = balsim_config(GIB(1), 0, GIB(1));
    says(&c, DYNMEM_ERR_CONFIG_MINIMUM, "minimum is 0");
    c = balsim_config(GIB(1), 1000, GIB(1));
    says(&c, DYNMEM_ERR_CONFIG_MINIMUM, "minimum 1000 bytes is not a whole number of 2 MiB units");
    c = balsim_config(GIB(2), MIB(512), GIB(1));
    says(&c, DYNMEM_ERR_CONFIG_MAXIMUM, "maximum 1024 MiB below startup 2048 MiB");
    c = balsim_config(GIB(2), MIB(512), GIB(4) + MIB(1));
    says(&c, DYNMEM_ERR_CONFIG_MAXIMUM, "maximum 4097 MiB is not a whole number of 2 MiB units");
    c = balsim_config(GIB(2), MIB(512), GIB(4));
    c.buffer_percent = 4;
    says(&c, DYNMEM_ERR_CONFIG_BUFFER, "buffer 4 % outside 5..2000 %");
    c.buffer_percent = 2001;
    says(&c, DYNMEM_ERR_CONFIG_BUFFER, "buffer 2001 % outside 5..2000 %");
    c.buffer_percent = 20;
    c.weight = 10001;
    says(&c, DYNMEM_ERR_CONFIG_WEIGHT, "weight 10001 outside 0..10000");
    c.weight = 0;
    c.hot_add_alignment_bytes = MIB(3);
    says(&c, DYNMEM_ERR_CONFIG_ALIGNMENT,
         "hot-add alignment 3 MiB is not a power of two from 2 MiB to 1024 MiB");
    c.hot_add_alignment_bytes = MIB(2);
    c.calm_period_ms = 86400001;
    says(&c, DYNMEM_ERR_CONFIG_CALM_PERIOD, "calm period 86400001 ms above a day (86400000 ms)");
    c.calm_period_ms = 86400000;
    cr_assert_eq(dynmem_vm_config_check(&c), 0);
    c.flags |= 1u << 20;
    says(&c, DYNMEM_ERR_CONFIG_FLAGS, "flags 0x100007 hold bits this library does not know");
    c = balsim_config(GIB(1), MIB(512), GIB(2));
    c.flags &= ~(uint32_t)DYNMEM_VM_DYNAMIC;
    says(&c, DYNMEM_ERR_CONFIG_FLAGS, "a static VM (dynamic memory off) has minimum = startup = "
         "maximum, not minimum 512 MiB, startup 1024 MiB, maximum 2048 MiB");
    c = balsim_config(GIB(1), MIB(512), GIB(2));
    c.reserved[1] = 1;
    says(&c, DYNMEM_ERR_STRUCT_RESERVED, "configuration: reserved or unknown structure fields "
         "are not zero");
    c = balsim_config(GIB(1), MIB(512), GIB(2));
    c.size = 4;
    says(&c, DYNMEM_ERR_STRUCT_SIZE, "configuration: structure size not supported by this "
         "library version");
    cr_assert_eq(dynmem_vm_config_explain(NULL, NULL, 0), DYNMEM_ERR_INVALID_ARGUMENT);
    cr_assert_eq(dynmem_vm_config_explain(&c, NULL, 8), DYNMEM_ERR_INVALID_ARGUMENT);
}

Test(config_explain, message_cut_to_the_buffer)
{
    struct dynmem_vm_config c = balsim_config(MIB(256), MIB(512), GIB(4));
    char msg[12];
    cr_assert_eq(dynmem_vm_config_explain(&c, msg, sizeof msg), DYNMEM_ERR_CONFIG_MINIMUM);
    cr_assert_str_eq(msg, "minimum 512");
    cr_assert_eq(dynmem_vm_config_explain(&c, msg, 1), DYNMEM_ERR_CONFIG_MINIMUM);
    cr_assert_str_eq(msg, "");
    cr_assert_eq(dynmem_vm_config_explain(&c, NULL, 0), DYNMEM_ERR_CONFIG_MINIMUM);
}

/* Any configuration: the same verdict from both functions; a message exactly
 * when refused. */
Test(config_explain, agrees_with_check)
{
    uint64_t seed = 21;
    static const uint64_t sizes[] = {0, 1000, MIB(1), MIB(2), MIB(256), MIB(511), MIB(512),
                                     GIB(1), GIB(4), UINT64_C(1) << 52, UINT64_C(1) << 53};
    const size_t ns = sizeof sizes / sizeof sizes[0];
    for (int i = 0; i < 20000; i++) {
        struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
        c.startup_bytes = sizes[splitmix_next(&seed) % ns];
        c.minimum_bytes = sizes[splitmix_next(&seed) % ns];
        c.maximum_bytes = sizes[splitmix_next(&seed) % ns];
        c.buffer_percent = (uint32_t)(splitmix_next(&seed) % 2100);
        c.weight = (uint32_t)(splitmix_next(&seed) % 11000);
        c.hot_add_alignment_bytes = sizes[splitmix_next(&seed) % ns];
        c.flags = (uint32_t)(splitmix_next(&seed) % 32);
        char msg[200];
        int rc = dynmem_vm_config_explain(&c, msg, sizeof msg);
        cr_assert_eq(rc, dynmem_vm_config_check(&c));
        cr_assert_eq(rc == 0, msg[0] == '\0', "rc %d, message '%s'", rc, msg);
    }
}

static int host_says(uint64_t total, int64_t reserve, const char *text)
{
    struct dynmem_host_config h = DYNMEM_HOST_CONFIG_INIT;
    h.total_bytes = total;
    h.reserve_bytes = reserve;
    char msg[256] = "?";
    int rc = dynmem_host_config_check(&h, msg, sizeof msg);
    cr_assert_str_eq(msg, text);
    return rc;
}

Test(config_host, total_and_reserve)
{
    cr_assert_eq(host_says(GIB(8), GIB(1), ""), 0);
    cr_assert_eq(host_says(GIB(8), 0, ""), 0);
    cr_assert_eq(host_says(GIB(8), -1, ""), 0);
    cr_assert_eq(host_says(0, -1, "host memory is 0"), DYNMEM_ERR_CONFIG_HOST_MEMORY);
    cr_assert_eq(host_says(MIB(1001), 0, "host memory 1001 MiB is not a whole number of 2 MiB "
                           "units"), DYNMEM_ERR_CONFIG_HOST_MEMORY);
    cr_assert_eq(host_says(GIB(8), GIB(8), "reserve 8192 MiB at or above host memory 8192 MiB"),
                 DYNMEM_ERR_CONFIG_RESERVE);
    cr_assert_eq(host_says(GIB(8), GIB(9), "reserve 9216 MiB at or above host memory 8192 MiB"),
                 DYNMEM_ERR_CONFIG_RESERVE);
    cr_assert_eq(host_says(MIB(512), -1, "reserve 900 MiB (the default for this host) at or above "
                           "host memory 512 MiB"), DYNMEM_ERR_CONFIG_RESERVE);
    cr_assert_eq(host_says(GIB(8), MIB(3), "reserve 3 MiB is not a whole number of 2 MiB units"),
                 DYNMEM_ERR_CONFIG_RESERVE);
    cr_assert_eq(host_says(GIB(8), -2, "reserve -2 bytes is negative (-1 means the default)"),
                 DYNMEM_ERR_CONFIG_RESERVE);
    struct dynmem_host_config h = DYNMEM_HOST_CONFIG_INIT;
    h.total_bytes = GIB(8);
    h.reserved[0] = 1;
    cr_assert_eq(dynmem_host_config_check(&h, NULL, 0), DYNMEM_ERR_STRUCT_RESERVED);
    cr_assert_eq(dynmem_host_config_check(NULL, NULL, 0), DYNMEM_ERR_INVALID_ARGUMENT);
}

/* The host check and the balancer agree on the default reserve: a host the
 * check accepts with the default can start a VM of total - reserve. */
Test(config_host, default_reserve_is_the_balancers)
{
    for (uint64_t total = MIB(902); total <= GIB(64); total += MIB(998)) {
        struct dynmem_host_config h = DYNMEM_HOST_CONFIG_INIT;
        h.total_bytes = total;
        int rc = dynmem_host_config_check(&h, NULL, 0);
        dynmem_balancer *b = NULL;
        cr_assert_eq(dynmem_balancer_new(&b, NULL), 0);
        dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES, (int64_t)total);
        int64_t reserve = 0;
        dynmem_balancer_get_param(b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, &reserve);
        cr_assert_eq(rc == 0, (uint64_t)reserve < total, "total %llu MiB", (unsigned long long)(total >> 20));
        dynmem_balancer_free(b);
    }
}

static struct dynmem_config_vm entry(const char *name, const char *field, const char *endpoint,
                                     const struct dynmem_vm_config *c)
{
    struct dynmem_config_vm e = DYNMEM_CONFIG_VM_INIT;
    e.name = name;
    e.endpoint_field = field;
    e.endpoint = endpoint;
    e.config = c;
    return e;
}

Test(config_set, names_and_endpoints_unique)
{
    struct dynmem_vm_config ok = balsim_config(GIB(1), MIB(512), GIB(2));
    struct dynmem_vm_config bad = balsim_config(MIB(256), MIB(512), GIB(2));
    struct dynmem_host_config h = DYNMEM_HOST_CONFIG_INIT;
    h.total_bytes = GIB(8);
    h.reserve_bytes = 0;
    struct dynmem_config_vm v[3] = {entry("web", "qmp", "/run/web.qmp", &ok),
                                    entry("db", "qmp", "/run/db.qmp", &ok),
                                    entry("batch", "qmp", "/run/batch.qmp", NULL)};
    char msg[256] = "?";
    size_t at = 99;
    cr_assert_eq(dynmem_config_check(&h, v, 3, &at, msg, sizeof msg), 0);
    cr_assert_str_eq(msg, "");
    v[2].name = "web";
    cr_assert_eq(dynmem_config_check(&h, v, 3, &at, msg, sizeof msg), DYNMEM_ERR_CONFIG_DUPLICATE);
    cr_assert_str_eq(msg, "vm 'web': name also used by the VM at qmp /run/web.qmp");
    v[0].endpoint = NULL;
    cr_assert_eq(dynmem_config_check(&h, v, 3, &at, msg, sizeof msg), DYNMEM_ERR_CONFIG_DUPLICATE);
    cr_assert_str_eq(msg, "vm 'web': name also used by VM 1");
    v[0].endpoint = "/run/web.qmp";
    cr_assert_eq(at, 2);
    v[2].name = "batch";
    v[2].endpoint = "/run/db.qmp";
    cr_assert_eq(dynmem_config_check(&h, v, 3, &at, msg, sizeof msg), DYNMEM_ERR_CONFIG_DUPLICATE);
    cr_assert_str_eq(msg, "vm 'batch': qmp /run/db.qmp also used by vm 'db'");
    cr_assert_eq(at, 2);
    v[2].endpoint = "/run/batch.qmp";
    v[1].config = &bad;
    cr_assert_eq(dynmem_config_check(&h, v, 3, &at, msg, sizeof msg), DYNMEM_ERR_CONFIG_MINIMUM);
    cr_assert_str_eq(msg, "vm 'db': minimum 512 MiB above startup 256 MiB");
    cr_assert_eq(at, 1);
    v[1].name = NULL; /* unnamed: by its position */
    cr_assert_eq(dynmem_config_check(&h, v, 3, &at, msg, sizeof msg), DYNMEM_ERR_CONFIG_MINIMUM);
    cr_assert_str_eq(msg, "VM 2: minimum 512 MiB above startup 256 MiB");
    v[1].config = &ok;
    h.reserve_bytes = (int64_t)GIB(8);
    cr_assert_eq(dynmem_config_check(&h, v, 3, &at, msg, sizeof msg), DYNMEM_ERR_CONFIG_RESERVE);
    cr_assert_str_eq(msg, "reserve 8192 MiB at or above host memory 8192 MiB");
    cr_assert_eq(at, 3, "the host's problem: n_vms");
    cr_assert_eq(dynmem_config_check(NULL, v, 3, &at, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(dynmem_config_check(NULL, NULL, 0, NULL, NULL, 0), 0);
    cr_assert_eq(dynmem_config_check(NULL, NULL, 2, NULL, NULL, 0), DYNMEM_ERR_INVALID_ARGUMENT);
    v[0].size = 3;
    cr_assert_eq(dynmem_config_check(NULL, v, 3, &at, msg, sizeof msg), DYNMEM_ERR_STRUCT_SIZE);
    cr_assert_eq(at, 0);
}
