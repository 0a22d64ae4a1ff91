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

/* Writes the rows of VMs 0..n-1 of the timeline as n blocks. */
static int regroup(const char *csv, const char *dat, int n)
{
    FILE *in = fopen(csv, "r"), *out = in ? fopen(dat, "w") : NULL;
    char line[512];
    int rc = in && out ? 0 : -1;
    for (int i = 0; !rc && i < n; i++) {
        rewind(in);
        while (fgets(line, sizeof line, in)) {
            const char *c = strchr(line, ',');
            if (c && atoi(c + 1) == i && (c[1] >= '0' && c[1] <= '9'))
                fputs(line, out);
        }
        fputs("\n\n", out);
    }
    if (in)
        fclose(in);
    if (out && fclose(out))
        rc = -1;
    return rc;
}

int sim_plot(const char *csv, const char *out, const struct sim_scenario *sc, int max_vms)
{
    if (!have_gnuplot()) {
        fprintf(stderr, "dynmem-sim: gnuplot is not installed, no plot written "
                        "(install gnuplot-nox, e.g. sh scripts/bootstrap)\n");
        return -1;
    }
    int n = sc->n_vms < max_vms ? sc->n_vms : max_vms;
    bool svg = strlen(out) > 4 && !strcmp(out + strlen(out) - 4, ".svg");
    char dat[1024];
    snprintf(dat, sizeof dat, "%s.dat", out);
    if (regroup(csv, dat, n)) {
        fprintf(stderr, "dynmem-sim: cannot regroup %s into %s for the plot\n", csv, dat);
        return -1;
    }
    FILE *g = popen("gnuplot", "w");
    if (!g) {
        remove(dat);
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
    remove(dat);
    if (rc != 0) {
        fprintf(stderr, "dynmem-sim: gnuplot failed (status %d)\n", rc);
        return -1;
    }
    return 0;
}
