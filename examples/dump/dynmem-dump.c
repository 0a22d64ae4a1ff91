/* dynmem-dump: decode Hyper-V Dynamic Memory messages to JSON lines, or
 * encode JSON lines back to hex. Links libdynmem through its public API
 * only. See docs/dynmem-dump.1 for the interface.
 *
 * Every bad message is reported on stderr as one line naming its index and
 * the reason; decoding goes on with the next message where the input still
 * allows it, and the exit status is 1 if anything was bad. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

enum mode { MODE_HEX, MODE_BINARY, MODE_ENCODE };

struct options {
    enum mode mode;
    uint32_t version; /* negotiated protocol version, 0 = any */
    const char *path;
};

static void usage(FILE *to)
{
    fputs("usage: dynmem-dump [--binary | --encode] [--protocol VERSION] [FILE]\n"
          "  (default)         FILE (or stdin) holds one hex message per line\n"
          "  --binary          FILE is a raw stream of messages back to back\n"
          "  --encode          FILE holds one JSON object per line; print hex\n"
          "  --protocol V      negotiated version 0.3, 1.0 or 2.0 (default: any)\n",
          to);
}

static int parse_protocol(const char *s, uint32_t *out)
{
    static const struct { const char *name; uint32_t v; } known[] = {
        {"any", 0}, {"0.3", DYNMEM_PROTO_VERSION_WIN7}, {"1.0", DYNMEM_PROTO_VERSION_WIN8},
        {"2.0", DYNMEM_PROTO_VERSION_WIN10}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(s, known[i].name) == 0) {
            *out = known[i].v;
            return 0;
        }
    return -1;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--binary") == 0) {
            o->mode = MODE_BINARY;
        } else if (strcmp(a, "--encode") == 0) {
            o->mode = MODE_ENCODE;
        } else if (strcmp(a, "--protocol") == 0 && i + 1 < argc) {
            if (parse_protocol(argv[++i], &o->version)) {
                fprintf(stderr, "dynmem-dump: unknown protocol version %s\n", argv[i]);
                return -1;
            }
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if ((a[0] == '-' && a[1]) || o->path) {
            usage(stderr);
            return -1;
        } else {
            o->path = a;
        }
    }
    return 0;
}

static void report(size_t index, size_t line, const char *what, const char *detail)
{
    if (line)
        fprintf(stderr, "dynmem-dump: message %zu (line %zu): %s%s%s\n", index, line, what,
                detail ? ": " : "", detail ? detail : "");
    else
        fprintf(stderr, "dynmem-dump: message %zu: %s%s%s\n", index, what, detail ? ": " : "",
                detail ? detail : "");
}

static void report_code(size_t index, size_t line, int rc)
{
    report(index, line, dynmem_error_name(rc), dynmem_strerror(rc));
}

static int print_json(const struct dynmem_proto_msg *m, size_t index)
{
    json_t *o = dump_msg_to_json(m, index);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!text) {
        fprintf(stderr, "dynmem-dump: out of memory\n");
        exit(2);
    }
    puts(text);
    free(text);
    return 0;
}

/* A line that is empty or starts with '#' is not a message. */
static int is_message_line(const char *line)
{
    line += strspn(line, " \t\r\n");
    return *line && *line != '#';
}

static int decode_hex_lines(FILE *in, const struct options *o)
{
    char *line = NULL;
    size_t cap = 0, index = 0, lineno = 0;
    int bad = 0;
    static unsigned char buf[2 * DYNMEM_PROTO_MSG_SIZE_MAX];
    while (getline(&line, &cap, in) >= 0) {
        lineno++;
        if (!is_message_line(line))
            continue;
        long n = dump_unhex(buf, sizeof buf, line);
        struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
        int rc = n < 0 ? 0 : dynmem_proto_decode(&m, buf, (size_t)n, o->version, NULL);
        if (n < 0)
            report(index, lineno, "bad hex", "expected pairs of hex digits, at most 8192 bytes");
        else if (rc)
            report_code(index, lineno, rc);
        else
            print_json(&m, index);
        bad |= n < 0 || rc;
        index++;
    }
    free(line);
    return bad;
}

static unsigned char *slurp(FILE *in, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, in);
        if (n < cap)
            break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    *len = n;
    return buf;
}

/* Raw stream: after a bad message whose header size is plausible, skip that
 * many bytes and go on; otherwise the stream cannot be resynchronised. */
static int decode_binary(FILE *in, const struct options *o)
{
    size_t len, off = 0, index = 0;
    unsigned char *buf = slurp(in, &len);
    int bad = 0;
    if (!buf) {
        fprintf(stderr, "dynmem-dump: out of memory\n");
        return 2;
    }
    for (; off < len; index++) {
        struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
        size_t used = 0;
        int rc = dynmem_proto_decode(&m, buf + off, len - off, o->version, &used);
        if (rc == 0) {
            print_json(&m, index);
            off += used;
            continue;
        }
        bad = 1;
        report_code(index, 0, rc);
        size_t size = len - off >= 4 ? (size_t)(buf[off + 2] | buf[off + 3] << 8) : 0;
        if (rc == DYNMEM_ERR_PROTO_TRUNCATED || size < DYNMEM_PROTO_HEADER_SIZE ||
            size > DYNMEM_PROTO_MSG_SIZE_MAX) {
            fprintf(stderr, "dynmem-dump: cannot resynchronise; %zu bytes left undecoded\n",
                    len - off);
            break;
        }
        off += size;
    }
    free(buf);
    return bad;
}

static void print_hex(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf(i ? " %02x" : "%02x", p[i]);
    putchar('\n');
}

static int encode_json_lines(FILE *in, const struct options *o)
{
    static struct dump_storage st;
    static unsigned char wire[DYNMEM_PROTO_MSG_SIZE_MAX];
    char *line = NULL, why[256];
    size_t cap = 0, index = 0, lineno = 0;
    int bad = 0;
    while (getline(&line, &cap, in) >= 0) {
        lineno++;
        if (!is_message_line(line))
            continue;
        json_error_t jerr;
        json_t *obj = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
        struct dynmem_proto_msg m = DYNMEM_PROTO_MSG_INIT;
        ptrdiff_t n = -1;
        if (!obj)
            report(index, lineno, "bad JSON", jerr.text);
        else if (dump_json_to_msg(&m, &st, obj, why, sizeof why))
            report(index, lineno, "bad message", why);
        else if ((n = dynmem_proto_encode(wire, sizeof wire, &m, o->version)) < 0)
            report_code(index, lineno, (int)n);
        else
            print_hex(wire, (size_t)n);
        bad |= n < 0;
        json_decref(obj);
        index++;
    }
    free(line);
    return bad;
}

int main(int argc, char **argv)
{
    struct options o = {MODE_HEX, 0, NULL};
    if (parse_args(argc, argv, &o))
        return 2;
    FILE *in = stdin;
    if (o.path && strcmp(o.path, "-") != 0 && !(in = fopen(o.path, "rb"))) {
        perror(o.path);
        return 2;
    }
    int bad = o.mode == MODE_BINARY ? decode_binary(in, &o)
              : o.mode == MODE_ENCODE ? encode_json_lines(in, &o)
                                      : decode_hex_lines(in, &o);
    if (in != stdin)
        fclose(in);
    if (fflush(stdout)) {
        perror("dynmem-dump: stdout");
        return 2;
    }
    return bad ? 1 : 0;
}
