/* Hex text <-> bytes for dynmem-dump. */
#include <ctype.h>

#include "hexbytes.h"

void dump_hex(char *out, const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        *out++ = digits[p[i] >> 4];
        *out++ = digits[p[i] & 15];
    }
    *out = '\0';
}

static int nibble(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long dump_unhex(unsigned char *out, size_t cap, const char *text)
{
    size_t n = 0;
    int high = -1;
    for (; *text; text++) {
        if (isspace((unsigned char)*text))
            continue;
        int v = nibble((unsigned char)*text);
        if (v < 0 || (high >= 0 && n == cap))
            return -1;
        if (high < 0) {
            high = v;
            continue;
        }
        out[n++] = (unsigned char)(high << 4 | v);
        high = -1;
    }
    return high < 0 ? (long)n : -1;
}
