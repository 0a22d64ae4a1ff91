/* --status: the Prometheus text file a daemon publishes, read back and
 * printed as a table (see metrics.h). Reads what metrics_write_prom()
 * writes: one sample per line, `name{vm="...",key="..."} value`. */
#include "metrics_names.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIB(x) ((unsigned long long)((x) >> 20))

struct sample {
    char name[96];
    char vm[128];
    int nlabels;           /* labels other than vm= */
    char key[2][32];
    char label[2][128];
    const char *value;
};

/* The value of label `key` other than vm=, or "". */
static const char *label_of(const struct sample *s, const char *key)
{
    for (int i = 0; i < s->nlabels; i++)
        if (!strcmp(s->key[i], key))
            return s->label[i];
    return "";
}

/* One "key=\"value\"" pair; returns the text after it or NULL. */
static const char *take_label(const char *p, char *key, size_t klen, char *val, size_t vlen)
{
    size_t k = 0, v = 0;
    while (*p && *p != '=' && k + 1 < klen)
        key[k++] = *p++;
    key[k] = '\0';
    if (p[0] != '=' || p[1] != '"')
        return NULL;
    for (p += 2; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\') {
            c = *++p;
            if (c == 'n')
                c = '\n';
            else if (c != '\\' && c != '"')
                return NULL;
        }
        if (v + 1 < vlen)
            val[v++] = c;
    }
    val[v] = '\0';
    return *p == '"' ? p + 1 : NULL;
}

static int parse_line(char *line, struct sample *s)
{
    *s = (struct sample){0};
    size_t n = strcspn(line, "{ ");
    if (n == 0 || n >= sizeof s->name)
        return -1;
    memcpy(s->name, line, n);
    const char *p = line + n;
    if (*p == '{') {
        p++;
        while (*p != '}') {
            char key[32], val[128];
            if (!(p = take_label(p, key, sizeof key, val, sizeof val)))
                return -1;
            if (!strcmp(key, "vm")) {
                snprintf(s->vm, sizeof s->vm, "%s", val);
            } else if (s->nlabels < 2) {
                snprintf(s->key[s->nlabels], sizeof s->key[0], "%s", key);
                snprintf(s->label[s->nlabels++], sizeof s->label[0], "%s", val);
            }
            if (*p == ',')
                p++;
            else if (*p != '}')
                return -1;
        }
        p++;
    }
    if (*p != ' ')
        return -1;
    s->value = p + 1;
    return 0;
}

static struct metrics_vm *vm_named(struct metrics *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->vm[i].name, name))
            return &m->vm[i];
    if (metrics_add_vm(m, name, "", NULL, 0))
        return NULL;
    return &m->vm[m->n - 1];
}

static int apply_vm(struct metrics *m, const struct sample *s, uint64_t v)
{
    struct metrics_vm *e = vm_named(m, s->vm);
    if (!e)
        return -1;
    if (!strcmp(s->name, METRICS_VM_STATE)) {
        snprintf(e->state, sizeof e->state, "%s", label_of(s, "state"));
        return 0;
    }
    if (!strcmp(s->name, METRICS_VM_STATUS)) {
        e->booked = true;
        if (v == 1)
            snprintf(e->status, sizeof e->status, "%s", label_of(s, "status"));
        return 0;
    }
    for (int f = 0; f < METRICS_VM_FIELDS; f++)
        if (!strcmp(s->name, metrics_vm_names[f].name)) {
            e->v[f] = v;
            e->booked = true;
        }
    return 0;
}

static void apply_host(struct metrics *m, const struct sample *s, uint64_t v)
{
    if (!strcmp(s->name, METRICS_UPDATED)) {
        m->updated_ms = (int64_t)(strtod(s->value, NULL) * 1000.0 + 0.5);
    } else if (!strcmp(s->name, METRICS_INFO)) {
        snprintf(m->daemon, sizeof m->daemon, "%s", label_of(s, "daemon"));
        snprintf(m->library, sizeof m->library, "%s", label_of(s, "libdynmem"));
    }
    for (int f = 0; f < METRICS_HOST_FIELDS; f++)
        if (!strcmp(s->name, metrics_host_names[f].name))
            m->host[f] = v;
}

