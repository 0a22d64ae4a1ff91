/* Finds the line of a JSON value by its path ("vms[3].maximum_mib"), so that
 * a semantic error in a scenario names the line as a syntax error does.
 * jansson keeps no positions after loading; this scans the text once with a
 * tiny tokenizer that only tracks containers, keys and indexes. */
#include "jsonline.h"

#include <stdio.h>
#include <string.h>

struct frame {
    bool is_obj;
    long index;
    char key[64];
};

/* Writes the path of the value about to start into buf. */
static void path_of(const struct frame *st, int depth, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < depth && n < len; i++) {
        int w = st[i].is_obj ? snprintf(buf + n, len - n, "%s%s", n ? "." : "", st[i].key)
                             : snprintf(buf + n, len - n, "[%ld]", st[i].index);
        if (w < 0)
            return;
        n += (size_t)w;
    }
}

int json_line_of(const char *text, const char *path)
{
    struct frame st[32];
    int depth = 0, line = 1;
    bool want_key = false;
    char cur[256];
    for (const char *p = text; *p; p++) {
        char c = *p;
        if (c == '\n') {
            line++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == ':')
            continue;
        if (c == ',') {
            if (depth && st[depth - 1].is_obj)
                want_key = true;
            else if (depth)
                st[depth - 1].index++;
            continue;
        }
        if (c == '}' || c == ']') {
            if (depth)
                depth--;
            want_key = false;
            continue;
        }
        if (want_key && c == '"') { /* an object key */
            const char *s = ++p;
            while (*p && *p != '"')
                p += (*p == '\\' && p[1]) ? 2 : 1;
            size_t n = (size_t)(p - s);
            if (depth) {
                if (n >= sizeof st[0].key)
                    n = sizeof st[0].key - 1;
                memcpy(st[depth - 1].key, s, n);
                st[depth - 1].key[n] = 0;
            }
            want_key = false;
            if (!*p)
                return 0;
            continue;
        }
        /* A value starts here. */
        path_of(st, depth, cur, sizeof cur);
        if (strcmp(cur, path) == 0)
            return line;
        if (c == '{' || c == '[') {
            if (depth == (int)(sizeof st / sizeof st[0]))
                return 0;
            st[depth] = (struct frame){.is_obj = c == '{'};
            depth++;
            want_key = c == '{';
            continue;
        }
        if (c == '"') {
            for (p++; *p && *p != '"'; p += (*p == '\\' && p[1]) ? 2 : 1)
                if (*p == '\n')
                    line++;
            if (!*p)
                return 0;
            continue;
        }
        while (p[1] && !strchr(",]} \t\r\n", p[1]))
            p++;
    }
    return 0;
}
