/* Progress on stderr (see sim.h). On a terminal it is one line, rewritten
 * in place ("\r", then erase to the end of the line) at most ten times a
 * second; otherwise (a log, a pipe) only the updates marked as milestones
 * are written, a line each. */
#include "sim.h"

#include <stdarg.h>
#include <time.h>
#include <unistd.h>

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sim_progress_init(struct sim_progress *p, bool on)
{
    *p = (struct sim_progress){.on = on, .tty = isatty(2) == 1, .started = seconds_now()};
}

double sim_progress_elapsed(const struct sim_progress *p)
{
    return seconds_now() - p->started;
}

void sim_progress_show(struct sim_progress *p, bool milestone, const char *fmt, ...)
{
    if (!p->on || (!p->tty && !milestone))
        return;
    double now = seconds_now();
    if (p->tty && !milestone && now - p->shown < 0.1)
        return;
    p->shown = now;
    va_list ap;
    va_start(ap, fmt);
    fputs(p->tty ? "\r" : "", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(p->tty ? "\033[K" : "\n", stderr);
    va_end(ap);
    p->open = p->tty;
    fflush(stderr);
}

void sim_progress_end(struct sim_progress *p)
{
    if (p->open)
        fputc('\n', stderr);
    p->open = false;
}
