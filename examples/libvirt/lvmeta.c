/* dynmem-libvirt's metadata element and the balancer configuration built
 * from it (see lvmeta.h). */
#include "lvmeta.h"

#include <stdio.h>
#include <string.h>

#include "lvdomxml.h"
#include "lvxml.h"

#define MIB(x) ((unsigned long long)((x) >> 20))

static const struct field {
    const char *name;
    unsigned bit;
} fields[] = {
    {"minimum", LV_SET_MINIMUM}, {"maximum", LV_SET_MAXIMUM}, {"buffer", LV_SET_BUFFER},
    {"weight", LV_SET_WEIGHT},   {"calm", LV_SET_CALM},
};

/* One child element into the settings; -1 with err set. */
static int parse_field(xmlNodePtr n, const struct field *f, struct lv_settings *s, char *err,
                       size_t errlen)
{
    const char *why = NULL;
    uint64_t v = 0;
    if (f->bit == LV_SET_MINIMUM || f->bit == LV_SET_MAXIMUM) {
        if (lvx_scaled(n, 1024, &v, &why) == 0 && v == 0)
            why = "must be above 0";
        if (f->bit == LV_SET_MINIMUM)
            s->minimum = v;
        else
            s->maximum = v;
    } else if (f->bit == LV_SET_CALM) {
        char *u = lvx_attr(n, "unit");
        uint64_t scale = !u || !strcmp(u, "s") ? 1000 : !strcmp(u, "ms") ? 1 : 0;
        xmlFree(u);
        if (!scale)
            why = "unit must be s or ms";
        else if (lvx_number(n, &v))
            why = "not a whole number";
        else if (v > 86400000 / scale)
            why = "more than a day";
        s->calm_ms = v * scale;
    } else {
        if (lvx_number(n, &v))
            why = "not a whole number";
        else if (f->bit == LV_SET_BUFFER && (v < 5 || v > 2000))
            why = "must be 5..2000 (percent of demand)";
        else if (f->bit == LV_SET_WEIGHT && v > 10000)
            why = "must be 0..10000";
        if (f->bit == LV_SET_BUFFER)
            s->buffer = (uint32_t)v;
        else
            s->weight = (uint32_t)v;
    }
    if (why) {
        xmlChar *text = xmlNodeGetContent(n);
        snprintf(err, errlen, "%s: '%.40s': %s", f->name, text ? (const char *)text : "", why);
        xmlFree(text);
        return -1;
    }
    s->given |= f->bit;
    return 0;
}

int lv_meta_parse(const char *xml, struct lv_settings *out, char *err, size_t errlen)
{
    struct lv_settings s = {0};
    xmlDocPtr doc = lvx_parse(xml);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    int rc = -1;
    if (!root)
        snprintf(err, errlen, "memory: not well-formed XML");
    else if (strcmp((const char *)root->name, "memory"))
        snprintf(err, errlen, "memory: the element is <%.40s>, not <memory>", root->name);
    else
        rc = 0;
    for (xmlNodePtr n = rc == 0 ? root->children : NULL; n && rc == 0; n = n->next) {
        if (n->type == XML_TEXT_NODE && xmlIsBlankNode(n))
            continue;
        if (n->type == XML_COMMENT_NODE)
            continue;
        const struct field *f = NULL;
        for (size_t i = 0; n->type == XML_ELEMENT_NODE && i < sizeof fields / sizeof *fields; i++)
            if (!strcmp((const char *)n->name, fields[i].name))
                f = &fields[i];
        if (!f) {
            snprintf(err, errlen, "%.40s: unknown setting (minimum, maximum, buffer, weight, calm)",
                     n->type == XML_ELEMENT_NODE ? (const char *)n->name : "text");
            rc = -1;
        } else if (s.given & f->bit) {
            snprintf(err, errlen, "%s: given twice", f->name);
            rc = -1;
        } else {
            rc = parse_field(n, f, &s, err, errlen);
        }
    }
    xmlFreeDoc(doc);
    if (rc == 0)
        *out = s;
    return rc;
}

/* The domain's devices allow dynamic memory at all; -1 with err set. */
static int devices_ok(const struct lv_mem *m, char *err, size_t errlen)
{
    if (m->other_model[0]) {
        snprintf(err, errlen, "devices: memory device model '%s' is not supported (virtio-mem only)",
                 m->other_model);
        return -1;
    }
    if (!m->balloon) {
        snprintf(err, errlen, "memballoon: the domain has no <memballoon model='virtio'>, "
                              "which dynamic memory needs");
        return -1;
    }
    return 0;
}

int lv_meta_config(const struct lv_settings *s, const struct lv_mem *m, uint64_t startup,
                   struct dynmem_vm_config *out, char *err, size_t errlen)
{
    if (devices_ok(m, err, errlen))
        return -1;
    uint64_t ceiling = m->boot + lv_mem_vmem_size(m);
    struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
    c.flags = DYNMEM_VM_DYNAMIC | DYNMEM_VM_CAN_BALLOON;
    c.startup_bytes = startup;
    c.minimum_bytes = s->given & LV_SET_MINIMUM ? s->minimum : startup;
    c.maximum_bytes = s->given & LV_SET_MAXIMUM ? s->maximum : ceiling;
    if (s->given & LV_SET_BUFFER)
        c.buffer_percent = s->buffer;
    if (s->given & LV_SET_WEIGHT)
        c.weight = s->weight;
    /* the library takes 0 as "the balancer's": a calm of 0 s is 1 ms */
    if (s->given & LV_SET_CALM)
        c.calm_period_ms = s->calm_ms ? s->calm_ms : 1;
    if (c.maximum_bytes > c.startup_bytes)
        c.flags |= DYNMEM_VM_CAN_HOT_ADD; /* growth past what it starts with */
    if (startup % DYNMEM_SIZE_UNIT) {
        snprintf(err, errlen, "currentMemory: %llu KiB is not a whole number of 2 MiB units",
                 (unsigned long long)(startup >> 10));
        return -1;
    }
    if (c.maximum_bytes > ceiling) {
        snprintf(err, errlen, "maximum: %llu MiB is above what the domain can reach, %llu MiB "
                 "(boot memory %llu MiB + virtio-mem %llu MiB)", MIB(c.maximum_bytes), MIB(ceiling),
                 MIB(m->boot), MIB(lv_mem_vmem_size(m)));
        return -1;
    }
    if (c.minimum_bytes > startup) {
        snprintf(err, errlen, "minimum: %llu MiB is above the domain's startup memory, %llu MiB",
                 MIB(c.minimum_bytes), MIB(startup));
        return -1;
    }
    if (c.maximum_bytes < startup) {
        snprintf(err, errlen, "maximum: %llu MiB is below the domain's startup memory, %llu MiB",
                 MIB(c.maximum_bytes), MIB(startup));
        return -1;
    }
    /* the library's check, the one every front end uses; its message
     * names the field and the values */
    if (dynmem_vm_config_explain(&c, err, errlen))
        return -1;
    *out = c;
    return 0;
}
