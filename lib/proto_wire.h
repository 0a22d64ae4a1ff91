/* Internal: the byte-level vocabulary shared by the codec's encoder and
 * decoder. Little-endian loads and stores go through single bytes so that
 * they are correct on any host and never make an unaligned access; compilers
 * fold them into one load or store where the target allows it. */
#ifndef DYNMEM_LIB_PROTO_WIRE_H
#define DYNMEM_LIB_PROTO_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <dynmem/proto.h>

/* Fixed part of each message type, header included. Ranged types add 8 bytes
 * per range; the info message adds its record. */
#define DYNMEM__PROTO_SIZE_VERSION_REQUEST 16u
#define DYNMEM__PROTO_SIZE_VERSION_RESPONSE 16u
#define DYNMEM__PROTO_SIZE_CAPS_REPORT 32u
#define DYNMEM__PROTO_SIZE_CAPS_RESPONSE 16u
#define DYNMEM__PROTO_SIZE_STATUS_REPORT 48u
#define DYNMEM__PROTO_SIZE_BALLOON_REQUEST 16u
#define DYNMEM__PROTO_SIZE_BALLOON_RESPONSE 16u /* + 8 per range */
#define DYNMEM__PROTO_SIZE_UNBALLOON_REQUEST 16u /* + 8 per range */
#define DYNMEM__PROTO_SIZE_UNBALLOON_RESPONSE 8u
#define DYNMEM__PROTO_SIZE_HOT_ADD_SHORT 16u
#define DYNMEM__PROTO_SIZE_HOT_ADD_REGION 24u
#define DYNMEM__PROTO_SIZE_HOT_ADD_RESPONSE 16u
#define DYNMEM__PROTO_SIZE_INFO 16u        /* + the info blob */
#define DYNMEM__PROTO_INFO_RECORD_HEADER 8u /* type u32, data_size u32 */
#define DYNMEM__PROTO_SIZE_HOT_REMOVE_REQUEST 24u
#define DYNMEM__PROTO_SIZE_HOT_REMOVE_RESPONSE 24u /* + 8 per range */
#define DYNMEM__PROTO_RANGE_SIZE 8u

/* Highest wire type value; kept out of the public enum on purpose (no _MAX
 * enumerators in public enums). */
#define DYNMEM__PROTO_TYPE_LAST 14u

/* Smallest struct dynmem_proto_msg any API version had: 1.0's. */
#define DYNMEM__PROTO_MSG_SIZE_MIN 80u

static inline uint16_t dynmem__le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t dynmem__le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t dynmem__le64(const unsigned char *p)
{
    return (uint64_t)dynmem__le32(p) | (uint64_t)dynmem__le32(p + 4) << 32;
}

static inline void dynmem__put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void dynmem__put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void dynmem__put64(unsigned char *p, uint64_t v)
{
    dynmem__put32(p, (uint32_t)v);
    dynmem__put32(p + 4, (uint32_t)(v >> 32));
}

/* Wire range -> range. Every 64-bit value is a valid range. */
static inline struct dynmem_proto_range dynmem__range_unpack(uint64_t packed)
{
    struct dynmem_proto_range r = {packed & DYNMEM_PROTO_RANGE_START_MAX, packed >> 40};
    return r;
}

/* Checks that `version` (0 = any) is known and includes message `type`
 * (which must be <= DYNMEM__PROTO_TYPE_LAST). Returns 0,
 * DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_PROTO_VERSION. Inline: it runs
 * on every message. */
static inline int dynmem__proto_type_allowed(unsigned type, uint32_t version)
{
    uint32_t since = DYNMEM_PROTO_VERSION_WIN7;
    if (type == DYNMEM_PROTO_INFO_MESSAGE)
        since = DYNMEM_PROTO_VERSION_WIN8;
    else if (type >= DYNMEM_PROTO_HOT_REMOVE_REQUEST)
        since = DYNMEM_PROTO_VERSION_WIN10;

    switch (version) {
    case 0:
        return DYNMEM_OK;
    case DYNMEM_PROTO_VERSION_WIN7:
    case DYNMEM_PROTO_VERSION_WIN8:
    case DYNMEM_PROTO_VERSION_WIN10:
        return version >= since ? DYNMEM_OK : DYNMEM_ERR_PROTO_VERSION;
    default:
        return DYNMEM_ERR_INVALID_ARGUMENT;
    }
}

/* The most ranges a ranged message type can carry in 4096 bytes. */
uint32_t dynmem__proto_ranges_max(unsigned type);

#endif
