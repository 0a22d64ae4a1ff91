/* libxml2 helpers for dynmem-libvirt: parsing untrusted XML text safely and
 * reading libvirt's scaled integers (<size unit='KiB'>524288</size>). */
#ifndef DYNMEM_LIBVIRT_LVXML_H
#define DYNMEM_LIBVIRT_LVXML_H

#include <libxml/tree.h>
#include <stddef.h>
#include <stdint.h>

/* Parse a document (no network, no entities, no DTD, size-capped); NULL when
 * it is not well-formed XML. Free with xmlFreeDoc(). */
xmlDocPtr lvx_parse(const char *text);

/* The first element child of @p parent named @p name (any namespace), or NULL. */
xmlNodePtr lvx_child(xmlNodePtr parent, const char *name);

/* An attribute's value as a C string, or NULL; free with xmlFree(). */
char *lvx_attr(xmlNodePtr node, const char *name);

/* Whole decimal number in an element's text (spaces around allowed).
 * Returns 0 or -1. */
int lvx_number(xmlNodePtr node, uint64_t *out);

/* A scaled integer as libvirt writes it: decimal text and a unit attribute
 * (b/bytes, KB/MB/GB/TB powers of 1000, k/KiB/M/MiB/G/GiB/T/TiB powers of
 * 1024; no unit means @p default_unit). In bytes, checked for overflow.
 * Returns 0, or -1 with why set ("unit 'x' unknown", "not a number", ...). */
int lvx_scaled(xmlNodePtr node, uint64_t default_unit, uint64_t *bytes, const char **why);

#endif
