/* dynmem-dump internals: the two JSON directions. */
#ifndef DYNMEM_DUMP_H
#define DYNMEM_DUMP_H

#include <stddef.h>
#include <stdio.h>

#include <dynmem/dynmem.h>
#include <jansson.h>

#include "hexbytes.h"

/* Storage an encoded-from-JSON message points into (ranges, blobs). */
struct dump_storage {
    struct dynmem_proto_range ranges[DYNMEM_PROTO_RANGES_MAX];
    unsigned char blob[DYNMEM_PROTO_MSG_SIZE_MAX];
};

/* One decoded message as a JSON object; NULL only when out of memory. */
json_t *dump_msg_to_json(const struct dynmem_proto_msg *msg, size_t index);

/* Fills msg (already initialised) from a JSON object; ranges and blobs are
 * stored in st. Returns 0, or -1 with the reason written to why. */
int dump_json_to_msg(struct dynmem_proto_msg *msg, struct dump_storage *st, json_t *obj,
                     char *why, size_t why_cap);

#endif
