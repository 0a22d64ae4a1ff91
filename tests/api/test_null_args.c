/* One rule for bad arguments (docs/errors.md): every exported function
 * given a NULL handle or a NULL required pointer returns
 * DYNMEM_ERR_INVALID_ARGUMENT before it looks at anything else, so the
 * answer never depends on the state of the handle or of the other
 * arguments; a function with another NULL contract (a no-op, a NULL or 0
 * result) documents and keeps it.
 *
 * The table (null_args_codec.c, null_args_engines.c) has one entry per
 * exported function. It is held against the version script ($DYNMEM_MAP)
 * and the public declarations ($DYNMEM_HEADERS): a symbol exported without
 * an entry, an entry for a symbol not exported, a pointer parameter left
 * untested and not documented optional, or a "takes no pointer" marker on
 * a function that takes one all fail, so a function added later cannot
 * skip the rule. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "null_args.h"

#define MAX_NAMES 256
#define MAX_PARAMS 8
#define NAME_LEN 64

struct decl {
    char name[NAME_LEN];
    int nparams;
    char param[MAX_PARAMS][NAME_LEN];
    bool pointer[MAX_PARAMS];
};

/* ---- reading the version script and the headers -------------------------- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (len + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 65536;
            text = realloc(text, cap);
            cr_assert_not_null(text);
        }
        n = fread(text + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    fclose(f);
    text[len] = '\0';
    return text;
}

/* Blanks out comments and preprocessor lines (with their continuations),
 * keeping everything else where it was. */
static void strip_comments(char *s, bool preprocessor)
{
    bool line_start = true;
    char *p = s;
    while (*p) {
        if (p[0] == '/' && p[1] == '*') {
            char *end = strstr(p + 2, "*/");
            char *stop = end ? end + 2 : p + strlen(p);
            memset(p, ' ', (size_t)(stop - p));
            p = stop;
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                *p++ = ' ';
        } else if (preprocessor && line_start && *p == '#') {
            bool continued = false;
            for (; *p && (*p != '\n' || continued); p++) {
                continued = *p == '\\' || (continued && *p != '\n' && isspace((unsigned char)*p));
                if (*p != '\n')
                    *p = ' ';
            }
        } else {
            if (*p == '\n')
                line_start = true;
            else if (!isspace((unsigned char)*p))
                line_start = false;
            p++;
        }
    }
}

static const char *env_path(const char *var)
{
    const char *v = getenv(var);
    cr_assert(v && *v, "%s is not set (tests/meson.build passes it)", var);
    return v;
}

/* Names in the version script: every dynmem_ identifier followed by ';'. */
static int map_symbols(char names[][NAME_LEN])
{
    char *text = slurp(env_path("DYNMEM_MAP"));
    strip_comments(text, false);
    int n = 0;
    for (char *p = text; (p = strstr(p, "dynmem_"));) {
        size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
        char *q = p + len;
        while (isspace((unsigned char)*q))
            q++;
        if (*q == ';' && (p == text || !isalnum((unsigned char)p[-1]))) {
            cr_assert_lt(n, MAX_NAMES);
            cr_assert_lt(len, NAME_LEN);
            memcpy(names[n], p, len);
            names[n++][len] = '\0';
        }
        p += len;
    }
    free(text);
    cr_assert_gt(n, 0, "no symbols read from the version script");
    return n;
}

/* The last identifier of a parameter declaration is its name. */
static void param_name(const char *from, const char *to, char *out)
{
    const char *end = to;
    while (end > from && !(isalnum((unsigned char)end[-1]) || end[-1] == '_'))
        end--;
    const char *start = end;
    while (start > from && (isalnum((unsigned char)start[-1]) || start[-1] == '_'))
        start--;
    size_t len = (size_t)(end - start) < NAME_LEN - 1 ? (size_t)(end - start) : NAME_LEN - 1;
    memcpy(out, start, len);
    out[len] = '\0';
}

/* "DYNMEM_API <type> name(<params>);" -> *d. Returns the end of it. */
static char *parse_decl(char *api, struct decl *d)
{
    char *open = strchr(api, '('), *close = open ? strchr(open, ')') : NULL;
    cr_assert(open && close, "a DYNMEM_API declaration without a parameter list");
    memset(d, 0, sizeof *d);
    param_name(api, open, d->name);
    char *p = open + 1;
    while (p < close) {
        char *comma = memchr(p, ',', (size_t)(close - p));
        char *end = comma ? comma : close;
        char name[NAME_LEN];
        param_name(p, end, name);
        if (strcmp(name, "void") != 0 && name[0]) {
            cr_assert_lt(d->nparams, MAX_PARAMS);
            strcpy(d->param[d->nparams], name);
            d->pointer[d->nparams++] = memchr(p, '*', (size_t)(end - p)) != NULL;
        }
        p = end + 1;
    }
    return close;
}

static int header_decls(struct decl *decls)
{
    const char *dir = env_path("DYNMEM_HEADERS");
    DIR *dp = opendir(dir);
    cr_assert_not_null(dp, "cannot list %s", dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(dp));) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".h") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *text = slurp(path);
        strip_comments(text, true);
        for (char *p = text; (p = strstr(p, "DYNMEM_API"));) {
            cr_assert_lt(n, MAX_NAMES);
            p = parse_decl(p + strlen("DYNMEM_API"), &decls[n++]);
        }
        free(text);
    }
    closedir(dp);
    cr_assert_gt(n, 0, "no DYNMEM_API declarations in %s", dir);
    return n;
}

static const struct decl *find_decl(const struct decl *decls, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(decls[i].name, name) == 0)
            return &decls[i];
    return NULL;
}

