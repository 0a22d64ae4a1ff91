/* The functions that name a value (docs/errors.md): the codec's message
 * types and the sessions' event kinds are named as their enumerators are
 * spelled in the installed headers, read here as text so that the names
 * cannot drift from the enums again; and every naming function answers a
 * value it does not know with "unknown", never NULL. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <dynmem/dynmem.h>

#define MAX_ENUMERATORS 64

struct enumerator {
    char name[96];
    long value;
};

/* Reads the enumerators "PREFIXNAME = value" of `enum <tag> {` from a
 * public header (DYNMEM_HEADERS, as null_args uses). */
static size_t read_enum(const char *header, const char *tag, const char *prefix,
                        struct enumerator *out)
{
    const char *dir = getenv("DYNMEM_HEADERS");
    cr_assert_not_null(dir, "DYNMEM_HEADERS is not set");
    char path[512], line[512], open_line[128];
    snprintf(path, sizeof path, "%s/%s", dir, header);
    snprintf(open_line, sizeof open_line, "enum %s {", tag);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    bool inside = false;
    size_t n = 0;
    size_t plen = strlen(prefix);
    while (fgets(line, sizeof line, f)) {
        if (!inside) {
            inside = strncmp(line, open_line, strlen(open_line)) == 0;
            continue;
        }
        if (line[0] == '}')
            break;
        const char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (strncmp(p, prefix, plen) != 0)
            continue;
        char name[96];
        long value;
        if (sscanf(p, "%95[A-Z0-9_] = %li", name, &value) != 2)
            continue;
        cr_assert_lt(n, MAX_ENUMERATORS);
        snprintf(out[n].name, sizeof out[n].name, "%s", name + plen);
        out[n].value = value;
        n++;
    }
    fclose(f);
    cr_assert_gt(n, 0, "no enumerators of enum %s found in %s", tag, path);
    return n;
}

Test(names, proto_types_as_the_enum_spells_them)
{
    struct enumerator e[MAX_ENUMERATORS];
    size_t n = read_enum("proto.h", "dynmem_proto_type", "DYNMEM_PROTO_", e);
    cr_assert_eq(n, 15, "enum dynmem_proto_type has 15 types (0..14)");
    for (size_t i = 0; i < n; i++)
        cr_expect_str_eq(dynmem_proto_type_name((unsigned)e[i].value), e[i].name,
                         "type %ld is named \"%s\", its enumerator DYNMEM_PROTO_%s",
                         e[i].value, dynmem_proto_type_name((unsigned)e[i].value), e[i].name);
}

Test(names, event_kinds_as_the_enum_spells_them)
{
    struct enumerator e[MAX_ENUMERATORS];
    size_t n = read_enum("session.h", "dynmem_session_event_kind", "DYNMEM_SESSION_EVENT_", e);
    for (size_t i = 0; i < n; i++)
        cr_expect_str_eq(dynmem_session_event_kind_name((uint32_t)e[i].value), e[i].name,
                         "event kind %ld", e[i].value);
}

Test(names, unknown_values_are_named_unknown)
{
    const unsigned unknown_u[] = {15, 16, 255, 0xffff, 0x7fffffff, 0xffffffffu};
    for (size_t i = 0; i < sizeof unknown_u / sizeof unknown_u[0]; i++) {
        unsigned v = unknown_u[i];
        cr_assert_str_eq(dynmem_proto_type_name(v), "unknown", "type %u", v);
        cr_assert_str_eq(dynmem_session_event_kind_name(v), "unknown", "event kind %u", v);
        cr_assert_str_eq(dynmem_action_kind_name(v), "unknown", "action kind %u", v);
        cr_assert_str_eq(dynmem_reason_name(v), "unknown", "reason %u", v);
        cr_assert_str_eq(dynmem_policy_name(v), "unknown", "policy %u", v);
    }
    cr_assert_str_eq(dynmem_session_event_kind_name(0), "unknown");
    cr_assert_str_eq(dynmem_action_kind_name(0), "unknown");
    cr_assert_str_eq(dynmem_reason_name(0), "unknown");
    const int unknown_codes[] = {1, -13, -99, -112, -203, -305, -414, -509, -9999, INT32_MIN};
    for (size_t i = 0; i < sizeof unknown_codes / sizeof unknown_codes[0]; i++)
        cr_assert_str_eq(dynmem_error_name(unknown_codes[i]), "unknown", "code %d",
                         unknown_codes[i]);
}
