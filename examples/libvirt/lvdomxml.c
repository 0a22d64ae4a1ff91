/* A domain's memory as its XML describes it (see lvdomxml.h). */
#include "lvdomxml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvxml.h"

static int scaled_child(xmlNodePtr parent, const char *name, uint64_t *out, const char *what,
                        char *err, size_t errlen)
{
    xmlNodePtr n = lvx_child(parent, name);
    const char *why = "missing";
    if (n && lvx_scaled(n, 1024, out, &why) == 0)
        return 0;
    snprintf(err, errlen, "%s%s: %s", what, name, why);
    return -1;
}

static int read_vmem(xmlNodePtr dev, struct lv_vmem *v, char *err, size_t errlen)
{
    xmlNodePtr target = lvx_child(dev, "target");
    memset(v, 0, sizeof *v);
    if (scaled_child(target, "size", &v->size, "virtio-mem ", err, errlen) ||
        scaled_child(target, "block", &v->block, "virtio-mem ", err, errlen))
        return -1;
    if (lvx_child(target, "requested") &&
        scaled_child(target, "requested", &v->requested, "virtio-mem ", err, errlen))
        return -1;
    if (lvx_child(target, "current") &&
        scaled_child(target, "current", &v->current, "virtio-mem ", err, errlen))
        return -1;
    char *alias = lvx_attr(lvx_child(dev, "alias"), "name");
    if (alias && strlen(alias) < sizeof v->alias)
        strcpy(v->alias, alias);
    xmlFree(alias);
    if (!v->block || v->size > UINT64_MAX / 2 || v->current > v->size || v->requested > v->size) {
        snprintf(err, errlen, "virtio-mem: block, size, requested or current out of range");
        return -1;
    }
    return 0;
}

/* The <devices> children that matter: memballoon and memory devices. */
static int read_devices(xmlNodePtr devices, struct lv_mem *m, char *err, size_t errlen)
{
    for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        char *model = lvx_attr(n, "model");
        int rc = 0;
        if (!strcmp((const char *)n->name, "memballoon")) {
            if (model && !strncmp(model, "virtio", 6))
                m->balloon = 1;
        } else if (!strcmp((const char *)n->name, "memory")) {
            uint64_t size = 0;
            if (model && !strcmp(model, "virtio-mem")) {
                if (m->nvmem == LV_MAX_VMEM) {
                    snprintf(err, errlen, "devices: more than %d virtio-mem devices", LV_MAX_VMEM);
                    rc = -1;
                } else if ((rc = read_vmem(n, &m->vmem[m->nvmem], err, errlen)) == 0) {
                    size = m->vmem[m->nvmem++].size;
                }
            } else {
                snprintf(m->other_model, sizeof m->other_model, "%s", model ? model : "?");
                rc = scaled_child(lvx_child(n, "target"), "size", &size, "memory device ", err,
                                  errlen);
            }
            if (rc == 0 && size > m->boot) {
                snprintf(err, errlen, "devices: memory devices larger than <memory>");
                rc = -1;
            }
            m->boot -= rc == 0 ? size : 0;
        }
        xmlFree(model);
        if (rc)
            return rc;
    }
    return 0;
}

int lv_mem_from_xml(const char *xml, struct lv_mem *out, char *err, size_t errlen)
{
    struct lv_mem m;
    memset(&m, 0, sizeof m);
    xmlDocPtr doc = lvx_parse(xml);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    int rc = -1;
    if (!root || strcmp((const char *)root->name, "domain"))
        snprintf(err, errlen, "domain XML: not a <domain> document");
    else if (scaled_child(root, "memory", &m.total, "", err, errlen) == 0 &&
             scaled_child(root, "currentMemory", &m.current, "", err, errlen) == 0) {
        m.boot = m.total;
        rc = read_devices(lvx_child(root, "devices"), &m, err, errlen);
    }
    xmlFreeDoc(doc);
    if (rc == 0)
        *out = m;
    return rc;
}

uint64_t lv_mem_vmem_size(const struct lv_mem *m)
{
    uint64_t s = 0;
    for (size_t i = 0; i < m->nvmem; i++)
        s += m->vmem[i].size;
    return s;
}

uint64_t lv_mem_vmem_current(const struct lv_mem *m)
{
    uint64_t s = 0;
    for (size_t i = 0; i < m->nvmem; i++)
        s += m->vmem[i].current;
    return s;
}

static xmlNodePtr find_vmem(xmlNodePtr root, const char *alias)
{
    for (xmlNodePtr n = lvx_child(root, "devices") ? lvx_child(root, "devices")->children : NULL;
         n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "memory"))
            continue;
        char *a = lvx_attr(lvx_child(n, "alias"), "name");
        int match = a && !strcmp(a, alias);
        xmlFree(a);
        if (match)
            return n;
    }
    return NULL;
}

char *lv_vmem_update_xml(const char *xml, const char *alias, uint64_t bytes)
{
    xmlDocPtr doc = lvx_parse(xml);
    xmlNodePtr dev = doc ? find_vmem(xmlDocGetRootElement(doc), alias) : NULL;
    xmlNodePtr target = lvx_child(dev, "target");
    char *out = NULL;
    if (target) {
        xmlNodePtr req = lvx_child(target, "requested");
        if (!req)
            req = xmlNewChild(target, NULL, (const xmlChar *)"requested", NULL);
        char kib[32];
        snprintf(kib, sizeof kib, "%llu", (unsigned long long)(bytes >> 10));
        xmlNodeSetContent(req, (const xmlChar *)kib);
        xmlSetProp(req, (const xmlChar *)"unit", (const xmlChar *)"KiB");
        /* libvirt refuses a change to anything but <requested>: the plugged
         * size it reports is not part of what it takes */
        xmlNodePtr cur = lvx_child(target, "current");
        if (cur) {
            xmlUnlinkNode(cur);
            xmlFreeNode(cur);
        }
        xmlBufferPtr buf = xmlBufferCreate();
        if (buf && xmlNodeDump(buf, doc, dev, 0, 0) > 0)
            out = strdup((const char *)xmlBufferContent(buf));
        xmlBufferFree(buf);
    }
    xmlFreeDoc(doc);
    return out;
}
