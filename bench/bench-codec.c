/* bench-codec: what decoding costs against just copying the bytes.
 *
 * For a full 510-range balloon response (4096 bytes, the largest message)
 * and a status report (48 bytes) it times, in the same run and on the same
 * bytes: memcpy of the message, decode+validate (dynmem_proto_decode), and
 * for the balloon response also decode plus unpacking every range into
 * caller storage (dynmem_proto_ranges_copy). Each figure is the best of
 * several rounds, in ns per message, with the ratio of memcpy's time to the
 * codec's (1.0 = as fast as memcpy; the goal for decode+validate is >= 0.5).
 *
 * Usage: bench-codec [ITERATIONS]     (default 2000000)
 *        bench-codec --callgrind N balloon|status
 *            (N decodes of one message and nothing else timed, for
 *             valgrind --tool=callgrind --toggle-collect=dynmem_proto_decode;
 *             instructions per decode = collected Ir / N)
 * Links the installed-style shared library through the public API only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dynmem/dynmem.h>

#define ROUNDS 7

/* Keeps the compiler from dropping or merging work whose result is unused. */
#define CLOBBER(p) __asm__ volatile("" : : "r"(p) : "memory")

static unsigned char balloon[DYNMEM_PROTO_MSG_SIZE_MAX];
static unsigned char status[48];
static unsigned char sink[DYNMEM_PROTO_MSG_SIZE_MAX];
static struct dynmem_proto_range unpacked[DYNMEM_PROTO_RANGES_MAX];
static size_t balloon_len, status_len;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void build_messages(void)
{
    static struct dynmem_proto_range r[DYNMEM_PROTO_RANGES_MAX];
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    for (unsigned i = 0; i < DYNMEM_PROTO_RANGES_MAX; i++)
        r[i] = (struct dynmem_proto_range){0x100000 + (uint64_t)i * 1024, 512};
    m.type = DYNMEM_PROTO_BALLOON_RESPONSE;
    m.body.balloon_response.ranges.unpacked = r;
    m.body.balloon_response.ranges.count = DYNMEM_PROTO_RANGES_MAX;
    balloon_len = (size_t)dynmem_proto_encode(balloon, sizeof balloon, &m, 0);

    memset(&m.body, 0, sizeof m.body);
    m.type = DYNMEM_PROTO_STATUS_REPORT;
    m.body.status_report.num_avail = 262144;
    m.body.status_report.num_committed = 524288;
    status_len = (size_t)dynmem_proto_encode(status, sizeof status, &m, 0);
    if (balloon_len != DYNMEM_PROTO_MSG_SIZE_MAX || status_len != 48) {
        fprintf(stderr, "bench-codec: could not build the messages\n");
        exit(1);
    }
}

enum work { COPY, DECODE, DECODE_UNPACK };

static void run_once(enum work w, const unsigned char *msg, size_t len)
{
    struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
    switch (w) {
    case COPY:
        memcpy(sink, msg, len);
        CLOBBER(sink);
        break;
    case DECODE:
        if (dynmem_proto_decode(&m, msg, len, 0, NULL))
            abort();
        CLOBBER(&m);
        break;
    case DECODE_UNPACK:
        if (dynmem_proto_decode(&m, msg, len, 0, NULL) ||
            dynmem_proto_ranges_copy(unpacked, DYNMEM_PROTO_RANGES_MAX, dynmem_proto_msg_ranges(&m),
                                     0) != DYNMEM_PROTO_RANGES_MAX)
            abort();
        CLOBBER(unpacked);
        break;
    }
}

/* Best of ROUNDS rounds, in ns per message. */
static double time_work(enum work w, const unsigned char *msg, size_t len, long iterations)
{
    double best = 1e30;
    for (int round = 0; round < ROUNDS; round++) {
        double t0 = now_ns();
        for (long i = 0; i < iterations; i++)
            run_once(w, msg, len);
        double per = (now_ns() - t0) / (double)iterations;
        if (per < best)
            best = per;
    }
    return best;
}

static void report(const char *what, double copy_ns, double codec_ns)
{
    printf("  %-34s %8.1f ns/msg   memcpy/codec time ratio %.2f\n", what, codec_ns,
           copy_ns / codec_ns);
}

int main(int argc, char **argv)
{
    build_messages();
    if (argc == 4 && strcmp(argv[1], "--callgrind") == 0) {
        long n = atol(argv[2]);
        int is_balloon = strcmp(argv[3], "balloon") == 0;
        for (long i = 0; i < n; i++)
            run_once(DECODE, is_balloon ? balloon : status, is_balloon ? balloon_len : status_len);
        return 0;
    }
    long iterations = argc > 1 ? atol(argv[1]) : 2000000;
    if (iterations <= 0) {
        fprintf(stderr, "usage: bench-codec [ITERATIONS] | --callgrind N balloon|status\n");
        return 2;
    }
    printf("libdynmem %s codec benchmark, %ld iterations x %d rounds, best round\n",
           dynmem_version_string(), iterations, ROUNDS);

    double copy = time_work(COPY, balloon, balloon_len, iterations);
    printf("balloon response, 510 ranges (%zu bytes)\n", balloon_len);
    printf("  %-34s %8.1f ns/msg\n", "memcpy", copy);
    report("decode+validate", copy, time_work(DECODE, balloon, balloon_len, iterations));
    report("decode+validate+unpack 510 ranges", copy,
           time_work(DECODE_UNPACK, balloon, balloon_len, iterations / 10 + 1));

    copy = time_work(COPY, status, status_len, iterations);
    printf("status report (%zu bytes)\n", status_len);
    printf("  %-34s %8.1f ns/msg\n", "memcpy", copy);
    report("decode+validate", copy, time_work(DECODE, status, status_len, iterations));
    return 0;
}
