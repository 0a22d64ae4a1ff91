/* Guest workload for the KVM test: holds memory on a schedule and prints the
 * guest's own /proc/meminfo twice a second on the console.
 * usage: memhog MIB:SECONDS[,MIB:SECONDS...] RATE_MIB_PER_S
 * Each phase moves toward its MiB (growing at most RATE MiB/s, 1 MiB mmap
 * chunks with every page touched; shrinking at once) and lasts its seconds,
 * or, for SECONDS "wait", until a line arrives on standard input (the serial
 * console: the test host paces the phases); the last phase lasts for ever.
 * Lines:
 *   MEMHOG up=12.50 phase=1 held=320 MemTotal=746428 MemFree=380996 MemAvailable=314336
 * (meminfo figures in kB, as in /proc/meminfo). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <time.h>

#define CHUNK (1UL << 20)
#define MAX_CHUNKS 8192
#define MAX_PHASES 32

static void *chunk[MAX_CHUNKS];
static long held;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') {
            v = atol(line + n + 1);
            break;
        }
    if (f)
        fclose(f);
    return v;
}

static void grow_one(void)
{
    char *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return;
    for (unsigned long i = 0; i < CHUNK; i += 4096)
        p[i] = (char)(i | 1);
    chunk[held++] = p;
}

int main(int argc, char **argv)
{
    long want[MAX_PHASES];
    double len[MAX_PHASES];
    int n = 0;
    if (argc < 3)
        return 2;
    for (char *s = strtok(argv[1], ","); s && n < MAX_PHASES; s = strtok(NULL, ",")) {
        char rest[16];
        if (sscanf(s, "%ld:%15s", &want[n], rest) != 2 || want[n] < 0 || want[n] > MAX_CHUNKS)
            return 2;
        len[n] = strcmp(rest, "wait") ? atof(rest) : -1;
        n++;
    }
    double rate = atof(argv[2]);
    if (n == 0 || rate <= 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    double t0 = now(), phase_end = t0 + len[0], last_print = -1, budget_t = t0;
    int ph = 0;
    for (;;) {
        double t = now();
        struct pollfd in = {.fd = 0, .events = POLLIN};
        if (poll(&in, 1, 0) > 0) {
            char line[64];
            ssize_t got = read(0, line, sizeof line);
            if (got > 0 && len[ph] < 0 && ph < n - 1) {
                phase_end = t;
                len[ph] = 0;
            }
        }
        while (ph < n - 1 && len[ph] >= 0 && t >= phase_end) {
            ph++;
            phase_end = len[ph] >= 0 ? phase_end + len[ph] : t;
        }
        while (held > want[ph]) {
            munmap(chunk[--held], CHUNK);
            budget_t = t;
        }
        /* grow at most rate MiB/s, in steps of 1 MiB */
        double budget = (t - budget_t) * rate;
        while (held < want[ph] && budget >= 1.0) {
            grow_one();
            budget -= 1.0;
            budget_t += 1.0 / rate;
        }
        if (held >= want[ph])
            budget_t = t;
        if (t - last_print >= 0.5) {
            last_print = t;
            printf("MEMHOG up=%.2f phase=%d held=%ld MemTotal=%ld MemFree=%ld MemAvailable=%ld\n",
                   t - t0, ph, held, meminfo("MemTotal"), meminfo("MemFree"),
                   meminfo("MemAvailable"));
        }
        struct timespec d = {0, 20 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
}
