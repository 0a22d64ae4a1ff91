/* The daemons' operator counters (examples/common/metrics.h): the Prometheus
 * text they write, read back for --status, and the file replaced atomically
 * (a reader running beside the writer never sees a part of a file). */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"

#define MIB(x) ((uint64_t)(x) << 20)

/* A balancer with one running VM at 512 MiB that has reported a demand. */
static dynmem_balancer *one_vm(uint64_t *id)
{
    dynmem_balancer *b = NULL;
    cr_assert_eq(dynmem_balancer_new(&b, NULL), 0);
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES,
                                           (int64_t)MIB(4096)), 0);
    cr_assert_eq(dynmem_balancer_set_param(b, DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES,
                                           (int64_t)MIB(512)), 0);
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.startup_bytes = c.maximum_bytes = MIB(512);
    c.minimum_bytes = MIB(256);
    cr_assert_eq(dynmem_balancer_vm_add(b, &c, id), 0);
    cr_assert_eq(dynmem_balancer_vm_start(b, *id, 1000, NULL), 0);
    struct dynmem_pressure_sample s = DYNMEM_PRESSURE_SAMPLE_INIT;
    cr_assert_eq(dynmem_pressure_sample_from_xen_meminfo(&s, 1000, 512 * 1024, 64 * 1024), 0);
    cr_assert_eq(dynmem_balancer_vm_sample(b, *id, &s), 0);
    cr_assert_eq(dynmem_balancer_tick(b, 1000, NULL), 0);
    return b;
}

static char *render(const struct metrics *m)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert(f);
    cr_assert_eq(metrics_write_prom(m, f), 0);
    fclose(f);
    return text;
}

Test(metrics, prometheus_text)
{
    uint64_t id;
    dynmem_balancer *b = one_vm(&id);
    struct metrics m;
    metrics_init(&m, "dynmem-test");
    cr_assert_eq(metrics_begin(&m, b, 1733400000123), 0);
    cr_assert_eq(metrics_add_vm(&m, "web \"1\"", "managed", b, id), 0);
    cr_assert_eq(metrics_add_vm(&m, "db", "waiting", NULL, 0), 0);
    char *t = render(&m);
    cr_assert(strstr(t, "dynmem_daemon_info{daemon=\"dynmem-test\",libdynmem=\""), "%s", t);
    cr_assert(strstr(t, "\ndynmem_last_update_timestamp_seconds 1733400000.123\n"), "%s", t);
    cr_assert(strstr(t, "\ndynmem_host_memory_bytes 4294967296\n"), "%s", t);
    cr_assert(strstr(t, "\ndynmem_host_reserve_bytes 536870912\n"), "%s", t);
    cr_assert(strstr(t, "\ndynmem_host_running_vms 1\n"), "%s", t);
    cr_assert(strstr(t, "# TYPE dynmem_host_added_bytes_total counter\n"), "%s", t);
    /* label values escaped; the demand is 448 MiB, the VM holds 512 MiB */
    cr_assert(strstr(t, "\ndynmem_vm_assigned_bytes{vm=\"web \\\"1\\\"\"} 536870912\n"), "%s", t);
    cr_assert(strstr(t, "\ndynmem_vm_demand_bytes{vm=\"web \\\"1\\\"\"} 469762048\n"), "%s", t);
    cr_assert(strstr(t, "\ndynmem_vm_visible_maximum_bytes{vm=\"web \\\"1\\\"\"} 536870912\n"), "%s", t);
    cr_assert(strstr(t, "\ndynmem_vm_status{vm=\"web \\\"1\\\"\",status=\"low\"} 1\n"), "%s", t);
    cr_assert(strstr(t, "\ndynmem_vm_status{vm=\"web \\\"1\\\"\",status=\"ok\"} 0\n"), "%s", t);
    cr_assert(strstr(t, "\ndynmem_vm_state{vm=\"db\",state=\"waiting\"} 1\n"), "%s", t);
    /* a VM outside the books has a state and nothing else */
    cr_assert_null(strstr(t, "dynmem_vm_assigned_bytes{vm=\"db\"}"), "%s", t);
    cr_assert_null(strstr(t, "dynmem_vm_status{vm=\"db\""), "%s", t);
    free(t);
    metrics_free(&m);
    dynmem_balancer_free(b);
}

Test(metrics, read_back_as_written)
{
    uint64_t id;
    dynmem_balancer *b = one_vm(&id);
    struct metrics m, r;
    metrics_init(&m, "dynmem-test");
    metrics_begin(&m, b, 1733400000123);
    metrics_add_vm(&m, "web, \\ \"x\"\nnext", "disconnected", b, id);
    metrics_add_vm(&m, "db", "refused", NULL, 0);
    char *t = render(&m);
    FILE *f = fmemopen(t, strlen(t), "r");
    metrics_init(&r, "?");
    char err[256] = "";
    cr_assert_eq(metrics_read_prom(&r, f, err, sizeof err), 0, "%s", err);
    fclose(f);
    cr_assert_str_eq(r.daemon, "dynmem-test");
    cr_assert_str_eq(r.library, dynmem_version_string());
    cr_assert_eq(r.updated_ms, 1733400000123);
    cr_assert_arr_eq(r.host, m.host, sizeof m.host);
    cr_assert_eq(r.n, 2);
    cr_assert_str_eq(r.vm[0].name, m.vm[0].name);
    cr_assert_str_eq(r.vm[0].state, "disconnected");
    cr_assert_str_eq(r.vm[0].status, "low");
    cr_assert(r.vm[0].booked);
    cr_assert_arr_eq(r.vm[0].v, m.vm[0].v, sizeof m.vm[0].v);
    cr_assert_str_eq(r.vm[1].state, "refused");
    cr_assert_not(r.vm[1].booked);
    free(t);
    metrics_free(&m);
    metrics_free(&r);
    dynmem_balancer_free(b);
}

