/* The picture: gnuplot, run as a subprocess. One panel per VM (demand,
 * assigned, visible maximum; up to max_vms VMs) and one for host free
 * memory. The timeline CSV interleaves the VMs row by row; gnuplot breaks a
 * line at every filtered-out row, so the rows are first regrouped into one
 * data block per VM (gnuplot's "index"). */
#include "sim.h"

/* Paths and messages are cut at their buffer size on purpose. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static bool have_gnuplot(void)
{
    int rc = system("command -v gnuplot >/dev/null 2>&1");
    return rc == 0;
}

static void quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f); /* gnuplot doubles a quote inside '...' */
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* Writes the rows of VMs 0..n-1 of the timeline as n blocks, and which of
 * them ever ran (a panel with no running row has nothing to draw, and
 * gnuplot refuses a plot whose points are all undefined). */
static int regroup(const char *csv, const char *dat, int n, bool *ran)
{
    FILE *in = fopen(csv, "r"), *out = in ? fopen(dat, "w") : NULL;
    char line[512];
    int rc = in && out ? 0 : -1;
    for (int i = 0; !rc && i < n; i++) {
        rewind(in);
        ran[i] = false;
        while (fgets(line, sizeof line, in)) {
            const char *c = strchr(line, ',');
            if (c && atoi(c + 1) == i && (c[1] >= '0' && c[1] <= '9')) {
                fputs(line, out);
                const char *name_end = strchr(c + 1, ',');
                const char *running = name_end ? strchr(name_end + 1, ',') : NULL;
                ran[i] |= running && running[1] == '1';
            }
        }
        fputs("\n\n", out);
    }
    if (in)
        fclose(in);
    if (out && fclose(out))
        rc = -1;
    return rc;
}

/* gnuplot's first complaint, from the file its stderr went to. */
static void gnuplot_reason(const char *log, char *why, size_t len)
{
    FILE *f = fopen(log, "r");
    char line[512];
    snprintf(why, len, "no message");
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        /* gnuplot's errors read "line N: message", the message padded. */
        const char *at = strstr(line, "line ");
        const char *colon = at ? strchr(at, ':') : NULL;
        if (colon) {
            colon += strspn(colon + 1, " ") + 1;
            snprintf(why, len, "gnuplot: %s", colon);
            break;
        }
    }
    if (f)
        fclose(f);
}

int sim_plot(const char *csv, const char *out, const struct sim_scenario *sc, int max_vms,
             char *why, size_t why_len)
{
    snprintf(why, why_len, "unknown");
    if (!have_gnuplot()) {
        snprintf(why, why_len, "gnuplot is not installed (install gnuplot-nox, e.g. sh "
                               "scripts/bootstrap)");
        return SIM_PLOT_NO_GNUPLOT;
    }
    int n = sc->n_vms < max_vms ? sc->n_vms : max_vms;
    bool svg = strlen(out) > 4 && !strcmp(out + strlen(out) - 4, ".svg");
    bool ran[64];
    n = n < 64 ? n : 64;
    /* The regrouped data and gnuplot's messages go to a directory of their
     * own ($TMPDIR or /tmp), whose name needs no quoting for the shell. */
    const char *tmp = getenv("TMPDIR");
    char dir[512], dat[600], log[600], cmd[700];
    snprintf(dir, sizeof dir, "%s/dynmem-sim-plot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (strchr(dir, '\'') || !mkdtemp(dir)) {
        snprintf(why, why_len, "cannot make a temporary directory in %s", dir);
        return -1;
    }
    snprintf(dat, sizeof dat, "%s/timeline.dat", dir);
    snprintf(log, sizeof log, "%s/gnuplot.log", dir);
    snprintf(cmd, sizeof cmd, "gnuplot >/dev/null 2>'%s'", log);
    FILE *g = NULL;
    if (regroup(csv, dat, n, ran))
        snprintf(why, why_len, "cannot read %s", csv);
    else if (!(g = popen(cmd, "w")))
        snprintf(why, why_len, "cannot run gnuplot");
    if (!g) {
        remove(dat);
        rmdir(dir);
        return -1;
    }
    int height = 220 * (n + 1);
    fprintf(g, "set terminal %s size 1000,%d\nset output ", svg ? "svg" : "pngcairo", height);
    quote(g, out);
    fprintf(g, "\nset datafile separator ','\nset key outside right\nset grid\n"
               "set multiplot layout %d,1 title ",
            n + 1);
    quote(g, sc->name);
    fprintf(g, "\nset ylabel 'MiB'\n");
    for (int i = 0; i < n; i++) {
        fprintf(g, "set title ");
        quote(g, sc->vms[i].name);
        if (!ran[i]) {
            /* Nothing to draw: an empty panel that says so. */
            fprintf(g, "\nset label 1 'did not run' at graph 0.5, 0.5 center\n"
                       "set yrange [0:1]\nplot [0:%g] 2 notitle\nunset label 1\nset yrange [*:*]\n",
                    (double)sc->duration_ms / 1000.0);
            continue;
        }
        fprintf(g, "\nplot ");
        const char *cols[3][2] = {{"5", "demand"}, {"6", "assigned"}, {"7", "visible maximum"}};
        for (int k = 0; k < 3; k++) {
            fprintf(g, "%s", k ? ", " : "");
            quote(g, dat);
            fprintf(g, " index %d using 1:($4==1 ? $%s : 1/0) with lines title '%s'", i,
                    cols[k][0], cols[k][1]);
        }
        fputc('\n', g);
    }
    fprintf(g, "set title 'host'\nset xlabel 'time (s)'\nplot ");
    quote(g, dat);
    fprintf(g, " index 0 using 1:11 with lines title 'free'\n"
               "unset multiplot\n");
    int rc = pclose(g);
    if (rc != 0)
        gnuplot_reason(log, why, why_len);
    remove(dat);
    remove(log);
    rmdir(dir);
    if (rc != 0) {
        remove(out); /* whatever gnuplot left is not the plot */
        return -1;
    }
    return 0;
}
