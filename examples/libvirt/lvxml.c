/* libxml2 helpers (see lvxml.h). */
#include "lvxml.h"

#include <errno.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LVX_MAX_TEXT (1 << 20) /* a domain's XML is a few KiB */

xmlDocPtr lvx_parse(const char *text)
{
    size_t len = strlen(text);
    if (len > LVX_MAX_TEXT)
        return NULL;
    return xmlReadMemory(text, (int)len, "dynmem.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                             XML_PARSE_NOCDATA);
}

xmlNodePtr lvx_child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name))
            return n;
    return NULL;
}

char *lvx_attr(xmlNodePtr node, const char *name)
{
    return (char *)xmlGetProp(node, (const xmlChar *)name);
}

int lvx_number(xmlNodePtr node, uint64_t *out)
{
    xmlChar *text = xmlNodeGetContent(node);
    if (!text)
        return -1;
    const char *s = (const char *)text;
    s += strspn(s, " \t\r\n");
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    int ok = !errno && end != s && *s != '-' && *s != '+';
    if (ok)
        ok = end[strspn(end, " \t\r\n")] == '\0';
    xmlFree(text);
    if (!ok)
        return -1;
    *out = v;
    return 0;
}

static int unit_factor(const char *u, uint64_t *f)
{
    static const struct { const char *name; uint64_t factor; } units[] = {
        {"b", 1}, {"bytes", 1},
        {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000}, {"TB", 1000000000000},
        {"k", 1ULL << 10}, {"KiB", 1ULL << 10}, {"M", 1ULL << 20}, {"MiB", 1ULL << 20},
        {"G", 1ULL << 30}, {"GiB", 1ULL << 30}, {"T", 1ULL << 40}, {"TiB", 1ULL << 40},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(u, units[i].name) ||
            (strlen(u) == 1 && !strcasecmp(u, units[i].name))) {
            *f = units[i].factor;
            return 0;
        }
    return -1;
}

int lvx_scaled(xmlNodePtr node, uint64_t default_unit, uint64_t *bytes, const char **why)
{
    uint64_t v, f = default_unit;
    char *u = lvx_attr(node, "unit");
    int bad_unit = u && unit_factor(u, &f);
    xmlFree(u);
    if (bad_unit) {
        *why = "unknown unit (b, KiB, MiB, GiB, TiB, KB, MB, GB, TB)";
        return -1;
    }
    if (lvx_number(node, &v)) {
        *why = "not a whole number";
        return -1;
    }
    if (v && f > UINT64_MAX / v) {
        *why = "too large";
        return -1;
    }
    *bytes = v * f;
    return 0;
}