Test(metrics, foreign_file_refused)
{
    static char text[] = "node_load1 0.5\n";
    FILE *f = fmemopen(text, strlen(text), "r");
    struct metrics r;
    metrics_init(&r, "?");
    char err[256] = "";
    cr_assert_eq(metrics_read_prom(&r, f, err, sizeof err), -1);
    cr_assert(strstr(err, "not written by a libdynmem daemon"), "%s", err);
    fclose(f);
    metrics_free(&r);
}

Test(metrics, table)
{
    uint64_t id;
    dynmem_balancer *b = one_vm(&id);
    struct metrics m;
    metrics_init(&m, "dynmem-test");
    metrics_begin(&m, b, 1733400000000);
    metrics_add_vm(&m, "web", "managed", b, id);
    metrics_add_vm(&m, "db", "waiting", NULL, 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    metrics_print_table(&m, 1733400002500, f);
    fclose(f);
    cr_assert(strstr(text, "dynmem-test (libdynmem "), "%s", text);
    cr_assert(strstr(text, ", 2.5 s old\n"), "%s", text);
    cr_assert(strstr(text, "host: memory 4096 MiB, reserve 512 MiB, assigned 512 MiB"), "%s", text);
    cr_assert(strstr(text, "\nweb managed      low        512 MiB     0 MiB   448 MiB"), "%s", text);
    cr_assert(strstr(text, "\ndb  waiting      -\n"), "%s", text);
    free(text);
    metrics_free(&m);
    dynmem_balancer_free(b);
}

/* Whether the file is whole: it ends with a newline and names as many VMs
 * in dynmem_vm_stale (the last series written) as in dynmem_vm_state (the
 * first), and it reads back. */
static int whole_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    int states = 0, stale = 0;
    for (const char *p = text; (p = strstr(p, "\ndynmem_vm_state{")); p++)
        states++;
    for (const char *p = text; (p = strstr(p, "\ndynmem_vm_stale{")); p++)
        stale++;
    struct metrics r;
    metrics_init(&r, "?");
    char err[128];
    FILE *mem = fmemopen(text, len ? len : 1, "r");
    int ok = mem && metrics_read_prom(&r, mem, err, sizeof err) == 0;
    if (mem)
        fclose(mem);
    size_t read_back = r.n;
    metrics_free(&r);
    return ok && len > 0 && text[len - 1] == '\n' && states > 0 && states == stale &&
           (size_t)states == read_back;
}

Test(metrics, replaced_atomically)
{
    char dir[] = "/tmp/dynmem-metrics-XXXXXX";
    cr_assert(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/dynmem.prom", dir);
    uint64_t id;
    dynmem_balancer *b = one_vm(&id);
    struct metrics m;
    metrics_init(&m, "dynmem-test");
    char err[256] = "";
    metrics_begin(&m, b, 1);
    metrics_add_vm(&m, "vm", "managed", b, id);
    cr_assert_eq(metrics_publish(&m, path, err, sizeof err), 0, "%s", err);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644);
    pid_t reader = fork();
    if (reader == 0) { /* reads until killed; exits 1 at the first partial file */
        for (;;)
            if (!whole_file(path))
                _exit(1);
    }
    for (int round = 0; round < 400; round++) {
        metrics_begin(&m, b, round);
        for (int k = 0; k < 1 + round % 40; k++) {
            char name[16];
            snprintf(name, sizeof name, "vm%d", k);
            metrics_add_vm(&m, name, "managed", b, id);
        }
        cr_assert_eq(metrics_publish(&m, path, err, sizeof err), 0, "%s", err);
    }
    int status = 0;
    cr_assert_eq(waitpid(reader, &status, WNOHANG), 0, "the reader saw a partial file");
    kill(reader, SIGKILL);
    waitpid(reader, &status, 0);
    /* nothing but the file is left in the folder */
    char cmd[300];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    cr_assert_eq(system(cmd), 0, "temporary files left in %s", dir);
    unlink(path);
    rmdir(dir);
    metrics_free(&m);
    dynmem_balancer_free(b);
}

Test(metrics, unwritable_folder_reported)
{
    struct metrics m;
    metrics_init(&m, "dynmem-test");
    metrics_begin(&m, NULL, 1);
    char err[256] = "";
    cr_assert_eq(metrics_publish(&m, "/nonexistent-dir/dynmem.prom", err, sizeof err), -1);
    cr_assert(strstr(err, "/nonexistent-dir/dynmem.prom"), "%s", err);
    metrics_free(&m);
}

Test(metrics, failure_logged_once)
{
    struct metrics m;
    metrics_init(&m, "dynmem-test");
    metrics_begin(&m, NULL, 1);
    char msg[600] = "", path[] = "/tmp/dynmem-metrics-q-XXXXXX";
    cr_assert(mkdtemp(path));
    char file[300];
    snprintf(file, sizeof file, "%s/gone/x.prom", path);
    cr_assert_eq(metrics_publish_quiet(&m, file, msg, sizeof msg), 1);
    cr_assert(strstr(msg, "not written") && strstr(msg, "/gone/x.prom"), "%s", msg);
    cr_assert_eq(metrics_publish_quiet(&m, file, msg, sizeof msg), 0);
    snprintf(file, sizeof file, "%s/x.prom", path);
    cr_assert_eq(metrics_publish_quiet(&m, file, msg, sizeof msg), 1);
    cr_assert(strstr(msg, "written again"), "%s", msg);
    cr_assert_eq(metrics_publish_quiet(&m, file, msg, sizeof msg), 0);
    unlink(file);
    rmdir(path);
    metrics_free(&m);
}
