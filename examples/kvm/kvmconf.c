/* Settings parsing for dynmem-kvm. */
#include "kvmconf.h"

#include "exutil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int copy_str(char *dst, size_t len, const char *src)
{
    if (strlen(src) >= len)
        return -1;
    strcpy(dst, src);
    return 0;
}

static int set_key(struct kvm_vm_spec *vm, const char *key, const char *val)
{
    if (!strcmp(key, "name"))
        return copy_str(vm->name, sizeof vm->name, val);
    if (!strcmp(key, "qmp"))
        return copy_str(vm->qmp, sizeof vm->qmp, val);
    if (!strcmp(key, "balloon"))
        return copy_str(vm->balloon, sizeof vm->balloon, val);
    if (!strcmp(key, "vmem"))
        return copy_str(vm->vmem, sizeof vm->vmem, val);
    if (!strcmp(key, "pidfile"))
        return copy_str(vm->pidfile, sizeof vm->pidfile, val);
    if (!strcmp(key, "pid")) {
        uint32_t pid;
        if (parse_u32(val, &pid) || pid == 0 || pid > 0x3fffffff)
            return -1;
        vm->pid = (long)pid;
        return 0;
    }
    if (!strcmp(key, "startup"))
        return ex_parse_size(val, &vm->startup);
    if (!strcmp(key, "minimum"))
        return ex_parse_size(val, &vm->minimum);
    if (!strcmp(key, "maximum"))
        return ex_parse_size(val, &vm->maximum);
    if (!strcmp(key, "buffer"))
        return parse_u32(val, &vm->buffer);
    if (!strcmp(key, "weight"))
        return parse_u32(val, &vm->weight);
    return -1;
}

int kvm_add_vm(struct kvm_options *o, const char *spec, char *err, size_t errlen)
{
    if (o->nvm == KVM_MAX_VMS) {
        snprintf(err, errlen, "more than %d VMs", KVM_MAX_VMS);
        return -1;
    }
    struct kvm_vm_spec vm = {.buffer = 20, .weight = 5000};
    strcpy(vm.balloon, "/machine/peripheral/balloon0");
    char copy[1024];
    if (copy_str(copy, sizeof copy, spec)) {
        snprintf(err, errlen, "VM spec too long");
        return -1;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            snprintf(err, errlen, "'%s' is not key=value", tok);
            return -1;
        }
        *eq = '\0';
        if (set_key(&vm, tok, eq + 1)) {
            snprintf(err, errlen, "bad %s '%s'", tok, eq + 1);
            return -1;
        }
    }
    if (!vm.qmp[0] || !vm.startup) {
        snprintf(err, errlen, "a VM needs qmp= and startup=");
        return -1;
    }
    if (!vm.minimum)
        vm.minimum = vm.startup;
    if (!vm.maximum)
        vm.maximum = vm.startup;
    if (!vm.name[0])
        snprintf(vm.name, sizeof vm.name, "vm%zu", o->nvm);
    o->vm[o->nvm++] = vm;
    return 0;
}

int kvm_read_config(struct kvm_options *o, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        if (strspn(line, " \t") == strlen(line))
            continue;
        char why[256];
        if (kvm_add_vm(o, line, why, sizeof why)) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

uint64_t kvm_host_memtotal(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[256];
    uint64_t kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %" SCNu64 " kB", &kib) == 1)
            break;
    fclose(f);
    return kib * 1024;
}

uint64_t kvm_host_total(const struct kvm_options *o)
{
    return o->host_total ? o->host_total : kvm_host_memtotal() & ~(DYNMEM_SIZE_UNIT - 1);
}

struct dynmem_vm_config kvm_spec_config(const struct kvm_vm_spec *vm)
{
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.flags = DYNMEM_VM_DYNAMIC | DYNMEM_VM_CAN_BALLOON | (vm->vmem[0] ? DYNMEM_VM_CAN_HOT_ADD : 0);
    c.startup_bytes = vm->startup;
    c.minimum_bytes = vm->minimum;
    c.maximum_bytes = vm->maximum;
    c.buffer_percent = vm->buffer;
    c.weight = vm->weight;
    return c;
}

int kvm_check_options(const struct kvm_options *o, char *err, size_t errlen)
{
    struct dynmem_host_config host = DYNMEM_HOST_CONFIG_INIT;
    host.total_bytes = kvm_host_total(o);
    host.reserve_bytes = o->reserve;
    struct dynmem_vm_config cfg[KVM_MAX_VMS];
    struct dynmem_config_vm set[KVM_MAX_VMS];
    for (size_t i = 0; i < o->nvm; i++) {
        cfg[i] = kvm_spec_config(&o->vm[i]);
        set[i] = (struct dynmem_config_vm)DYNMEM_CONFIG_VM_INIT;
        set[i].name = o->vm[i].name;
        set[i].endpoint_field = "qmp";
        set[i].endpoint = o->vm[i].qmp;
        set[i].config = &cfg[i];
    }
    char why[512];
    size_t at = 0;
    if (dynmem_config_check(&host, set, o->nvm, &at, why, sizeof why)) {
        snprintf(err, errlen, "%s%s", at == o->nvm ? "--host-memory/--reserve: " : "", why);
        return -1;
    }
    for (size_t i = 0; i < o->nvm; i++)
        if (cfg[i].maximum_bytes > cfg[i].startup_bytes && !o->vm[i].vmem[0]) {
            snprintf(err, errlen, "vm '%s': maximum %llu MiB above startup %llu MiB needs vmem= "
                     "(virtio-mem): the balloon cannot give a guest more than it booted with",
                     o->vm[i].name, (unsigned long long)(cfg[i].maximum_bytes >> 20),
                     (unsigned long long)(cfg[i].startup_bytes >> 20));
            return -1;
        }
    return 0;
}
