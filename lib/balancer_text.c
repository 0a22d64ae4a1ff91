/* Names and one-line descriptions of the balancer's decisions. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include <dynmem/balancer.h>

const char *dynmem_action_kind_name(uint32_t kind)
{
    switch (kind) {
    case DYNMEM_ACTION_UNBALLOON: return "unballoon";
    case DYNMEM_ACTION_HOT_ADD: return "hot-add";
    case DYNMEM_ACTION_BALLOON: return "balloon";
    case DYNMEM_ACTION_HOT_REMOVE: return "hot-remove";
    case DYNMEM_ACTION_PAGE_IN: return "page-in";
    }
    return "unknown";
}

const char *dynmem_reason_name(uint32_t reason)
{
    switch (reason) {
    case DYNMEM_REASON_GROW: return "grow";
    case DYNMEM_REASON_GROW_PARTIAL: return "grow-partial";
    case DYNMEM_REASON_SCARCITY: return "scarcity";
    case DYNMEM_REASON_LAZY_RECLAIM: return "lazy-reclaim";
    case DYNMEM_REASON_RESIZE: return "resize";
    case DYNMEM_REASON_SMART_PAGING_DRAIN: return "smart-paging-drain";
    case DYNMEM_REASON_SMART_PAGING_BACK: return "smart-paging-back";
    case DYNMEM_REASON_POLICY: return "policy";
    case DYNMEM_REASON_SCARCITY_NEXT: return "scarcity-next";
    }
    return "unknown";
}

const char *dynmem_policy_name(uint32_t policy)
{
    switch (policy) {
    case DYNMEM_POLICY_DYNMEM: return "dynmem";
    case DYNMEM_POLICY_HYPERV: return "hyperv";
    case DYNMEM_POLICY_STATIC: return "static";
    case DYNMEM_POLICY_SQUEEZED: return "squeezed";
    case DYNMEM_POLICY_MOM: return "mom";
    case DYNMEM_POLICY_ESX: return "esx";
    case DYNMEM_POLICY_PROXMOX: return "proxmox";
    }
    return "unknown";
}

/* The rule behind each reason, in words, for logs. Under a comparison
 * policy growth follows that policy's target, not demand + buffer. */
static const char *reason_rule(uint32_t reason, uint32_t policy)
{
    bool peer = policy >= DYNMEM_POLICY_SQUEEZED && policy <= DYNMEM_POLICY_PROXMOX;
    if (peer && reason == DYNMEM_REASON_GROW)
        return "the policy's target above what it holds";
    if (peer && reason == DYNMEM_REASON_GROW_PARTIAL)
        return "the policy's target above what it holds, limited by free memory or step cap";
    switch (reason) {
    case DYNMEM_REASON_GROW: return "demand + buffer above what it holds";
    case DYNMEM_REASON_GROW_PARTIAL: return "demand + buffer above what it holds, limited by free memory or step cap";
    case DYNMEM_REASON_SCARCITY: return "memory needed elsewhere; weight sets its share";
    case DYNMEM_REASON_LAZY_RECLAIM: return "surplus above demand + buffer for the calm period";
    case DYNMEM_REASON_RESIZE: return "runtime resize of a static VM";
    case DYNMEM_REASON_SMART_PAGING_DRAIN: return "smart-paged memory drained by ballooning";
    case DYNMEM_REASON_SMART_PAGING_BACK: return "smart-paged memory backed from free memory";
    case DYNMEM_REASON_POLICY: return "the policy's own rule";
    case DYNMEM_REASON_SCARCITY_NEXT:
        return "memory needed elsewhere; a VM weights ask first gave less than asked and is held back";
    }
    return "unknown rule";
}

#define MIB(x) ((x) >> 20)

int dynmem_action_describe(const struct dynmem_action *a, char *buf, size_t len)
{
    if (!a || (!buf && len))
        return DYNMEM_ERR_INVALID_ARGUMENT;
    int n = snprintf(buf, len,
                     "vm %" PRIu64 " %s %" PRIu64 " MiB -> %" PRIu64 " MiB [%s/%s: %s; demand %" PRIu64
                     " MiB, held %" PRIu64 " MiB, entitled %" PRIu64 " MiB, host free %" PRIu64
                     " MiB, weight %" PRIu32 ", pressure %" PRIu32 "]",
                     a->vm_id, dynmem_action_kind_name(a->kind), MIB(a->bytes), MIB(a->target_bytes),
                     dynmem_policy_name(a->policy), dynmem_reason_name(a->reason),
                     reason_rule(a->reason, a->policy), MIB(a->demand_bytes), MIB(a->assigned_bytes),
                     MIB(a->entitled_bytes), MIB(a->host_free_bytes), a->weight, a->pressure);
    return n < 0 ? DYNMEM_ERR_INVALID_ARGUMENT : n;
}
