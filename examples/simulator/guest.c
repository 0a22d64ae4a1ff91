/* Guest kinds on the guest session engine (see guest.h). */
#include "guest.h"

#include <string.h>

static const char *const kind_names[KIND_COUNT] = {"linux", "windows", "hot-remove", "no-driver",
                                                   "slow", "stuck", "lying"};

const char *sim_kind_name(enum sim_kind k)
{
    return (unsigned)k < KIND_COUNT ? kind_names[k] : "unknown";
}

int sim_kind_parse(const char *s, enum sim_kind *out)
{
    for (int k = 0; k < KIND_COUNT; k++)
        if (!strcmp(s, kind_names[k])) {
            *out = (enum sim_kind)k;
            return 0;
        }
    return -1;
}

/* A lying guest in odd minutes: every balloon range it sends lies outside
 * its memory (the host refuses each one and the books stay exact). In even
 * minutes the hook is taken off and it balloons honestly
 * (sim_guest_update()). */
static int lying_balloon(void *ud, uint64_t now_ms, uint64_t wanted,
                         struct dynmem_proto_range *out)
{
    struct sim_liar *l = ud;
    l->now_ms = now_ms;
    l->lies++;
    out->start_page = (UINT64_C(1) << 36) + (l->lies % 1024) * 512;
    out->page_count = wanted < 512 ? wanted : 512;
    return 1;
}

/* Claims to have added twice what was offered (the host clamps the claim). */
static int lying_hot_add(void *ud, uint64_t now_ms, uint64_t start, uint64_t count,
                         uint64_t *inout_added, uint32_t *out_result)
{
    struct sim_liar *l = ud;
    (void)start;
    l->now_ms = now_ms;
    l->lies++;
    *inout_added = count * 2;
    *out_result = 1;
    return 0;
}

int sim_guest_setup(dynmem_session_guest *g, const struct sim_vm_spec *spec,
                    struct sim_liar *liar)
{
    int rc = 0;
    unsigned exp = 0;
    /* The scenario's demand is the guest's whole need: no extra floor. */
    if ((rc = dynmem_proto_alignment_exponent(spec->config.hot_add_alignment_bytes, &exp)) ||
        (rc = dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_FLOOR_PAGES, 0)) ||
        (rc = dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_HOT_ADD_ALIGNMENT, exp)))
        return rc;
    switch (spec->kind) {
    case KIND_WINDOWS: /* Windows 8 / Server 2012 speak protocol 1.0 */
        rc = dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_VERSION_FIRST,
                                            DYNMEM_PROTO_VERSION_WIN8);
        break;
    case KIND_HOT_REMOVE:
        rc = dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_CAP_HOT_REMOVE, 1);
        break;
    case KIND_LYING:
        rc = dynmem_session_guest_set_hot_add_fn(g, lying_hot_add, liar);
        break;
    default:
        break;
    }
    return rc;
}

int sim_guest_update(dynmem_session_guest *g, const struct sim_vm_spec *spec,
                     struct sim_liar *liar, uint64_t now_ms, uint64_t demand_bytes)
{
    double b = (double)demand_bytes;
    if (spec->kind == KIND_LYING) {
        b *= spec->lie_factor;
        bool odd = (now_ms / 60000) % 2 == 1;
        if (odd != liar->balloon_hooked) {
            int rc = dynmem_session_guest_set_balloon_fn(g, odd ? lying_balloon : NULL, liar);
            if (rc)
                return rc;
            liar->balloon_hooked = odd;
        }
    }
    return dynmem_session_guest_set_param(g, DYNMEM_SESSION_GUEST_PARAM_COMMITTED_PAGES,
                                          (int64_t)(b / 4096.0));
}