int metrics_read_prom(struct metrics *m, FILE *in, char *err, size_t errlen)
{
    char line[1024];
    int lineno = 0;
    bool ours = false;
    m->n = 0;
    while (fgets(line, sizeof line, in)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        struct sample s;
        if (parse_line(line, &s)) {
            snprintf(err, errlen, "line %d: not a sample: %.80s", lineno, line);
            return -1;
        }
        ours |= !strcmp(s.name, METRICS_INFO);
        uint64_t v = strtoull(s.value, NULL, 10);
        if (s.vm[0] ? apply_vm(m, &s, v) : (apply_host(m, &s, v), 0)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    if (!ours) {
        snprintf(err, errlen, "no %s line: not written by a libdynmem daemon", METRICS_INFO);
        return -1;
    }
    return 0;
}

static int name_width(const struct metrics *m)
{
    int w = 2;
    for (size_t i = 0; i < m->n; i++) {
        int l = (int)strlen(m->vm[i].name);
        w = l > w ? l : w;
    }
    return w > 40 ? 40 : w;
}

void metrics_print_table(const struct metrics *m, int64_t now_ms, FILE *out)
{
    const uint64_t *h = m->host;
    time_t t = (time_t)(m->updated_ms / 1000);
    struct tm tm;
    char stamp[32];
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(out, "%s (libdynmem %s), figures of %s, %.1f s old\n", m->daemon, m->library, stamp,
            (double)(now_ms - m->updated_ms) / 1000.0);
    fprintf(out, "host: memory %llu MiB, reserve %llu MiB, assigned %llu MiB, in flight %llu MiB, "
            "available %llu MiB, average pressure %" PRIu64 " %%, %" PRIu64 " VM(s) running, %"
            PRIu64 " stuck\n", MIB(h[METRICS_HOST_TOTAL]), MIB(h[METRICS_HOST_RESERVE]),
            MIB(h[METRICS_HOST_ASSIGNED]), MIB(h[METRICS_HOST_IN_FLIGHT]),
            MIB(h[METRICS_HOST_AVAILABLE]), h[METRICS_HOST_PRESSURE], h[METRICS_HOST_RUNNING],
            h[METRICS_HOST_STUCK]);
    int w = name_width(m);
    fprintf(out, "%-*s %-12s %-8s %9s %9s %9s %9s %5s %5s %9s %9s %9s\n", w, "VM", "STATE",
            "STATUS", "ASSIGNED", "IN-FLIGHT", "DEMAND", "TARGET", "PRESS", "AVG", "BALLOON",
            "ADDED", "VISIBLE");
    for (size_t i = 0; i < m->n; i++) {
        const struct metrics_vm *e = &m->vm[i];
        fprintf(out, "%-*.*s %-12s ", w, w, e->name, e->state);
        if (!e->booked) {
            fputs("-\n", out);
            continue;
        }
        const uint64_t *v = e->v;
        fprintf(out, "%-8s %5llu MiB %5llu MiB %5llu MiB %5llu MiB %4" PRIu64 "%% %4" PRIu64
                "%% %5llu MiB %5llu MiB %5llu MiB%s%s\n", e->status, MIB(v[METRICS_VM_ASSIGNED]),
                MIB(v[METRICS_VM_IN_FLIGHT]), MIB(v[METRICS_VM_DEMAND]), MIB(v[METRICS_VM_TARGET]),
                v[METRICS_VM_PRESSURE], v[METRICS_VM_PRESSURE_AVERAGE], MIB(v[METRICS_VM_BALLOON]),
                MIB(v[METRICS_VM_ADDED]), MIB(v[METRICS_VM_VISIBLE]),
                v[METRICS_VM_STUCK] ? " stuck" : "", v[METRICS_VM_STALE] ? " stale" : "");
    }
}

int metrics_status(const char *path, FILE *out, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "%s: %s (is the daemon running with this metrics file?)\n", path,
                strerror(errno));
        return 1;
    }
    struct metrics m;
    metrics_init(&m, "?");
    char why[256];
    int rc = metrics_read_prom(&m, f, why, sizeof why);
    fclose(f);
    if (rc)
        fprintf(err, "%s: %s\n", path, why);
    else
        metrics_print_table(&m, metrics_wall_ms(), out);
    metrics_free(&m);
    return rc ? 1 : 0;
}