/* ---- the table --------------------------------------------------------------- */

static int table(const struct null_entry **out)
{
    const struct null_entry *parts[] = {null_entries_codec, null_entries_engines};
    int n = 0;
    for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++)
        for (const struct null_entry *e = parts[k]; e->name; e++) {
            cr_assert_lt(n, MAX_NAMES);
            out[n++] = e;
        }
    return n;
}

/* Whether `name` is a word of the space-separated list. */
static bool listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += len)
        if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
            return true;
    return false;
}

/* Parameters each entry's thunk made NULL, over every world. */
static char tested[MAX_NAMES][MAX_PARAMS][NAME_LEN];

void null_note(struct world *w, const char *param)
{
    for (int i = 0; i < MAX_PARAMS; i++) {
        if (strcmp(tested[w->entry][i], param) == 0)
            return;
        if (!tested[w->entry][i][0]) {
            snprintf(tested[w->entry][i], NAME_LEN, "%s", param);
            return;
        }
    }
    cr_assert_fail("%s: more NULL parameters than a function has", w->fn);
}

/* An error code's name, for the messages; nothing for other values. */
static const char *code_name(long long v)
{
    return v < 0 && v >= INT32_MIN ? dynmem_error_name((int)v) : "";
}

void null_expect_value(struct world *w, const char *param, long long got, long long want)
{
    null_note(w, param);
    cr_expect_eq(got, want, "%s with %s NULL (%s world): %lld %s, want %lld %s", w->fn, param,
                 world_kind_name(w->kind), got, code_name(got), want, code_name(want));
}

void null_expect_null(struct world *w, const char *param, const void *got)
{
    null_note(w, param);
    cr_expect_null(got, "%s with %s NULL (%s world) returned an object", w->fn, param,
                   world_kind_name(w->kind));
}

/* ---- the tests ------------------------------------------------------------------ */

Test(null_args, every_exported_symbol_has_one_entry)
{
    static char names[MAX_NAMES][NAME_LEN];
    const struct null_entry *entries[MAX_NAMES];
    int nsyms = map_symbols(names), n = table(entries);
    for (int s = 0; s < nsyms; s++) {
        int found = 0;
        for (int i = 0; i < n; i++)
            found += strcmp(entries[i]->name, names[s]) == 0;
        cr_expect_eq(found, 1, "%s is exported but has %d entries in the NULL-argument table",
                     names[s], found);
    }
    for (int i = 0; i < n; i++) {
        bool exported = false;
        for (int s = 0; s < nsyms && !exported; s++)
            exported = strcmp(entries[i]->name, names[s]) == 0;
        cr_expect(exported, "the table names %s, which the version script does not export",
                  entries[i]->name);
    }
}

Test(null_args, entries_agree_with_declarations)
{
    static struct decl decls[MAX_NAMES];
    const struct null_entry *entries[MAX_NAMES];
    int nd = header_decls(decls), n = table(entries);
    for (int i = 0; i < n; i++) {
        const struct null_entry *e = entries[i];
        const struct decl *d = find_decl(decls, nd, e->name);
        cr_assert_not_null(d, "%s has no DYNMEM_API declaration", e->name);
        int pointers = 0;
        for (int k = 0; k < d->nparams; k++)
            pointers += d->pointer[k];
        if (!e->thunk)
            cr_expect_eq(pointers, 0, "%s is marked \"takes no pointer\" but takes %d", e->name,
                         pointers);
        else
            cr_expect_gt(pointers, 0, "%s takes no pointer: mark it so", e->name);
        char list[256];
        snprintf(list, sizeof list, "%s", e->optional);
        for (char *tok = strtok(list, " "); tok; tok = strtok(NULL, " ")) {
            bool ok = false;
            for (int k = 0; k < d->nparams && !ok; k++)
                ok = d->pointer[k] && strcmp(d->param[k], tok) == 0;
            cr_expect(ok, "%s: optional \"%s\" is not one of its pointer parameters", e->name, tok);
        }
    }
}

Test(null_args, refused_first_in_every_state)
{
    static struct decl decls[MAX_NAMES];
    const struct null_entry *entries[MAX_NAMES];
    int nd = header_decls(decls), n = table(entries);
    for (int kind = 0; kind < WORLD_KINDS; kind++) {
        struct world w;
        world_init(&w, (enum world_kind)kind);
        for (int i = 0; i < n; i++) {
            if (!entries[i]->thunk)
                continue;
            w.fn = entries[i]->name;
            w.entry = i;
            entries[i]->thunk(&w);
        }
        world_fini(&w);
    }
    /* Every pointer parameter was made NULL, or its header says it may be. */
    for (int i = 0; i < n; i++) {
        const struct decl *d = find_decl(decls, nd, entries[i]->name);
        if (!entries[i]->thunk || !d)
            continue;
        for (int k = 0; k < d->nparams; k++) {
            bool done = listed(entries[i]->optional, d->param[k]);
            for (int t = 0; t < MAX_PARAMS && !done; t++)
                done = strcmp(tested[i][t], d->param[k]) == 0;
            cr_expect(!d->pointer[k] || done,
                      "%s: pointer parameter %s is neither made NULL nor optional", d->name,
                      d->param[k]);
        }
        for (int t = 0; t < MAX_PARAMS && tested[i][t][0]; t++) {
            bool known = false;
            for (int k = 0; k < d->nparams && !known; k++)
                known = d->pointer[k] && strcmp(d->param[k], tested[i][t]) == 0;
            cr_expect(known, "%s: the thunk names \"%s\", not one of its pointer parameters",
                      d->name, tested[i][t]);
        }
    }
}
