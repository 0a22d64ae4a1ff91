#include "hex.h"

#include <ctype.h>

static int nibble(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long hex_parse(unsigned char *out, size_t cap, const char *text)
{
    size_t n = 0;
    int high = -1;
    for (; *text; text++) {
        if (isspace((unsigned char)*text))
            continue;
        int v = nibble((unsigned char)*text);
        if (v < 0)
            return -1;
        if (high < 0) {
            high = v;
            continue;
        }
        if (n == cap)
            return -1;
        out[n++] = (unsigned char)(high << 4 | v);
        high = -1;
    }
    return high < 0 ? (long)n : -1;
}
