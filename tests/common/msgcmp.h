/* Test helper: compares two messages field by field, the way a caller sees
 * them (ranges through the accessor, views by content), so that a decoded
 * message can be compared with one built by hand. */
#ifndef DYNMEM_TESTS_MSGCMP_H
#define DYNMEM_TESTS_MSGCMP_H

#include <stddef.h>

#include <dynmem/proto.h>

/* Returns NULL if a and b carry the same message, else the first field that
 * differs. Ignores flags, length and the info message's info_size, which
 * describe the bytes rather than the message. */
const char *msg_diff(const struct dynmem_proto_msg *a, const struct dynmem_proto_msg *b);

#endif
